package export_test

import (
	"context"
	"errors"
	"io"
	"slices"
	"testing"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/export"
	"github.com/osmarc/osmarc/export/exporttest"
)

func collect(t *testing.T, src *export.Source) []*export.Item {
	t.Helper()
	var out []*export.Item
	if _, err := src.Each(context.Background(), func(it *export.Item) error {
		out = append(out, it)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func key(id string) string { return archive.ItemKey("facebook", "3rd-brigade", id) }

// The source yields what the archive holds: versions with digests and
// capture times, the edit, the removal at source, the media and raw
// responses by digest, readable and checked through Blobs.
func TestSourceYieldsTheArchive(t *testing.T) {
	f := exporttest.Build(t)
	ctx := context.Background()
	src, err := export.NewSource(f.A, export.SourceOptions{Keys: export.KeyList(exporttest.Keys), Versions: export.VersionsAll})
	if err != nil {
		t.Fatal(err)
	}
	items := collect(t, src)
	if len(items) != len(exporttest.Keys) {
		t.Fatalf("%d items, want %d", len(items), len(exporttest.Keys))
	}
	byKey := map[string]*export.Item{}
	for i, it := range items {
		if it.Key != exporttest.Keys[i] {
			t.Errorf("item %d is %s, want %s (order)", i, it.Key, exporttest.Keys[i])
		}
		byKey[it.Key] = it
	}
	p1 := byKey[key("p1")]
	if len(p1.Versions) != 2 || p1.VersionCount != 2 || !p1.Edited || p1.EditedAt.IsZero() {
		t.Fatalf("p1 versions: %+v", p1)
	}
	if p1.Versions[0].Content.Text == p1.Versions[1].Content.Text || p1.Text != p1.Versions[1].Content.Text {
		t.Errorf("p1 versions do not differ or text is not the latest")
	}
	if !p1.Versions[0].CapturedAt.Before(p1.Versions[1].CapturedAt) {
		t.Errorf("versions not oldest first")
	}
	if len(p1.Media) != 1 || p1.Media[0].Type != "image" || p1.Media[0].Alt == "" {
		t.Fatalf("p1 media: %+v", p1.Media)
	}
	rc, err := src.Blobs().Open(ctx, p1.Media[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || string(b) != string(f.MediaPNG) {
		t.Errorf("media read back: %v", err)
	}
	if len(p1.Raw) != 2 {
		t.Errorf("p1 raw: %+v", p1.Raw)
	}
	if p3 := byKey[key("p3")]; p3.RemovedAt == nil || p3.Edited {
		t.Errorf("p3 not removed at source: %+v", p3)
	}
	if r1 := byKey[key("r1")]; r1.ParentKey != key("c1") || r1.ThreadKey != key("p1") || r1.Lang != "fr" {
		t.Errorf("r1: parent %s thread %s", r1.ParentKey, r1.ThreadKey)
	}
	if p1.ThreadKey != p1.Key {
		t.Errorf("a root's thread key is its own: %s", p1.ThreadKey)
	}
	if _, err := src.Blobs().Open(ctx, "zz"); err == nil {
		t.Errorf("bad digest opened")
	}
}

// --threads brings in every item of a selected item's thread, once, after
// the selection; --versions latest gives one version.
func TestSourceThreads(t *testing.T) {
	f := exporttest.Build(t)
	src, _ := export.NewSource(f.A, export.SourceOptions{Keys: export.KeyList([]string{key("r1"), key("c4"), key("r1")}), Threads: true})
	items := collect(t, src)
	var got []string
	for _, it := range items {
		got = append(got, it.Key+" "+it.Role)
		if len(it.Versions) != 1 {
			t.Errorf("%s: %d versions with latest", it.Key, len(it.Versions))
		}
	}
	want := []string{key("r1") + " selected", key("c4") + " selected", key("c1") + " thread", key("c2") + " thread", key("c3") + " thread",
		key("c5") + " thread", key("p1") + " thread", key("p2") + " thread"}
	if !slices.Equal(got, want) {
		t.Errorf("threads:\n got %v\nwant %v", got, want)
	}
}

func TestSourceUnknownKey(t *testing.T) {
	f := exporttest.Build(t)
	src, _ := export.NewSource(f.A, export.SourceOptions{Keys: export.KeyList([]string{"facebook/nobody/1"})})
	_, err := src.Each(context.Background(), func(*export.Item) error { return nil })
	if !errors.Is(err, archive.ErrNotFound) {
		t.Errorf("unknown key: %v", err)
	}
	if _, err := export.NewSource(f.A, export.SourceOptions{Keys: export.KeyList(nil), Versions: "some"}); err == nil {
		t.Errorf("bad versions accepted")
	}
}

// Reading ahead with several workers yields the same items in the same
// order, threads included; an error stops it and is returned.
func TestSourceWorkers(t *testing.T) {
	f := exporttest.Build(t)
	keys := append([]string{key("r1"), key("c4")}, exporttest.Keys...)
	var runs [][]string
	for _, w := range []int{1, 4} {
		src, _ := export.NewSource(f.A, export.SourceOptions{Keys: export.KeyList(keys), Threads: true, Versions: export.VersionsAll, Workers: w})
		var got []string
		for _, it := range collect(t, src) {
			got = append(got, it.Key+" "+it.Role+" "+it.Latest().Digest)
		}
		runs = append(runs, got)
	}
	if !slices.Equal(runs[0], runs[1]) || len(runs[0]) != 10 {
		t.Errorf("workers change the stream:\n%v\n%v", runs[0], runs[1])
	}
	src, _ := export.NewSource(f.A, export.SourceOptions{Keys: export.KeyList(append([]string{"facebook/nobody/1"}, exporttest.Keys...)), Workers: 4})
	n, err := src.Each(context.Background(), func(*export.Item) error { return nil })
	if !errors.Is(err, archive.ErrNotFound) || n != 0 {
		t.Errorf("unknown key with workers: %d %v", n, err)
	}
	stop := errors.New("stop")
	src, _ = export.NewSource(f.A, export.SourceOptions{Keys: export.KeyList(exporttest.Keys), Workers: 4})
	n, err = src.Each(context.Background(), func(*export.Item) error { return stop })
	if !errors.Is(err, stop) || n != 1 {
		t.Errorf("fn's error: %d %v", n, err)
	}
}
