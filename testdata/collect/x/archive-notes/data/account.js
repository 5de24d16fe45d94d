window.YTD.account.part0 = [
  {
    "account": {
      "email": "social@example.gov",
      "createdVia": "web",
      "username": "CityOfExample",
      "accountId": "1100000000000000042",
      "createdAt": "2012-03-01T12:00:00.000Z",
      "accountDisplayName": "City of Example"
    }
  }
]