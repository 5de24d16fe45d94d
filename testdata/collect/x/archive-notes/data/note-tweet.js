window.YTD.note_tweet.part0 = [
  {
    "noteTweet" : {
      "noteTweetId" : "2024778551827366400",
      "updatedAt" : "2026-02-20T09:30:00.000Z",
      "lifecycle" : {
        "value" : "1",
        "name" : "Active",
        "originalDescriptor" : {
          "name" : "Active",
          "value" : "1"
        }
      },
      "createdAt" : "2026-02-20T09:30:00.412Z",
      "core" : {
        "styletags" : [ ],
        "urls" : [
          {
            "shortUrl" : "https://t.co/bud22222",
            "expandedUrl" : "https://example.gov/budget/2026-27",
            "displayUrl" : "example.gov/budget/2026-27",
            "fromIndex" : "389",
            "toIndex" : "412"
          }
        ],
        "text" : "Budget hearing notice: the City Council will hold a public hearing on the proposed 2026-27 operating budget on Tuesday, March 10 at 6pm in Council Chambers, 100 Main St. Residents may speak for up to three minutes each; sign-up opens at 5:30pm at the door. Written comments may be sent to the City Clerk by March 9 at @CityClerkOffice. The proposed budget is at https://t.co/bud22222 #Budget",
        "mentions" : [
          {
            "screenName" : "CityClerkOffice",
            "fromIndex" : "346",
            "toIndex" : "362"
          }
        ],
        "cashtags" : [ ],
        "hashtags" : [
          {
            "text" : "Budget",
            "fromIndex" : "413",
            "toIndex" : "420"
          }
        ]
      }
    }
  },
  {
    "noteTweet" : {
      "noteTweetId" : "2025208887380312064",
      "updatedAt" : "2026-02-21T14:00:00.000Z",
      "createdAt" : "2026-02-21T13:59:59.950Z",
      "core" : {
        "styletags" : [ ],
        "urls" : [ ],
        "text" : "Parks &amp; Recreation summer programs: registration for day camps, swimming lessons and youth sports opens on April 1. Fee assistance is available to every family that asks; no one is turned away for inability to pay. Programs fill quickly, so please register early at the recreation centre or by phone. Bonne saison à toutes et à tous !",
        "mentions" : [ ],
        "cashtags" : [ ],
        "hashtags" : [ ]
      }
    }
  },
  {
    "noteTweet" : {
      "noteTweetId" : "2025484453194760192",
      "updatedAt" : "2026-02-22T08:15:00.000Z",
      "createdAt" : "2026-02-22T08:15:00.000Z",
      "core" : {
        "styletags" : [ ],
        "urls" : [ ],
        "text" : "A long post whose tweet the archive does not hold: osmarc keeps the note byte for byte and says that no item carries it.",
        "mentions" : [ ],
        "cashtags" : [ ],
        "hashtags" : [ ]
      }
    }
  }
]
