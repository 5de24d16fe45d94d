window.YTD.tweets.part0 = [
  {
    "tweet": {
      "edit_info": {
        "initial": {
          "editTweetIds": [
            "2027398314193846282"
          ],
          "editableUntil": "2026-02-27T15:00:00.000Z",
          "editsRemaining": "5",
          "isEditEligible": true
        }
      },
      "retweeted": false,
      "source": "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities": {
        "hashtags": [
          {
            "text": "Roads",
            "indices": [
              "90",
              "96"
            ]
          }
        ],
        "symbols": [],
        "user_mentions": [
          {
            "name": "Transit",
            "screen_name": "TransitAuthority",
            "indices": [
              "97",
              "114"
            ],
            "id_str": "1200000000000000555",
            "id": "1200000000000000555"
          }
        ],
        "urls": [
          {
            "url": "https://t.co/aaaa1111",
            "expanded_url": "https://example.gov/closures/main-5th",
            "display_url": "example.gov/closures/main-5th",
            "indices": [
              "66",
              "89"
            ]
          }
        ],
        "media": [
          {
            "expanded_url": "https://x.com/CityOfExample/status/2027398314193846282/photo/1",
            "indices": [
              "125",
              "148"
            ],
            "url": "https://t.co/pic11111",
            "media_url": "http://pbs.twimg.com/media/P1photo.jpg",
            "id_str": "1",
            "id": "1",
            "media_url_https": "https://pbs.twimg.com/media/P1photo.jpg",
            "sizes": {
              "large": {
                "w": "1024",
                "h": "768",
                "resize": "fit"
              }
            },
            "type": "photo",
            "display_url": "pic.x.com/pic11111",
            "ext_alt_text": "Map of the closure"
          }
        ]
      },
      "display_text_range": [
        "0",
        "133"
      ],
      "favorite_count": "3",
      "id_str": "2027398314193846282",
      "truncated": false,
      "retweet_count": "0",
      "id": "2027398314193846282",
      "created_at": "Fri Feb 27 15:00:00 +0000 2026",
      "favorited": false,
      "full_text": "Road closure on Main St &amp; 5th Ave tonight from 8pm. Details: https://t.co/aaaa1111 #Roads @TransitAuthority https://t.co/pic11111",
      "lang": "en",
      "extended_entities": {
        "media": [
          {
            "expanded_url": "https://x.com/CityOfExample/status/2027398314193846282/photo/1",
            "indices": [
              "125",
              "148"
            ],
            "url": "https://t.co/pic11111",
            "media_url": "http://pbs.twimg.com/media/P1photo.jpg",
            "id_str": "1",
            "id": "1",
            "media_url_https": "https://pbs.twimg.com/media/P1photo.jpg",
            "sizes": {
              "large": {
                "w": "1024",
                "h": "768",
                "resize": "fit"
              }
            },
            "type": "photo",
            "display_url": "pic.x.com/pic11111",
            "ext_alt_text": "Map of the closure"
          }
        ]
      }
    }
  },
  {
    "tweet": {
      "edit_info": {
        "edit": {
          "initialTweetId": "2026960428856246275",
          "editControlInitial": {
            "editTweetIds": [
              "2026960428856246275",
              "2026962945438646276"
            ],
            "editableUntil": "2026-02-26T10:00:00.000Z",
            "editsRemaining": "4",
            "isEditEligible": true
          }
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
        "41"
      ],
      "favorite_count": "3",
      "id_str": "2026962945438646276",
      "truncated": false,
      "retweet_count": "0",
      "id": "2026962945438646276",
      "created_at": "Thu Feb 26 10:10:00 +0000 2026",
      "favorited": false,
      "full_text": "Council meeting moved to Thursday at 7pm.",
      "lang": "en"
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
            "display_url": "x.com/FireDept/statu…",
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
  },
  {
    "tweet": {
      "edit_info": {
        "initial": {
          "editTweetIds": [
            "2026960428856246275",
            "2026962945438646276"
          ],
          "editableUntil": "2026-02-26T10:00:00.000Z",
          "editsRemaining": "4",
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
        "34"
      ],
      "favorite_count": "3",
      "id_str": "2026960428856246275",
      "truncated": false,
      "retweet_count": "0",
      "id": "2026960428856246275",
      "created_at": "Thu Feb 26 10:00:00 +0000 2026",
      "favorited": false,
      "full_text": "Council meeting moved to Thursday.",
      "lang": "en"
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
      "full_text": "@citizen_jane Thanks, crews are on it.",
      "lang": "en",
      "in_reply_to_status_id_str": "2021116924523446289",
      "in_reply_to_status_id": "2021116924523446289",
      "in_reply_to_user_id": "1200000000000000444",
      "in_reply_to_user_id_str": "1200000000000000444",
      "in_reply_to_screen_name": "citizen_jane"
    }
  }
]