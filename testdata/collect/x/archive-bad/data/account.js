window.YTD.account.part0 = [
  {
    "account": {
      "username": "CityOfExample",
      "accountId": "1100000000000000042"
    }
  }
]