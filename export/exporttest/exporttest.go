// Package exporttest builds the fixed archive every export format's
// golden tests run on: testdata/export/capture-1.jsonl and capture-2.jsonl
// captured with a fixed clock and fixed ids (so the journal head, capture
// ids and digests never change), a generated PNG as a post's media, an
// edit, a removal at source, a registered schedule and a legal hold, and
// a search index over it all. See testdata/export/README.md.
package exporttest

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/archivetest"
	"github.com/osmarc/osmarc/archive/diskstore"
	"github.com/osmarc/osmarc/archive/memstore"
	"github.com/osmarc/osmarc/archive/retention"
	"github.com/osmarc/osmarc/archive/stores"
	"github.com/osmarc/osmarc/export"
	"github.com/osmarc/osmarc/index"
)

// Account is the fixture's main account; Hold the hold placed on it.
const (
	Account  = "facebook/3rd-brigade"
	Hold     = "parade-matter"
	Schedule = "grs-6.4-020"
	Actor    = "records.officer@example.gov"
)

// Start is when the fixture's clock starts.
var Start = time.Date(2024, 6, 1, 9, 0, 0, 0, time.UTC)

// ExportedAt is when the format tests export.
var ExportedAt = time.Date(2024, 6, 10, 12, 0, 0, 0, time.UTC)

// Source is a Source over keys of f, with o's other options.
func Source(tb testing.TB, f *Fixture, keys []string, o export.SourceOptions) *export.Source {
	tb.Helper()
	o.Keys = export.KeyList(keys)
	src, err := export.NewSource(f.A, o)
	if err != nil {
		tb.Fatal(err)
	}
	return src
}

// Meta is the Meta the format tests export f with: the format's name and
// out, f's archive id and journal head, Actor exporting at ExportedAt
// with osmarc version "test". Callers set what their test varies.
func Meta(tb testing.TB, f *Fixture, format, out string) export.Meta {
	tb.Helper()
	head, err := f.A.Catalog().Head()
	if err != nil {
		tb.Fatal(err)
	}
	return export.Meta{Format: format, Out: out, ArchiveID: f.A.Config().ArchiveID, Exporter: Actor, ExportedAt: ExportedAt,
		OsmarcVersion: "test", JournalHead: export.JournalHead{Seq: head.Seq, Hash: head.Hash}}
}

// Fixture is the built archive, open for writing, and its index.
type Fixture struct {
	A     *archive.Archive
	Index *index.Index
	// Dir is the data directory (the CLI can open it once A is closed).
	Dir   string
	Clock *archivetest.Clock
	// MediaPNG is the post's media file.
	MediaPNG []byte
}

// Close closes the index and the archive.
func (f *Fixture) Close() {
	if f.Index != nil {
		f.Index.Close()
		f.Index = nil
	}
	f.A.Close()
}

// TestdataDir is testdata/export in the repository.
func TestdataDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "testdata", "export")
}

// PNG is the fixture's 2×2 image.
func PNG() []byte {
	img := image.NewRGBA(image.Rect(0, 0, 2, 2))
	img.Set(0, 0, color.RGBA{200, 30, 30, 255})
	img.Set(1, 1, color.RGBA{30, 30, 200, 255})
	var b bytes.Buffer
	png.Encode(&b, img)
	return b.Bytes()
}

// Build builds the fixture on a memory store named "export-fixture" (so
// its journal, which records the store's location, is the same on every
// run: golden files name its head) in a temporary data directory removed
// when the test ends.
func Build(tb testing.TB) *Fixture {
	tb.Helper()
	f, err := build(context.Background(), tb.TempDir(), archivetest.MemOpener(memstore.New("export-fixture")))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(f.Close)
	return f
}

// BuildIn builds the fixture in dir, a data directory on the default disk
// store, which the osmarc command opens once the fixture is closed. Its
// journal head differs from run to run (it records the store's path).
func BuildIn(ctx context.Context, dir string) (*Fixture, error) {
	return build(ctx, dir, stores.Open)
}

func build(ctx context.Context, dir string, open archive.StoreOpener) (*Fixture, error) {
	clock := archivetest.NewClock(Start)
	opts := archive.Options{Dir: dir, Actor: Actor, Now: clock.Now, Rand: archivetest.NewRand(7), OpenStore: open, Concurrency: 2}
	a, _, err := archive.Init(ctx, opts, "")
	if err != nil {
		return nil, err
	}
	f := &Fixture{A: a, Dir: dir, Clock: clock, MediaPNG: PNG()}
	ok := false
	defer func() {
		if !ok {
			f.Close()
		}
	}()
	ix, err := index.Open(filepath.Join(dir, index.DirName))
	if err != nil {
		return nil, err
	}
	f.Index = ix
	ix.SetVersionReader(a)
	a.SetIndexer(ix)
	for i, name := range []string{"capture-1.jsonl", "capture-2.jsonl"} {
		clock.Advance(24 * time.Hour)
		if err := f.capture(ctx, name, i == 1); err != nil {
			return nil, err
		}
	}
	if _, err := a.UpdateAccount(ctx, Account, func(ac *archive.Account) error { ac.Schedule = Schedule; return nil }); err != nil {
		return nil, err
	}
	r := retention.New(a, clock.Now)
	if _, err := r.PlaceHold(ctx, retention.Hold{Name: Hold, Matter: "Parade route complaint", Reason: "Litigation expected", Accounts: []string{Account}}, Actor); err != nil {
		return nil, err
	}
	ok = true
	return f, nil
}

func (f *Fixture) capture(ctx context.Context, name string, complete bool) error {
	body, err := os.ReadFile(filepath.Join(TestdataDir(), name))
	if err != nil {
		return err
	}
	w, err := f.A.BeginCapture(ctx, archive.CaptureOptions{Collector: "import:fixture", CollectorVersion: "1", Account: Account, Sources: []string{name}})
	if err != nil {
		return err
	}
	defer w.Abort()
	raw, err := w.PutRaw(ctx, body, name, "", "application/x-ndjson")
	if err != nil {
		return err
	}
	sc := bufio.NewScanner(bytes.NewReader(body))
	line := 0
	for sc.Scan() {
		line++
		it, metrics, err := archive.ParseItemLine(sc.Bytes())
		if err != nil {
			return fmt.Errorf("%s:%d: %w", name, line, err)
		}
		for i := range it.Media {
			sum := archive.Sum(f.MediaPNG)
			if err := w.PutMedia(ctx, bytes.NewReader(f.MediaPNG), int64(len(f.MediaPNG)), sum, "image/png", it.Media[i].URL); err != nil {
				return err
			}
			it.Media[i].Digest = sum.String()
		}
		if err := w.AddItem(ctx, it, archive.ItemOptions{Raw: &raw, RawLine: line, Source: name, Line: line, Metrics: metrics}); err != nil {
			return fmt.Errorf("%s:%d: %w", name, line, err)
		}
	}
	if complete {
		w.Complete(archive.Scope{Account: Account})
	}
	_, err = w.Commit(ctx)
	return err
}

// Keys are the fixture's item keys, in key order.
var Keys = func() []string {
	var out []string
	for _, id := range []string{"c1", "c2", "c3", "c4", "c5", "p1", "p2", "p3", "r1"} {
		out = append(out, archive.ItemKey("facebook", "3rd-brigade", id))
	}
	return append(out, archive.ItemKey("mastodon", "brigade@social.example", "m1"))
}()

// Corrupt flips a byte of a stored blob, on the fixture's memory store or
// on its disk store (behind the bytes' check, as damage on the medium is).
func Corrupt(t *testing.T, f *Fixture, d archive.Digest) {
	t.Helper()
	b, err := archive.ReadBlob(context.Background(), f.A.Store(), d)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0xff
	s := f.A.Store()
	if u, ok := s.(interface{ Unwrap() archive.BlobStore }); ok {
		s = u.Unwrap()
	}
	switch s := s.(type) {
	case *memstore.Store:
		s.Corrupt(archive.BlobKey(d), b)
	case *diskstore.Store:
		blob, err := s.File(archive.BlobKey(d))
		if err != nil {
			t.Fatal(err)
		}
		os.Chmod(blob, 0o644)
		if err := os.WriteFile(blob, b, 0o644); err != nil {
			t.Fatal(err)
		}
	default:
		t.Fatalf("cannot damage a blob in a %T", s)
	}
}
