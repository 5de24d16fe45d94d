window.YTD.tweets.part0 = [
  {
  "tweet": {
    "edit_info": {
      "initial": {
        "editTweetIds": [
          "2011770337489846280"
        ],
        "editableUntil": "2026-01-15T12:00:00.000Z",
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
      "30"
    ],
    "favorite_count": "3",
    "id_str": "2011770337489846280",
    "truncated": false,
    "retweet_count": "0",
    "id": "2011770337489846280",
    "created_at": "Thu Jan 15 12:00:00 +0000 2026",
    "favorited": false,
    "full_text": "Happy new year from City Hall!",
    "lang": "en"
  }
},
  {
    "tweet" : {
      "id_str" : "5",
      "full_text" : "missing comma"
      "created_at" : "Wed Oct 10 20:19:24 +0000 2018"
    }
  },
  {
    "tweet" : {
      "id_str" : "6",
      "full_text" : "no time"
    }
  },
  {
  "tweet": {
    "edit_info": {
      "initial": {
        "editTweetIds": [
          "2026582941496246283"
        ],
        "editableUntil": "2026-02-25T09:00:00.000Z",
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
      "urls": [
        {
          "url": "https://t.co/qqqq2222",
          "expanded_url": "https://x.com/FireDept/status/2026567842001846277",
          "display_url": "x.com/FireDept/statu\u2026",
          "indices": [
            "37",
            "60"
          ]
        }
      ]
    },
    "display_text_range": [
      "0",
      "58"
    ],
    "favorite_count": "3",
    "id_str": "2026582941496246283",
    "truncated": false,
    "retweet_count": "0",
    "id": "2026582941496246283",
    "created_at": "Wed Feb 25 09:00:00 +0000 2026",
    "favorited": false,
    "full_text": "Good advice from our fire department https://t.co/qqqq2222",
    "lang": "en"
  }
}
]