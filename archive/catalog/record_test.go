package catalog

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func recordItems() []Item {
	at := func(s string) time.Time {
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			panic(err)
		}
		return t.UTC()
	}
	removed := at("2024-05-01T10:00:00.123456789Z")
	hexA := strings.Repeat("ab", 32)
	hexB := strings.Repeat("0f", 32)
	return []Item{
		{Key: "x/dept/1", Platform: "x", Account: "dept", ID: "1", Kind: "post",
			CreatedAt: at("2024-01-02T03:04:05Z"), FirstSeen: at("2024-02-01T00:00:00.5Z"), LastSeen: at("2024-03-01T00:00:00Z"),
			Versions: []Version{{Digest: hexA, Size: 612, CapturedAt: at("2024-02-01T00:00:00.5Z"), Capture: "20240201T000000Z-abc"}},
			SeenBy:   []string{"import:x-archive"}},
		// Edited, removed at source, seen by two collectors, a digest that
		// is not the usual hex (kept as text), times before 1970.
		{Key: "facebook/page/9_8", Platform: "facebook", Account: "page", ID: "9_8", Kind: "comment",
			CreatedAt: at("1969-12-31T23:59:59.999Z"), FirstSeen: at("2024-02-01T00:00:00Z"), LastSeen: at("2024-02-01T00:00:00Z"),
			Versions: []Version{
				{Digest: hexB, Size: 1, CapturedAt: at("2024-02-01T00:00:00Z"), Capture: "c1"},
				{Digest: "SHA256:" + strings.ToUpper(hexA), Size: 1 << 40, CapturedAt: at("2024-02-02T00:00:00Z"), Capture: "c2"},
			},
			RemovedAt: &removed, RemovedBy: "c3", SeenBy: []string{"facebook", "import:facebook-dyi"}},
		// Nothing set but the key: zero times, no versions.
		{Key: "k"},
		// Text that is not UTF-8 and holds zero bytes.
		{Key: "rss/blog/\x00\xff", Platform: "rss", Account: "blög", ID: "\x00\xff", Kind: "post"},
	}
}

func TestItemRecordsRoundTrip(t *testing.T) {
	for _, it := range recordItems() {
		b := encodeItem(&it)
		var got Item
		if err := decodeItem([]byte(it.Key), b, &got); err != nil {
			t.Fatalf("%s: %v", it.Key, err)
		}
		if !reflect.DeepEqual(got, it) {
			t.Errorf("%s: decoded\n%#v\nwant\n%#v", it.Key, got, it)
		}
		if !got.CreatedAt.Equal(it.CreatedAt) || got.CreatedAt != it.CreatedAt {
			t.Errorf("%s: created %v, want %v", it.Key, got.CreatedAt, it.CreatedAt)
		}
	}
	// A typical item's record is much smaller than its JSON was: the
	// catalog of a large import, and what the process maps of it, with it.
	it := recordItems()[0]
	js, _ := json.Marshal(it)
	if b := encodeItem(&it); len(b)*2 > len(js) {
		t.Errorf("item record is %d bytes, its JSON %d", len(b), len(js))
	}
}

func TestSightingRecordsRoundTrip(t *testing.T) {
	at := time.Date(2024, 2, 1, 0, 0, 0, 7, time.UTC)
	hexA := strings.Repeat("ab", 32)
	for _, s := range []Sighting{
		{Capture: "20240201T000000Z-abc", Version: hexA, Raw: strings.Repeat("12", 32), SeenAt: at,
			Metrics: json.RawMessage(`{"likes":3,"replies":1}`), Media: []string{hexA, strings.Repeat("cd", 32)}},
		{Capture: "c", Version: hexA},
		{},
	} {
		k := sightingKey("x/dept/1", s.Capture)
		b := encodeSighting(&s)
		var got Sighting
		if err := decodeSighting(k, b, &got); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, s) {
			t.Errorf("decoded\n%#v\nwant\n%#v", got, s)
		}
	}
}

// A damaged record (cut short anywhere, or with bytes after its end, or
// of another form) is an error naming the record, never a panic or an
// item with wrong fields.
func TestDamagedRecordsAreErrors(t *testing.T) {
	for _, it := range recordItems() {
		b := encodeItem(&it)
		for n := 0; n < len(b); n++ {
			var got Item
			err := decodeItem([]byte(it.Key), b[:n], &got)
			if !errors.Is(err, errRecord) || !strings.Contains(err.Error(), "item") {
				t.Fatalf("%s cut at %d of %d: err %v", it.Key, n, len(b), err)
			}
		}
		var got Item
		if err := decodeItem([]byte(it.Key), append(b, 0), &got); !errors.Is(err, errRecord) {
			t.Errorf("%s with a byte more: err %v", it.Key, err)
		}
		if err := decodeItem([]byte(it.Key), []byte(`{"key":"k"}`), &got); !errors.Is(err, errRecord) {
			t.Errorf("a JSON record: err %v", err)
		}
	}
	s := Sighting{Capture: "c", Version: strings.Repeat("ab", 32), Metrics: json.RawMessage(`{}`), Media: []string{"m"}}
	b := encodeSighting(&s)
	for n := 0; n < len(b); n++ {
		var got Sighting
		if err := decodeSighting([]byte("k"), b[:n], &got); !errors.Is(err, errRecord) {
			t.Fatalf("sighting cut at %d of %d: err %v", n, len(b), err)
		}
	}
}

// A disposition plan reads only items' heads; they are the full record's.
func TestItemHeadsAreTheItems(t *testing.T) {
	for _, it := range recordItems() {
		b := encodeItem(&it)
		var h ItemHead
		if err := DecodeItemHead([]byte(it.Key), b, &h); err != nil {
			t.Fatal(err)
		}
		if h.Key != it.Key || h.Platform != it.Platform || h.Account != it.Account || h.CreatedAt != it.CreatedAt {
			t.Errorf("head %+v of %+v", h, it)
		}
		if err := DecodeItemHead([]byte(it.Key), b[:3], &h); !errors.Is(err, errRecord) {
			t.Errorf("a head cut short: err %v", err)
		}
	}
}

// The catalog's item records against the JSON they replaced.
func BenchmarkItemRecord(b *testing.B) {
	it := recordItems()[0]
	rec := encodeItem(&it)
	js, _ := json.Marshal(it)
	b.Run("binary", func(b *testing.B) {
		for b.Loop() {
			var got Item
			if err := decodeItem([]byte(it.Key), encodeItem(&it), &got); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(len(rec)), "bytes")
	})
	b.Run("json", func(b *testing.B) {
		for b.Loop() {
			v, _ := json.Marshal(it)
			var got Item
			if err := json.Unmarshal(v, &got); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(len(js)), "bytes")
	})
}
