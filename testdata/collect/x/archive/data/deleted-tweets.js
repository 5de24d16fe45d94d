window.YTD.deleted_tweets.part0 = [
  {
    "tweet": {
      "edit_info": {
        "initial": {
          "editTweetIds": [
            "1995432684549046273"
          ],
          "editableUntil": "2025-12-01T10:00:00.000Z",
          "editsRemaining": "5",
          "isEditEligible": true
        }
      },
      "retweeted": false,
      "source": "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities": {
        "hashtags": [],
        "symbols": [],
        "user_mentions": [],
        "urls": []
      },
      "display_text_range": [
        "0",
        "42"
      ],
      "favorite_count": "3",
      "id_str": "1995432684549046273",
      "truncated": false,
      "retweet_count": "0",
      "id": "1995432684549046273",
      "created_at": "Mon Dec 01 10:00:00 +0000 2025",
      "favorited": false,
      "full_text": "Ignore the previous notice, sent in error.",
      "lang": "en",
      "deleted_at": "2025-12-01T11:00:00.000Z"
    }
  },
  {
    "tweet": {
      "edit_info": {
        "initial": {
          "editTweetIds": [
            "1989634478699446274"
          ],
          "editableUntil": "2025-11-15T10:00:00.000Z",
          "editsRemaining": "5",
          "isEditEligible": true
        }
      },
      "retweeted": false,
      "source": "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities": {
        "hashtags": [],
        "symbols": [],
        "user_mentions": [],
        "urls": []
      },
      "display_text_range": [
        "0",
        "16"
      ],
      "favorite_count": "3",
      "id_str": "1989634478699446274",
      "truncated": false,
      "retweet_count": "0",
      "id": "1989634478699446274",
      "created_at": "Sat Nov 15 10:00:00 +0000 2025",
      "favorited": false,
      "full_text": "Draft: test post",
      "lang": "en"
    }
  }
]