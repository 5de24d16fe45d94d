package x

import (
	"strings"
	"testing"
)

// TestParsePageDrift: fields the parser does not know are ignored, a count
// written as a string is read, an odd tweet is one bad element, and a
// single tweet's "data" object is read as a page of one.
func TestParsePageDrift(t *testing.T) {
	page := `{"data":[
	  {"id":"1","text":"a","created_at":"2026-02-01T10:00:00.000Z","author_id":"9","a_new_field":{"x":[1,2]},"public_metrics":{"like_count":"5","reply_count":2}},
	  {"id":"2","text":"b","created_at":"2026-02-01T10:00:00.000Z","entities":"not an object"},
	  {"text":"no id"},
	  {"id":"4","text":"no time"}
	],"includes":{"users":[{"id":"9","username":"u","verified_type":"none"}],"media":[{"type":"photo"}]},"meta":{"result_count":4,"next_token":"t"},"something_new":true}`
	p, err := ParsePage([]byte(page))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Tweets) != 2 || len(p.Bad) != 3 || p.Meta.NextToken != "t" || p.Users["9"].Username != "u" {
		t.Fatalf("tweets %d bad %v meta %+v", len(p.Tweets), p.Bad, p.Meta)
	}
	bad := ""
	for _, b := range p.Bad {
		bad += b.Pointer + " " + b.Err.Error() + "\n"
	}
	for _, want := range []string{"/data/1 field entities", "/data/2 tweet without an id", "/includes/media/0 missing media_key"} {
		if !strings.Contains(bad, want) {
			t.Errorf("bad elements lack %q:\n%s", want, bad)
		}
	}
	f, err := fromV2(p.Tweets[0], p)
	if err != nil || f.metrics["like_count"] != 5 || f.authorHandle != "u" {
		t.Errorf("drifted tweet: %+v %v", f, err)
	}
	if _, err := fromV2(p.Tweets[1], p); err == nil || !strings.Contains(err.Error(), "created_at") {
		t.Errorf("a tweet without a time: %v", err)
	}
	one, err := ParsePage([]byte(`{"data":{"id":"7","text":"x","created_at":"2026-02-01T10:00:00Z"}}`))
	if err != nil || len(one.Tweets) != 1 || one.Tweets[0].Pointer != "/data" {
		t.Errorf("single tweet: %v %+v", err, one)
	}
	for _, in := range []string{`[]`, `{"foo":1}`, `{"data":"x"}`, `{"data":[`, `{} {}`} {
		if _, err := ParsePage([]byte(in)); err == nil {
			t.Errorf("%s parsed", in)
		}
	}
}
