package catalog

import (
	"encoding/binary"
	"fmt"
	"iter"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

func open(t *testing.T) *Catalog {
	t.Helper()
	c, err := Open(filepath.Join(t.TempDir(), "catalog.db"), false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

var t0 = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

func entries(n int, version string) iter.Seq2[Entry, error] {
	return func(yield func(Entry, error) bool) {
		if !yield(Entry{Blob: &Blob{Digest: "raw-" + version, Size: 1000}}, nil) {
			return
		}
		for i := range n {
			e := Entry{Item: &ItemEntry{
				Key: fmt.Sprintf("x/acct/%05d", i), Platform: "x", Account: "acct", ID: fmt.Sprintf("%05d", i), Kind: "post",
				CreatedAt: t0, Version: Blob{Digest: fmt.Sprintf("%s-%05d", version, i), Size: 100}, Raw: "raw-" + version, SeenAt: t0,
			}}
			if !yield(e, nil) {
				return
			}
		}
	}
}

func TestApplyCaptureIsIdempotent(t *testing.T) {
	c := open(t)
	if err := c.ApplyEvent(Event{Seq: 1, Type: "archive.created", Hash: "h1"}); err != nil {
		t.Fatal(err)
	}
	cp := &Capture{ID: "c1", Size: 500}
	// A crash part-way: the batches were applied but not the event.
	// Applying the same capture again must not count anything twice.
	n := BatchSize*2 + 10
	ev := Event{Seq: 2, Type: "capture.recorded", Hash: "h2"}
	if err := c.ApplyCapture(ev, cp, entries(n, "v1"), nil); err != nil {
		t.Fatal(err)
	}
	if err := c.ApplyCapture(ev, cp, entries(n, "v1"), nil); err != nil {
		t.Fatal(err)
	}
	got, _ := c.Counters()
	want := Counters{Items: int64(n), Versions: int64(n), Captures: 1, Blobs: int64(n) + 1, Bytes: int64(n)*100 + 1000, ManifestSize: 500, Events: 2}
	if got != want {
		t.Fatalf("counters = %+v, want %+v", got, want)
	}
	// The next capture sees every item again with new versions.
	if err := c.ApplyCapture(Event{Seq: 3, Type: "capture.recorded", Hash: "h3"}, &Capture{ID: "c2"}, entries(n, "v2"), nil); err != nil {
		t.Fatal(err)
	}
	it, err := c.Item("x/acct/00007")
	if err != nil || len(it.Versions) != 2 || it.Versions[1].Capture != "c2" {
		t.Fatalf("item = %+v, %v", it, err)
	}
	s, _ := c.Sightings("x/acct/00007")
	if len(s) != 2 {
		t.Fatalf("sightings = %+v", s)
	}
	if h, _ := c.Head(); h.Seq != 3 || h.Hash != "h3" {
		t.Fatalf("head = %+v", h)
	}
}

func TestEventsMustFollowTheHead(t *testing.T) {
	c := open(t)
	if err := c.ApplyEvent(Event{Seq: 2, Type: "x"}); err == nil || !strings.Contains(err.Error(), "does not follow head 0") {
		t.Fatalf("err = %v", err)
	}
	if err := c.ApplyEvent(Event{Seq: 1, Type: "x", Hash: "a"}); err != nil {
		t.Fatal(err)
	}
	// An event already applied is skipped, not applied twice.
	if err := c.ApplyEvent(Event{Seq: 1, Type: "x", Hash: "a"}); err != nil {
		t.Fatal(err)
	}
	if n, _ := c.Counters(); n.Events != 1 {
		t.Fatalf("events = %d", n.Events)
	}
}

func TestItemsAcrossChunks(t *testing.T) {
	c := open(t)
	c.ApplyEvent(Event{Seq: 1, Type: "x"})
	n := 2500
	if err := c.ApplyCapture(Event{Seq: 2, Type: "capture.recorded"}, &Capture{ID: "c1"}, entries(n, "v"), nil); err != nil {
		t.Fatal(err)
	}
	count := func(f Filter) int {
		k := 0
		prev := ""
		for it, err := range c.Items(f) {
			if err != nil {
				t.Fatal(err)
			}
			if it.Key <= prev {
				t.Fatalf("out of order: %s after %s", it.Key, prev)
			}
			prev = it.Key
			k++
		}
		return k
	}
	if got := count(Filter{}); got != n {
		t.Fatalf("all = %d", got)
	}
	if got := count(Filter{Prefix: "x/acct/01"}); got != 1000 {
		t.Fatalf("prefix x/acct/01 = %d", got)
	}
	if got := count(Filter{Account: "other"}); got != 0 {
		t.Fatalf("account other = %d", got)
	}
	accts, _ := c.Accounts()
	if len(accts) != 1 || accts[0].Items != int64(n) {
		t.Fatalf("accounts = %+v", accts)
	}
	// Stopping early stops.
	k := 0
	for range c.Items(Filter{}) {
		k++
		if k == 5 {
			break
		}
	}
}

func TestReadOnlyNeedsAnExistingCatalog(t *testing.T) {
	if _, err := Open(filepath.Join(t.TempDir(), "none.db"), true); err == nil {
		t.Fatal("opened a missing catalog read-only")
	}
}

// ApplyCapture tells, batch by batch, how many of the manifest's items are
// in the catalog, and each is there to be read when it says so: the
// search index follows a capture into the catalog this way.
func TestApplyCaptureTellsWhatIsApplied(t *testing.T) {
	c := open(t)
	c.ApplyEvent(Event{Seq: 1, Type: "x"})
	n := BatchSize*2 + 10
	var told []int
	err := c.ApplyCapture(Event{Seq: 2, Type: "capture.recorded"}, &Capture{ID: "c1"}, entries(n, "v"), func(items int) {
		told = append(told, items)
		for i := range items {
			key := fmt.Sprintf("x/acct/%05d", i)
			if _, err := c.Item(key); err != nil {
				t.Fatalf("told %d items applied, but %s: %v", items, key, err)
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	// The first batch holds the raw blob's entry and BatchSize-1 items.
	want := []int{BatchSize - 1, 2*BatchSize - 1, n}
	if fmt.Sprint(told) != fmt.Sprint(want) {
		t.Fatalf("told %v, want %v", told, want)
	}
}

// A version's blob is recorded in its item alone (versionBlobs): HasVersions
// finds it, the counters count it, and destroying the item uncounts it,
// in a catalog made so and in one made before, whose blobs bucket holds
// versions' blobs too.
func TestVersionBlobsAreTheirItems(t *testing.T) {
	for _, before := range []bool{false, true} {
		t.Run(fmt.Sprintf("records made before: %t", before), func(t *testing.T) {
			c := open(t)
			c.ApplyEvent(Event{Seq: 1, Type: "archive.created", Hash: "h1"})
			n := 30
			if err := c.ApplyCapture(Event{Seq: 2, Type: "capture.recorded", Hash: "h2"}, &Capture{ID: "c1"}, entries(n, "v1"), nil); err != nil {
				t.Fatal(err)
			}
			if before {
				// What the catalog of an earlier osmarc held as well.
				err := c.db.Update(func(tx *bolt.Tx) error {
					for i := range n {
						if err := tx.Bucket(bBlobs).Put(fmt.Appendf(nil, "v1-%05d", i), binary.BigEndian.AppendUint64(nil, 100)); err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
			}
			var records int
			c.db.View(func(tx *bolt.Tx) error { records = tx.Bucket(bBlobs).Stats().KeyN; return nil })
			if want := map[bool]int{false: 1, true: n + 1}[before]; records != want {
				t.Fatalf("blob records = %d, want %d (the raw input's%s)", records, want, map[bool]string{true: " and the versions'"}[before])
			}
			have, known, err := c.HasVersions([]string{"x/acct/00003", "x/acct/00003", "x/acct/99999"}, []string{"v1-00003", "v2-00003", "v1-99999"})
			if err != nil || fmt.Sprint(have, known) != "[true true false] [true false false]" {
				t.Fatalf("HasVersions = %v %v, %v", have, known, err)
			}
			want := Counters{Items: int64(n), Versions: int64(n), Captures: 1, Blobs: int64(n) + 1, Bytes: int64(n)*100 + 1000, Events: 2}
			if got, _ := c.Counters(); got != want {
				t.Fatalf("counters = %+v, want %+v", got, want)
			}
			// A second capture adds a version of one item: one blob more.
			if err := c.ApplyCapture(Event{Seq: 3, Type: "capture.recorded", Hash: "h3"}, &Capture{ID: "c2"}, func(yield func(Entry, error) bool) {
				yield(Entry{Item: &ItemEntry{Key: "x/acct/00003", Platform: "x", Account: "acct", ID: "00003", Kind: "post", CreatedAt: t0,
					Version: Blob{Digest: "v2-00003", Size: 150}, SeenAt: t0.Add(time.Hour)}}, nil)
			}, nil); err != nil {
				t.Fatal(err)
			}
			want.Versions, want.Blobs, want.Bytes, want.Captures, want.Events = want.Versions+1, want.Blobs+1, want.Bytes+150, 2, 3
			if got, _ := c.Counters(); got != want {
				t.Fatalf("after an edit: counters = %+v, want %+v", got, want)
			}
			d := Destruction{Certificate: "cert-1", At: t0.Add(48 * time.Hour), Items: map[string]string{"x/acct/00003": "s1", "x/acct/00004": "s1"},
				Blobs: []string{"v1-00003", "v2-00003", "v1-00004"}}
			if err := c.Destroy(Event{Seq: 4, Type: "disposition.destroyed", Hash: "h4", Data: []byte(`{"certificate":"cert-1"}`)}, d); err != nil {
				t.Fatal(err)
			}
			want.Items, want.Versions, want.Blobs, want.Bytes, want.Destroyed, want.Events = want.Items-2, want.Versions-3, want.Blobs-3, want.Bytes-350, 2, 4
			if got, _ := c.Counters(); got != want {
				t.Fatalf("after destroying two items: counters = %+v, want %+v", got, want)
			}
			if have, known, _ := c.HasVersions([]string{"x/acct/00003"}, []string{"v1-00003"}); have[0] || known[0] {
				t.Fatal("a destroyed item's version is still known: a new capture of it would not write its blob")
			}
		})
	}
}
