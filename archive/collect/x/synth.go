package x

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// SyntheticHandle and SyntheticUserID are the account of the synthetic
// archive.
const (
	SyntheticHandle = "SyntheticDept"
	SyntheticUserID = "1234567890"
)

var synthWords = strings.Fields(`the city council road closure update public notice meeting tonight
winter storm advisory shelter open residents please avoid downtown traffic bridge repair
schedule change budget hearing comments welcome thank you volunteers park library hours
recycling pickup delayed holiday water main break crews on site power outage restored
vaccination clinic free parking permit deadline extended election polling station
emergency alert drill test siren fire department reminder safety tips community event`)

var synthTags = []string{"PublicNotice", "Roads", "Weather", "CityCouncil", "Safety", "Community"}
var synthUsers = []string{"MayorOffice", "TransitAuthority", "FireDept", "citizen_jane", "localnews"}

// Vocabulary is how the words of a synthetic archive's tweets are drawn.
type Vocabulary int

const (
	// SmallVocabulary draws every word evenly from the 69 words of a
	// city's notices (synthWords): every word, and every pair of words,
	// recurs throughout the archive.
	SmallVocabulary Vocabulary = iota
	// ZipfVocabulary draws words by Zipf's law (exponent 1.1) from 50,000
	// made-up words of 3 to 9 letters, as the words of real text are
	// distributed: a few words are most of the text, and most pairs of
	// adjacent words occur once. Indexing such text costs about twice as
	// much as the small vocabulary's (the search index has a term for
	// each distinct pair).
	ZipfVocabulary
)

// WriteSyntheticTweetsJS writes a data/tweets.js of n tweets in the layout
// of current X archives, reproducible from seed: mixed lengths, hashtags,
// mentions, links, escaped text, replies, a photo on some, counts as
// strings, and an edited tweet (two versions) in every hundred. Their
// words are from the small vocabulary. It returns the bytes written.
func WriteSyntheticTweetsJS(w io.Writer, n int, seed uint64) (int64, error) {
	return WriteSyntheticTweetsJSWith(w, n, seed, SmallVocabulary)
}

// WriteSyntheticTweetsJSWith is WriteSyntheticTweetsJS with words drawn
// from vocab. The benchmark of "import a 100k-tweet X archive" uses both
// vocabularies.
func WriteSyntheticTweetsJSWith(w io.Writer, n int, seed uint64, vocab Vocabulary) (int64, error) {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	word := func() string { return synthWords[rng.IntN(len(synthWords))] }
	if vocab == ZipfVocabulary {
		words := madeUpWords(rng, 50000)
		z := rand.NewZipf(rng, 1.1, 2, uint64(len(words)-1))
		word = func() string { return words[z.Uint64()] }
	}
	cw := &countWriter{w: bufio.NewWriterSize(w, 1<<20)}
	io.WriteString(cw, "window.YTD.tweets.part0 = [")
	t := time.Date(2025, 6, 30, 12, 0, 0, 0, time.UTC)
	written := 0
	for i := 0; written < n; i++ {
		t = t.Add(-time.Duration(1+rng.IntN(180)) * time.Minute)
		id := snowflakeID(t, uint64(i))
		edited := i%100 == 99 && written+2 <= n
		var editID string
		if edited {
			editID = snowflakeID(t.Add(time.Duration(1+rng.IntN(25))*time.Minute), uint64(i))
		}
		text, ents := synthText(rng, word)
		for v := 0; v < 1 || (edited && v < 2); v++ {
			tw := map[string]any{
				"retweeted":          false,
				"source":             `<a href="https://mobile.twitter.com" rel="nofollow">Twitter Web App</a>`,
				"entities":           ents,
				"display_text_range": []string{"0", strconv.Itoa(len([]rune(text)))},
				"favorite_count":     strconv.Itoa(rng.IntN(500)),
				"retweet_count":      strconv.Itoa(rng.IntN(80)),
				"id_str":             id,
				"id":                 id,
				"truncated":          false,
				"created_at":         t.Format(time.RubyDate),
				"favorited":          false,
				"full_text":          text,
				"lang":               "en",
			}
			switch {
			case edited && v == 0:
				tw["edit_info"] = map[string]any{"initial": map[string]any{"editTweetIds": []string{id, editID}, "editableUntil": t.Add(time.Hour).Format("2006-01-02T15:04:05.000Z"), "editsRemaining": "4", "isEditEligible": true}}
			case edited && v == 1:
				et, _ := snowflakeTime(editID)
				tw["id_str"], tw["id"], tw["created_at"] = editID, editID, et.Format(time.RubyDate)
				tw["full_text"] = text + " (corrected)"
				tw["edit_info"] = map[string]any{"edit": map[string]any{"initialTweetId": id, "editControlInitial": map[string]any{"editTweetIds": []string{id, editID}, "editableUntil": t.Add(time.Hour).Format("2006-01-02T15:04:05.000Z"), "editsRemaining": "4", "isEditEligible": true}}}
			default:
				tw["edit_info"] = map[string]any{"initial": map[string]any{"editTweetIds": []string{id}, "editableUntil": t.Add(time.Hour).Format("2006-01-02T15:04:05.000Z"), "editsRemaining": "5", "isEditEligible": true}}
			}
			if rng.IntN(5) == 0 {
				parent := snowflakeID(t.Add(-time.Duration(1+rng.IntN(600))*time.Minute), 7)
				tw["in_reply_to_status_id_str"], tw["in_reply_to_status_id"] = parent, parent
				tw["in_reply_to_user_id_str"], tw["in_reply_to_screen_name"] = "99887766", synthUsers[rng.IntN(len(synthUsers))]
			}
			if rng.IntN(8) == 0 {
				mk := fmt.Sprintf("F%010d", rng.IntN(1e9))
				m := map[string]any{"media_url_https": "https://pbs.twimg.com/media/" + mk + ".jpg", "media_url": "http://pbs.twimg.com/media/" + mk + ".jpg", "type": "photo", "id_str": id, "indices": []string{"0", "0"}, "url": "https://t.co/abc", "expanded_url": "https://x.com/" + SyntheticHandle + "/status/" + id + "/photo/1"}
				tw["extended_entities"] = map[string]any{"media": []any{m}}
			}
			b, err := json.MarshalIndent(map[string]any{"tweet": tw}, "  ", "  ")
			if err != nil {
				return cw.n, err
			}
			if written > 0 {
				io.WriteString(cw, ",")
			}
			io.WriteString(cw, "\n  ")
			cw.Write(b)
			written++
		}
	}
	io.WriteString(cw, "\n]")
	if err := cw.w.(*bufio.Writer).Flush(); err != nil {
		return cw.n, err
	}
	return cw.n, cw.err
}

func synthText(rng *rand.Rand, word func() string) (string, map[string]any) {
	var b strings.Builder
	ents := map[string]any{"hashtags": []any{}, "symbols": []any{}, "user_mentions": []any{}, "urls": []any{}}
	words := 8 + rng.IntN(35)
	for i := 0; i < words; i++ {
		if i > 0 {
			b.WriteByte(' ')
		}
		switch r := rng.IntN(40); {
		case r == 0:
			u := synthUsers[rng.IntN(len(synthUsers))]
			b.WriteString("@" + u)
			ents["user_mentions"] = append(ents["user_mentions"].([]any), map[string]any{"name": u, "screen_name": u, "indices": []string{"0", "0"}, "id_str": "42", "id": "42"})
		case r == 1:
			tag := synthTags[rng.IntN(len(synthTags))]
			b.WriteString("#" + tag)
			ents["hashtags"] = append(ents["hashtags"].([]any), map[string]any{"text": tag, "indices": []string{"0", "0"}})
		case r == 2:
			b.WriteString("&amp;")
		case r == 3:
			tco := fmt.Sprintf("https://t.co/%08x", rng.Uint32())
			b.WriteString(tco)
			ents["urls"] = append(ents["urls"].([]any), map[string]any{"url": tco, "expanded_url": fmt.Sprintf("https://example.gov/notices/%d", rng.IntN(1e6)), "display_url": "example.gov/notices/…", "indices": []string{"0", "0"}})
		default:
			b.WriteString(word())
		}
	}
	return b.String(), ents
}

// madeUpWords are n words of 3 to 9 random lower-case letters.
func madeUpWords(rng *rand.Rand, n int) []string {
	words := make([]string, n)
	var b []byte
	for i := range words {
		b = b[:0]
		for range 3 + rng.IntN(7) {
			b = append(b, byte('a'+rng.IntN(26)))
		}
		words[i] = string(b)
	}
	return words
}

type countWriter struct {
	w   io.Writer
	n   int64
	err error
}

func (c *countWriter) Write(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.w.Write(p)
	c.n += int64(n)
	c.err = err
	return n, err
}

// WriteSyntheticArchive writes an unpacked synthetic account archive of n
// tweets under dir (dir/data/tweets.js, account.js, manifest.js), ready
// for the x-archive importer, its words from the small vocabulary. It
// returns the size of tweets.js.
func WriteSyntheticArchive(dir string, n int, seed uint64) (int64, error) {
	return WriteSyntheticArchiveWith(dir, n, seed, SmallVocabulary)
}

// WriteSyntheticArchiveWith is WriteSyntheticArchive with words drawn from
// vocab.
func WriteSyntheticArchiveWith(dir string, n int, seed uint64, vocab Vocabulary) (int64, error) {
	data := filepath.Join(dir, "data")
	if err := os.MkdirAll(data, 0o755); err != nil {
		return 0, err
	}
	f, err := os.Create(filepath.Join(data, "tweets.js"))
	if err != nil {
		return 0, err
	}
	size, err := WriteSyntheticTweetsJSWith(f, n, seed, vocab)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return size, err
	}
	account := `window.YTD.account.part0 = [
  {
    "account" : {
      "email" : "social@example.gov",
      "createdVia" : "web",
      "username" : "` + SyntheticHandle + `",
      "accountId" : "` + SyntheticUserID + `",
      "createdAt" : "2012-03-01T12:00:00.000Z",
      "accountDisplayName" : "Synthetic Department"
    }
  }
]`
	if err := os.WriteFile(filepath.Join(data, "account.js"), []byte(account), 0o644); err != nil {
		return size, err
	}
	manifest := `window.__THAR_CONFIG = {
  "userInfo" : {
    "accountId" : "` + SyntheticUserID + `",
    "userName" : "` + SyntheticHandle + `",
    "displayName" : "Synthetic Department"
  },
  "archiveInfo" : {
    "sizeBytes" : "` + strconv.FormatInt(size, 10) + `",
    "generationDate" : "2025-07-01T00:00:00.000Z",
    "isPartialArchive" : false,
    "maxPartSizeBytes" : "53250000"
  },
  "dataTypes" : {
    "tweets" : {
      "mediaDirectory" : "data/tweets_media",
      "files" : [
        {
          "fileName" : "data/tweets.js",
          "globalName" : "YTD.tweets.part0",
          "count" : "` + strconv.Itoa(n) + `"
        }
      ]
    }
  }
}`
	return size, os.WriteFile(filepath.Join(data, "manifest.js"), []byte(manifest), 0o644)
}
