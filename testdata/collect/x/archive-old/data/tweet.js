window.YTD.tweet.part0 = [
  {
    "retweeted": false,
    "id": 2011770337489846280,
    "id_str": "2011770337489846280",
    "created_at": "Thu Jan 15 12:00:00 +0000 2026",
    "full_text": "Happy new year from City Hall!",
    "favorite_count": 30,
    "retweet_count": 1,
    "lang": "en",
    "entities": {
      "hashtags": [],
      "user_mentions": [],
      "urls": []
    },
    "a_field_from_the_future": {
      "x": 1
    }
  },
  {
    "id_str": "2021132024017846281",
    "created_at": "Tue Feb 10 08:00:00 +0000 2026",
    "full_text": "@citizen_jane Thanks, crews are on it.",
    "in_reply_to_status_id": 2021116924523446289,
    "entities": {
      "user_mentions": [
        {
          "screen_name": "citizen_jane"
        }
      ]
    },
    "lang": "en"
  },
  {
    "id_str": "1",
    "created_at": "Tue Mar 21 20:50:14 +0000 2006",
    "text": "just setting up my twttr",
    "source": "web"
  }
]