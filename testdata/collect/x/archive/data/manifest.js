window.__THAR_CONFIG = {
  "userInfo": {
    "accountId": "1100000000000000042",
    "userName": "CityOfExample",
    "displayName": "City of Example"
  },
  "archiveInfo": {
    "sizeBytes": "12345",
    "generationDate": "2026-03-01T06:00:00.000Z",
    "isPartialArchive": false,
    "maxPartSizeBytes": "53250000"
  },
  "readmeInfo": {
    "fileName": "data/README.txt",
    "directory": "data/",
    "name": "README.txt"
  },
  "dataTypes": {
    "tweets": {
      "mediaDirectory": "data/tweets_media",
      "files": [
        {
          "fileName": "data/tweets.js",
          "globalName": "YTD.tweets.part0",
          "count": "5"
        },
        {
          "fileName": "data/tweets-part1.js",
          "globalName": "YTD.tweets.part1",
          "count": "2"
        }
      ]
    },
    "deletedTweets": {
      "mediaDirectory": "data/deleted_tweets_media",
      "files": [
        {
          "fileName": "data/deleted-tweets.js",
          "globalName": "YTD.deleted_tweets.part0",
          "count": "2"
        }
      ]
    }
  }
}