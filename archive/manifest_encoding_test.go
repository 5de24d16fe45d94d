package archive

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

// A manifest line is written as encoding/json writes it (go-json-experiment
// does the work, faster): the same bytes for every kind of line, HTML
// characters, raw metrics and state compacted, times and digests included.
func TestManifestLinesAreEncodingJSONs(t *testing.T) {
	rm := time.Date(2024, 1, 2, 3, 4, 5, 6, time.UTC)
	d := Sum([]byte("x"))
	vals := []any{
		ManifestHeader{ID: "id<&>", Collector: "c", StartedAt: time.Now(), Sources: []string{"a<b>", "é\u2028"}},
		ManifestItem{Key: "k", Platform: "x", Account: "a", ID: "1", Kind: "post", CreatedAt: time.Now(), Version: d, Size: 3, Raw: &d, RawLine: 2, SeenAt: time.Now(), Metrics: json.RawMessage(`{ "likes" : 1 }`), RemovedAt: &rm, Media: []Digest{d}},
		ManifestBlob{Digest: d, Size: 1, Role: "raw", Source: "s&t", MediaType: "text/html"},
		ManifestFooter{EndedAt: time.Now(), Accounts: []string{"x/a"}, NewVersions: 2, State: json.RawMessage(`{"since_id": "9" }`), Scope: &Scope{Account: "x/a", Kinds: []string{"post"}}},
	}
	for _, v := range vals {
		var a bytes.Buffer
		e := json.NewEncoder(&a)
		e.SetEscapeHTML(false)
		e.Encode(v)
		var b bytes.Buffer
		m := newManifestWriter(&b)
		m.line(v)
		m.w.Flush()
		if a.String() != b.String() || m.err != nil {
			t.Errorf("encoding/json: %s\nmanifest:     %s (%v)", a.String(), b.String(), m.err)
		}
	}
}
