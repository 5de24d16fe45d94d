package index

import (
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/catalog"
)

// versions is a VersionReader over a map, for Discard's items the
// catalog holds.
type versions map[string]*archive.Item

func (v versions) Version(_ context.Context, digest string) (*archive.Item, error) {
	if it, ok := v[digest]; ok {
		return it, nil
	}
	return nil, fmt.Errorf("no version %s", digest)
}

// update is the IndexUpdate of a new post of the 3rd Brigade, seen once.
func update(id, text string) archive.IndexUpdate {
	at := ts("2024-05-01T10:00:00Z")
	it := &archive.Item{Platform: "facebook", Account: "3rd-brigade", ID: id, Kind: "post", CreatedAt: "2024-05-01T09:00:00Z", Text: text}
	return archive.IndexUpdate{
		Item: catalog.Item{Key: it.Key(), Platform: it.Platform, Account: it.Account, ID: id, Kind: "post",
			CreatedAt: ts("2024-05-01T09:00:00Z"), FirstSeen: at, LastSeen: at,
			Versions: []catalog.Version{{Digest: "d-" + id, CapturedAt: at, Capture: "c"}}},
		Latest: it,
	}
}

// A capture's staged items are in no search, count or listing until it
// is revealed, even after the index is closed and opened again (a crash);
// the rules and holds that ask about the items by name see them.
func TestStagedItemsAreHiddenUntilRevealed(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), DirName)
	ix, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { ix.Close() }()
	if err := ix.Update(ctx, []archive.IndexUpdate{update("a", "Parade on Saturday.")}); err != nil {
		t.Fatal(err)
	}
	fps, err := ix.Stage(ctx, "cap-1", []archive.IndexUpdate{update("b", "Parade route map."), update("c", "Parade cancelled.")})
	if err != nil || len(fps) != 2 || fps[0] == 0 || fps[0] == fps[1] {
		t.Fatalf("stage: %v %v", fps, err)
	}
	check := func(when string, want string) {
		t.Helper()
		if got := ids(search(t, ix, Request{Query: "parade"})); got != want {
			t.Errorf("%s: parade finds %q, want %q", when, got, want)
		}
		n, err := ix.Count()
		if want := len(strings.Fields(want)); err != nil || n != uint64(want) {
			t.Errorf("%s: count %d (%v), want %d", when, n, err, want)
		}
		var all, matched []string
		if _, err := ix.SearchAll(ctx, Request{}, func(h Hit) error { all = append(all, h.Key); return nil }); err != nil || ids(all) != want {
			t.Errorf("%s: every item %q (%v), want %q", when, ids(all), err, want)
		}
		if _, err := ix.MatchKeys(ctx, "parade", func(k string) error { matched = append(matched, k); return nil }); err != nil || ids(matched) != want {
			t.Errorf("%s: rules over the whole index match %q (%v), want %q", when, ids(matched), err, want)
		}
	}
	check("staged", "a")
	m, err := ix.Match(ctx, "parade", []string{"facebook/3rd-brigade/b", "facebook/3rd-brigade/c"})
	if err != nil || len(m) != 2 {
		t.Errorf("match of the staged items by key: %v %v", m, err)
	}
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}
	if ix, err = Open(dir); err != nil {
		t.Fatal(err)
	}
	check("staged, index opened again", "a")
	if ro, err := OpenReadOnly(dir); err == nil {
		t.Errorf("read-only open beside the writer succeeded")
		ro.Close()
	}
	if st, err := ix.Staged(); err != nil || !slices.Equal(st, []string{"cap-1"}) {
		t.Errorf("staged captures: %v %v", st, err)
	}
	if err := ix.Reveal(ctx, "cap-1"); err != nil {
		t.Fatal(err)
	}
	check("revealed", "a b c")
	if st, err := ix.Staged(); err != nil || len(st) != 0 {
		t.Errorf("staged captures after reveal: %v %v", st, err)
	}
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}
	ro, err := OpenReadOnly(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if got := ids(search(t, ro, Request{Query: "parade"})); got != "a b c" {
		t.Errorf("read-only, after reveal: %q", got)
	}
}

// Discard takes out what an unrecorded capture staged: an item the
// catalog holds all the same is indexed from its record, the others go.
func TestDiscardStagedItems(t *testing.T) {
	ctx := context.Background()
	ix := newIndex(t)
	held := update("e", "Road closure downtown.")
	ix.SetVersionReader(versions{"d-e": held.Latest})
	if _, err := ix.Stage(ctx, "cap-2", []archive.IndexUpdate{update("d", "Road closure north."), update("e", "Road closure, staged words.")}); err != nil {
		t.Fatal(err)
	}
	if _, err := ix.Stage(ctx, "cap-3", []archive.IndexUpdate{update("f", "Road closure east.")}); err != nil {
		t.Fatal(err)
	}
	lookup := func(key string) (catalog.Item, bool, error) {
		if key == held.Item.Key {
			return held.Item, true, nil
		}
		return catalog.Item{}, false, nil
	}
	if err := ix.Discard(ctx, "cap-2", lookup); err != nil {
		t.Fatal(err)
	}
	if st, _ := ix.Staged(); !slices.Equal(st, []string{"cap-3"}) {
		t.Errorf("staged after discarding cap-2: %v", st)
	}
	if err := ix.Reveal(ctx, "cap-3"); err != nil {
		t.Fatal(err)
	}
	if got := ids(search(t, ix, Request{Query: "closure"})); got != "e f" {
		t.Errorf("after discard: closure finds %q, want e f", got)
	}
	if got := ids(search(t, ix, Request{Query: "downtown"})); got != "e" {
		t.Errorf("the item the catalog holds is indexed from its record: downtown finds %q", got)
	}
	if got := search(t, ix, Request{Query: "staged"}); len(got) != 0 {
		t.Errorf("the staged document of the held item stayed: %v", got)
	}
	if keys, _ := ix.stagedKeys("cap-2"); len(keys) != 0 {
		t.Errorf("documents of cap-2 left: %v", keys)
	}
}

// An update that carries the fingerprint of the document staged for it
// leaves that document as it is; one whose document came out otherwise
// replaces it.
func TestUpdateSkipsWhatWasStaged(t *testing.T) {
	ctx := context.Background()
	ix := newIndex(t)
	u := update("g", "Parade on Saturday.")
	fps, err := ix.Stage(ctx, "cap-4", []archive.IndexUpdate{u})
	if err != nil {
		t.Fatal(err)
	}
	u.Staged = fps[0]
	if err := ix.Update(ctx, []archive.IndexUpdate{u}); err != nil {
		t.Fatal(err)
	}
	if keys, _ := ix.stagedKeys("cap-4"); len(keys) != 1 {
		t.Errorf("the same document was written again: staged %v", keys)
	}
	// Seen again later in the same capture: the record differs.
	u.Item.LastSeen = u.Item.LastSeen.Add(time.Hour)
	if err := ix.Update(ctx, []archive.IndexUpdate{u}); err != nil {
		t.Fatal(err)
	}
	if keys, _ := ix.stagedKeys("cap-4"); len(keys) != 0 {
		t.Errorf("a changed document was not written: staged %v", keys)
	}
	if err := ix.Reveal(ctx, "cap-4"); err != nil {
		t.Fatal(err)
	}
	res, err := ix.Search(ctx, Request{Query: "parade", Limit: 10})
	if err != nil || res.Total != 1 {
		t.Fatalf("parade: %+v %v", res, err)
	}
}

// A fingerprint covers every field of a document: changing any of them
// changes it; a nil list and an empty one are the same.
func TestFingerprintCoversEveryField(t *testing.T) {
	base := Doc{Key: "k"}
	fp := base.fingerprint()
	v := reflect.ValueOf(&base).Elem()
	for i := range v.NumField() {
		d := base
		f := reflect.ValueOf(&d).Elem().Field(i)
		switch f.Interface().(type) {
		case string:
			f.SetString("x")
		case bool:
			f.SetBool(true)
		case int:
			f.SetInt(2)
		case time.Time:
			f.Set(reflect.ValueOf(time.Unix(0, 0).UTC()))
		case []string:
			f.Set(reflect.ValueOf([]string{""}))
		default:
			t.Fatalf("field %s: type %s not covered", v.Type().Field(i).Name, f.Type())
		}
		if d.fingerprint() == fp {
			t.Errorf("field %s does not change the fingerprint", v.Type().Field(i).Name)
		}
	}
	empty := base
	empty.History, empty.Hashtags = []string{}, []string{}
	if empty.fingerprint() != fp {
		t.Error("an empty list and no list differ")
	}
	moved := Doc{Key: "k", Hashtags: []string{"ab"}}
	split := Doc{Key: "k", Hashtags: []string{"a", "b"}}
	if moved.fingerprint() == split.fingerprint() {
		t.Error("[ab] and [a b] have the same fingerprint")
	}
}
