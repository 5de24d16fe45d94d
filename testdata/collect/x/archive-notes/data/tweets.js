window.YTD.tweets.part0 = [
  {
    "tweet": {
      "retweeted": false,
      "source": "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities": {
        "hashtags": [],
        "symbols": [],
        "user_mentions": [],
        "urls": [
          {
            "url": "https://t.co/note1111",
            "expanded_url": "https://x.com/i/web/status/2024778551915446373",
            "display_url": "x.com/i/web/status/2…",
            "indices": [
              "275",
              "298"
            ]
          }
        ]
      },
      "display_text_range": [
        "0",
        "274"
      ],
      "favorite_count": "12",
      "id_str": "2024778551915446373",
      "truncated": false,
      "retweet_count": "4",
      "id": "2024778551915446373",
      "created_at": "Fri Feb 20 09:30:00 +0000 2026",
      "favorited": false,
      "full_text": "Budget hearing notice: the City Council will hold a public hearing on the proposed 2026-27 operating budget on Tuesday, March 10 at 6pm in Council Chambers, 100 Main St. Residents may speak for up to three minutes each; sign-up opens at 5:30pm at the door. Written comme… https://t.co/note1111",
      "lang": "en"
    }
  },
  {
    "tweet": {
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
        "38"
      ],
      "favorite_count": "1",
      "id_str": "2024778551915446374",
      "truncated": false,
      "retweet_count": "0",
      "id": "2024778551915446374",
      "created_at": "Fri Feb 20 09:30:00 +0000 2026",
      "favorited": false,
      "full_text": "The hearing is open to all residents.",
      "lang": "en"
    }
  },
  {
    "tweet": {
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
        "280"
      ],
      "favorite_count": "7",
      "id_str": "2025208887505846375",
      "truncated": false,
      "retweet_count": "2",
      "id": "2025208887505846375",
      "created_at": "Sat Feb 21 14:00:00 +0000 2026",
      "favorited": false,
      "full_text": "Parks &amp; Recreation summer programs: registration for day camps, swimming lessons and youth sports opens on April 1. Fee assistance is available to every family that asks; no one is turned away for inability to pay. Programs fill quickly, so please register early at the…",
      "lang": "en"
    }
  },
  {
    "tweet": {
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
        "52"
      ],
      "favorite_count": "0",
      "id_str": "2025975186846646377",
      "truncated": false,
      "retweet_count": "0",
      "id": "2025975186846646377",
      "created_at": "Mon Feb 23 16:45:00 +0000 2026",
      "favorited": false,
      "full_text": "Court order: the names in yesterday's notice are sealed.",
      "lang": "en",
      "withheld_in_countries": [
        "FR",
        "DE"
      ],
      "withheld_copyright": false,
      "withheld_scope": "status"
    }
  }
]
