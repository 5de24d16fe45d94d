package x

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/osmarc/osmarc/archive/collect"
)

const (
	idLong1 = "2024778551915446373" // a long post, cut short in tweets.js
	idShort = "2024778551915446374" // a short tweet made the same second
	idLong2 = "2025208887505846375" // a long post with &amp; and French
	idHeld  = "2025975186846646377" // withheld in two countries
)

const budgetText = "Budget hearing notice: the City Council will hold a public hearing on the proposed 2026-27 operating budget on Tuesday, March 10 at 6pm in Council Chambers, 100 Main St. Residents may speak for up to three minutes each; sign-up opens at 5:30pm at the door. Written comments may be sent to the City Clerk by March 9 at @CityClerkOffice. The proposed budget is at https://t.co/bud22222 #Budget"

// TestArchiveNoteTweets: a long post's whole text, links, hashtags and
// mentions come from note-tweet.js, joined by time and text; a short
// tweet of the same second keeps its own; a note no tweet takes is
// reported; note-tweet.js is kept byte for byte.
func TestArchiveNoteTweets(t *testing.T) {
	for name, src := range map[string]collect.Source{
		"folder": folderSource(t, "archive-notes"),
		"zip":    zipSource(t, "archive-notes"),
	} {
		t.Run(name, func(t *testing.T) {
			sink := importInto(t, fixedImporter(), src)
			checkRaw(t, sink)
			if len(sink.Items) != 4 {
				t.Fatalf("%d items, want 4", len(sink.Items))
			}
			long := sink.Item(idLong1)
			if long.Text != budgetText {
				t.Errorf("long post text %q, want the note's", long.Text)
			}
			if !slices.Equal(long.Links, []string{"https://example.gov/budget/2026-27"}) || !slices.Equal(long.Hashtags, []string{"Budget"}) || !slices.Equal(long.Mentions, []string{"CityClerkOffice"}) {
				t.Errorf("long post entities: links %v hashtags %v mentions %v", long.Links, long.Hashtags, long.Mentions)
			}
			if short := sink.Item(idShort); short.Text != "The hearing is open to all residents." {
				t.Errorf("the short tweet of the same second took a note: %q", short.Text)
			}
			// Its note is stamped in the second before the tweet.
			long2 := sink.Item(idLong2)
			if !strings.HasPrefix(long2.Text, "Parks & Recreation") || !strings.HasSuffix(long2.Text, "Bonne saison à toutes et à tous !") {
				t.Errorf("second long post %q", long2.Text)
			}
			// The one note no tweet takes is reported with its file and line.
			if len(sink.Bads) != 1 {
				t.Fatalf("bad:\n%s", badText(sink))
			}
			b := sink.Bads[0]
			if !strings.HasSuffix(b.Source, "data/note-tweet.js") || b.Line != 60 || !strings.Contains(b.Error(), "2025484453194760192") || !strings.Contains(b.Error(), "matches no tweet") {
				t.Errorf("unjoined note reported as %q (source %s line %d)", b.Error(), b.Source, b.Line)
			}
			file := readFixture(t, "archive-notes", "data", "note-tweet.js")
			kept := false
			for _, raw := range sink.Raws {
				inner := bytes.TrimSuffix(bytes.TrimPrefix(raw, []byte("[")), []byte("]"))
				if bytes.Contains(raw, []byte("noteTweetId")) {
					kept = bytes.Contains(file, inner) && bytes.Contains(inner, []byte("2025484453194760192"))
				}
			}
			if !kept {
				t.Error("note-tweet.js is not kept byte for byte with the capture")
			}
		})
	}
}

// TestNoteTweetSameVersionAsAPI: the API's note_tweet and the archive's
// note-tweet.js make the same version of a long post.
func TestNoteTweetSameVersionAsAPI(t *testing.T) {
	v2 := `{"id":"2024778551915446373","edit_history_tweet_ids":["2024778551915446373"],
	  "author_id":"1100000000000000042","created_at":"2026-02-20T09:30:00.000Z","lang":"en",
	  "text":"Budget hearing notice: the City Council will hold a public hearing on the proposed 2026-27 operating budget on Tuesday, March 10 at 6pm in Council Chambers, 100 Main St. Residents may speak for up to three minutes each; sign-up opens at 5:30pm at the door. Written comme… https://t.co/note1111",
	  "entities":{"urls":[{"start":275,"end":298,"url":"https://t.co/note1111","expanded_url":"https://x.com/i/web/status/2024778551915446373"}]},
	  "note_tweet":{"text":` + jsonString(budgetText) + `,
	    "entities":{"urls":[{"start":389,"end":412,"url":"https://t.co/bud22222","expanded_url":"https://example.gov/budget/2026-27"}],
	      "hashtags":[{"start":413,"end":420,"tag":"Budget"}],"mentions":[{"start":346,"end":362,"username":"CityClerkOffice","id":"1200000000000000777"}]}}}`
	var tw Tweet
	if err := json.Unmarshal([]byte(v2), &tw); err != nil {
		t.Fatal(err)
	}
	f, err := fromV2(&tw, &Page{Users: map[string]User{fxUserID: {ID: fxUserID, Username: fxHandle}}})
	if err != nil {
		t.Fatal(err)
	}
	api := f.item(fxHandle, true)
	sink := importInto(t, fixedImporter(), folderSource(t, "archive-notes"))
	ca, _ := api.CanonicalJSON()
	cb, _ := sink.Item(idLong1).CanonicalJSON()
	if !bytes.Equal(ca, cb) {
		t.Errorf("API and archive differ:\n%s\n%s", ca, cb)
	}
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func TestJoinKey(t *testing.T) {
	for _, c := range []struct {
		in, want string
		cut      bool
	}{
		{"Budget hearing… https://t.co/x1", "Budget hearing", true},
		{"Parks &amp; Rec at the…", "Parks & Rec at the", true},
		{"Plain  text\nover lines", "Plain text over lines", false},
		{"Three dots... https://t.co/a https://t.co/b", "Three dots", true},
	} {
		if got := joinKey(c.in); got != c.want {
			t.Errorf("joinKey(%q) = %q, want %q", c.in, got, c.want)
		}
		if got := looksCut(c.in); got != c.cut {
			t.Errorf("looksCut(%q) = %v", c.in, got)
		}
	}
}

// TestWithheldSameVersionAsAPI: a tweet X withholds says so (its
// visibility names the countries), the same from the archive's
// withheld_in_countries and the API's withheld.
func TestWithheldSameVersionAsAPI(t *testing.T) {
	sink := importInto(t, fixedImporter(), folderSource(t, "archive-notes"))
	held := sink.Item(idHeld)
	if held == nil || held.Visibility != "withheld in DE, FR" || held.Text != "Court order: the names in yesterday's notice are sealed." {
		t.Fatalf("withheld tweet %+v", held)
	}
	if other := sink.Item(idShort); other.Visibility != "" {
		t.Errorf("a tweet not withheld has visibility %q", other.Visibility)
	}
	var tw Tweet
	v2 := `{"id":"2025975186846646377","edit_history_tweet_ids":["2025975186846646377"],"author_id":"1100000000000000042",
	  "created_at":"2026-02-23T16:45:00.000Z","lang":"en","text":"Court order: the names in yesterday's notice are sealed.",
	  "withheld":{"copyright":false,"country_codes":["DE","FR"],"scope":"tweet"}}`
	if err := json.Unmarshal([]byte(v2), &tw); err != nil {
		t.Fatal(err)
	}
	f, err := fromV2(&tw, &Page{Users: map[string]User{fxUserID: {ID: fxUserID, Username: fxHandle}}})
	if err != nil {
		t.Fatal(err)
	}
	api := f.item(fxHandle, true)
	ca, _ := api.CanonicalJSON()
	cb, _ := held.CanonicalJSON()
	if !bytes.Equal(ca, cb) {
		t.Errorf("API and archive differ:\n%s\n%s", ca, cb)
	}
	if got := withheldVisibility(true, []string{"US", "", "US"}); got != "withheld in US; withheld (copyright)" {
		t.Errorf("withheldVisibility = %q", got)
	}
}

// TestImportLeavesNoTemporaryFiles: the notes and the held edits wait in
// temporary files, which the import removes.
func TestImportLeavesNoTemporaryFiles(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	for _, fx := range []string{"archive", "archive-notes"} {
		sink := importInto(t, fixedImporter(), folderSource(t, fx))
		if len(sink.Items) == 0 {
			t.Fatalf("%s: nothing imported", fx)
		}
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("left behind: %v", left)
	}
}

// FuzzNoteTweets: whatever note-tweet.js holds, the import neither fails
// nor panics, and the tweets beside it are all recorded.
func FuzzNoteTweets(f *testing.F) {
	f.Add(readFixture(f, "archive-notes", "data", "note-tweet.js"))
	f.Add([]byte(`window.YTD.note_tweet.part0 = [ {"noteTweet": {"noteTweetId": 1, "createdAt": "x", "core": {"text": 5}}}, {} ]`))
	f.Add([]byte(`window.YTD.note_tweet.part0 = [ {"noteTweet": {"createdAt": "2026-02-20T09:30:00.000Z", "core": {"text": "The hearing is open to all residents. More"}}} ]`))
	tweets := readFixture(f, "archive-notes", "data", "tweets.js")
	f.Fuzz(func(t *testing.T, notes []byte) {
		src := collect.Source{Name: "fuzz", FS: fstest.MapFS{
			"data/tweets.js":     {Data: tweets},
			"data/note-tweet.js": {Data: notes},
		}, Path: "."}
		sink := collect.NewMemorySink()
		if err := fixedImporter().Import(context.Background(), src, fxImportAccount(), sink); err != nil {
			t.Fatal(err)
		}
		if len(sink.Items) != 4 {
			t.Fatalf("%d items, want the 4 tweets", len(sink.Items))
		}
	})
}
