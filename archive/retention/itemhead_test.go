package retention

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/osmarc/osmarc/archive/catalog"
)

func FuzzDecodeItemHead(f *testing.F) {
	it := catalog.Item{Key: "facebook/3rd-brigade/1", Platform: "facebook", Account: "3rd-brigade", ID: "1", Kind: "comment",
		CreatedAt: time.Date(2019, 5, 3, 10, 11, 12, 0, time.UTC), Versions: []catalog.Version{{Digest: "ab", Size: 3}}}
	b, _ := json.Marshal(it)
	f.Add(b)
	it.CreatedAt = time.Date(2024, 2, 29, 23, 59, 59, 123456789, time.FixedZone("x", -5*3600))
	it.Account, it.Key = `a"b\c`, "facebook/a%22b%5Cc/1"
	b, _ = json.Marshal(it)
	f.Add(b)
	f.Add([]byte(`{"key":"k","platform":"p","account":"a","id":"i","kind":"k","created_at":"2019-01-01T00:00:00Z","key":"other"}`))
	f.Add([]byte(`{"key":"k","platform":"p","account":"é","id":"i","kind":"k","created_at":"2019-01-01T00:00:00Z"}`))
	f.Add([]byte(`{"key":"k","platform":"p","account":"a","id":"i","kind":"k","created_at":"not a time"}`))
	f.Add([]byte(`not json`))
	f.Fuzz(func(t *testing.T, v []byte) {
		if !json.Valid(v) {
			return // the catalog writes valid JSON; verify checks it
		}
		var fast itemHead
		fastErr := decodeItemHead(v, &fast)
		var slow itemHead
		slowErr := json.Unmarshal(v, &slow)
		if (fastErr == nil) != (slowErr == nil) {
			t.Fatalf("%q: fast %v, encoding/json %v", v, fastErr, slowErr)
		}
		if fastErr == nil && (fast.Key != slow.Key || fast.Platform != slow.Platform || fast.Account != slow.Account || !fast.CreatedAt.Equal(slow.CreatedAt)) {
			t.Fatalf("%q: fast %+v, encoding/json %+v", v, fast, slow)
		}
	})
}

func BenchmarkDecodeItemHead(b *testing.B) {
	it := catalog.Item{Key: "facebook/3rd-brigade/1000123", Platform: "facebook", Account: "3rd-brigade", ID: "1000123", Kind: "comment",
		CreatedAt: time.Date(2019, 5, 3, 10, 11, 12, 0, time.UTC), FirstSeen: time.Now(), LastSeen: time.Now(),
		Versions: []catalog.Version{{Digest: "70cab51f3fc553f7bb762ec19784fe1ba05a81b79a4e6c3792ab1e6d361566ff", Size: 312, CapturedAt: time.Now(), Capture: "20261122T013000.123Z-459ba98a8608"}}}
	v, _ := json.Marshal(it)
	for b.Loop() {
		var h itemHead
		if err := decodeItemHead(v, &h); err != nil {
			b.Fatal(err)
		}
	}
}

// The catalog's own records take the fast path.
func TestCatalogRecordsTakeTheFastPath(t *testing.T) {
	it := catalog.Item{Key: "facebook/3rd-brigade/1000123", Platform: "facebook", Account: "3rd-brigade", ID: "1000123", Kind: "comment",
		CreatedAt: time.Date(2019, 5, 3, 10, 11, 12, 0, time.UTC), FirstSeen: time.Now(), LastSeen: time.Now(),
		Versions: []catalog.Version{{Digest: "70cab51f", Size: 312, CapturedAt: time.Now(), Capture: "c"}}, SeenBy: []string{"ingest"}}
	v, _ := json.Marshal(it)
	var h itemHead
	if !fastItemHead(v, &h) || h.Key != it.Key || !h.CreatedAt.Equal(it.CreatedAt) {
		t.Fatalf("a catalog record did not take the fast path: %s → %+v", v, h)
	}
}

func BenchmarkJSONItemHead(b *testing.B) {
	it := catalog.Item{Key: "facebook/3rd-brigade/1000123", Platform: "facebook", Account: "3rd-brigade", ID: "1000123", Kind: "comment",
		CreatedAt: time.Date(2019, 5, 3, 10, 11, 12, 0, time.UTC), FirstSeen: time.Now(), LastSeen: time.Now(),
		Versions: []catalog.Version{{Digest: "70cab51f3fc553f7bb762ec19784fe1ba05a81b79a4e6c3792ab1e6d361566ff", Size: 312, CapturedAt: time.Now(), Capture: "20261122T013000.123Z-459ba98a8608"}}}
	v, _ := json.Marshal(it)
	for b.Loop() {
		var h itemHead
		if err := json.Unmarshal(v, &h); err != nil {
			b.Fatal(err)
		}
	}
}
