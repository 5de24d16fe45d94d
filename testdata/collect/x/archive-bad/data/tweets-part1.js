window.YTD.tweets.part1 = [
  {
    "tweet": {
      "edit_info": {
        "initial": {
          "editTweetIds": [
            "2026265852113846288"
          ],
          "editableUntil": "2026-02-24T12:00:00.000Z",
          "editsRemaining": "5",
          "isEditEligible": true
        }
      },
      "retweeted": false,
      "source": "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities": {
        "hashtags": [],
        "symbols": [],
        "user_mentions": [
          {
            "name": "Fire Department",
            "screen_name": "FireDept",
            "indices": [
              "3",
              "12"
            ],
            "id_str": "1200000000000000333",
            "id": "1200000000000000333"
          }
        ],
        "urls": [],
        "media": [
          {
            "expanded_url": "https://x.com/FireDept/status/2026250752619446278/photo/1",
            "indices": [
              "51",
              "74"
            ],
            "url": "https://t.co/fdpic222",
            "media_url": "http://pbs.twimg.com/media/FDalarm.jpg",
            "id_str": "2",
            "id": "2",
            "media_url_https": "https://pbs.twimg.com/media/FDalarm.jpg",
            "source_status_id_str": "2026250752619446278",
            "source_user_id_str": "1200000000000000333",
            "type": "photo",
            "display_url": "pic.x.com/fdpic222"
          }
        ]
      },
      "display_text_range": [
        "0",
        "50"
      ],
      "favorite_count": "3",
      "id_str": "2026265852113846288",
      "truncated": false,
      "retweet_count": "0",
      "id": "2026265852113846288",
      "created_at": "Tue Feb 24 12:00:00 +0000 2026",
      "favorited": false,
      "full_text": "RT @FireDept: Test your smoke alarms this weekend.",
      "lang": "en",
      "extended_entities": {
        "media": [
          {
            "expanded_url": "https://x.com/FireDept/status/2026250752619446278/photo/1",
            "indices": [
              "51",
              "74"
            ],
            "url": "https://t.co/fdpic222",
            "media_url": "http://pbs.twimg.com/media/FDalarm.jpg",
            "id_str": "2",
            "id": "2",
            "media_url_https": "https://pbs.twimg.com/media/FDalarm.jpg",
            "source_status_id_str": "2026250752619446278",
            "source_user_id_str": "1200000000000000333",
            "type": "photo",
            "display_url": "pic.x.com/fdpic222"
          }
        ]
      }
    }
  },
  {
    "tweet": {
      "edit_info": {
        "initial": {
          "editTweetIds": [
            "2021132024017846281"
          ],
          "editableUntil": "2026-02-10T08:00:00.000Z",
          "editsRemaining": "5",
          "isEditEligible": true
        }
      },
      "retweeted": false,
      "source": "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities": {
        "hashtags": [],
        "symbols": [],
        "user_mentions": [
          {
            "name": "Jane",
            "screen_name": "citizen_jane",
            "indices": [
              "0",
              "13"
            ],
            "id_str": "1200000000000000444",
            "id": "1200000000000000444"
          }
        ],
        "urls": []
      },
      "display_text_range": [
        "0",
        "38"
      ],
      "favorite_count": "3",
      "id_str": "2021132024017846281",
      "truncated": false,
      "retweet_count": "0",
      "id": "2021132024017846281",
      "created_at": "Tue Feb 10 08:00:00 +0000 2026",
      "favorited": false,
      "full_text": "@cit