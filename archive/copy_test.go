package archive_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/archivetest"
	"github.com/osmarc/osmarc/archive/memstore"
)

// recording is a destination store that notes, in order, each object it
// is given and each sync, and can be told to fail the Put of some keys.
type recording struct {
	*memstore.Store
	mu   sync.Mutex
	log  []string
	fail func(key string) bool
}

func (r *recording) Put(ctx context.Context, key string, rd io.Reader, size int64, sum archive.Digest) error {
	if r.fail != nil && r.fail(key) {
		return fmt.Errorf("injected failure")
	}
	if err := r.Store.Put(ctx, key, rd, size, sum); err != nil {
		return err
	}
	r.mu.Lock()
	r.log = append(r.log, key)
	r.mu.Unlock()
	return nil
}

func (r *recording) Sync(ctx context.Context) error {
	r.mu.Lock()
	r.log = append(r.log, "SYNC")
	r.mu.Unlock()
	return nil
}

// objects lists every object of s with its bytes.
func objects(t *testing.T, s archive.BlobStore) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := s.List(ctx, "", "", func(oi archive.ObjectInfo) error {
		r, err := s.Open(ctx, oi.Key)
		if err != nil {
			return err
		}
		defer r.Close()
		b, err := io.ReadAll(r)
		out[oi.Key] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// archiveWithCaptures is an archive on a memory store with three
// captures and an edit, so it holds raw pages, versions, manifests and
// several events.
func archiveWithCaptures(t *testing.T) (*archive.Archive, *memstore.Store) {
	t.Helper()
	a, src, _ := archivetest.New(t)
	capture(t, a, "mastodon", true, post("1", "Road closure on Main Street."), post("2", "Parade at noon."))
	capture(t, a, "mastodon", true, post("1", "Road closure on Main Street, until 6pm."), post("3", "Bridge reopened."))
	capture(t, a, "mastodon", false, post("4", "Snow plough schedule."))
	return a, src
}

func family(key string) int {
	switch {
	case strings.HasPrefix(key, archive.BlobPrefix):
		return 0
	case strings.HasPrefix(key, archive.CapturePrefix):
		return 1
	case strings.HasPrefix(key, archive.JournalPrefix):
		return 2
	}
	return -1
}

func TestCopyStoreCopiesTheArchiveInTheOrderOfWrites(t *testing.T) {
	_, src := archiveWithCaptures(t)
	want := objects(t, src)
	dst := &recording{Store: memstore.New("copy")}
	rep, err := archive.CopyStore(ctx, src, dst, archive.CopyOptions{TmpDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Copied != int64(len(want)) || rep.Present != 0 || len(rep.Failed) != 0 {
		t.Fatalf("report %+v, want %d copied, none present or failed", rep, len(want))
	}
	var size int64
	for _, b := range want {
		size += int64(len(b))
	}
	if rep.Bytes != size {
		t.Errorf("report says %d bytes copied, want %d", rep.Bytes, size)
	}
	got := objects(t, dst.Store)
	if len(got) != len(want) {
		t.Fatalf("destination holds %d objects, want %d", len(got), len(want))
	}
	for k, b := range want {
		if !bytes.Equal(got[k], b) {
			t.Errorf("%s differs in the copy", k)
		}
	}
	// Blobs, sync, manifests, sync, events in sequence, sync: the copy is
	// never a manifest or event naming what it does not hold yet.
	fam, lastEvent, syncs := 0, "", 0
	for _, k := range dst.log {
		if k == "SYNC" {
			syncs++
			fam = syncs
			continue
		}
		f := family(k)
		if f < fam {
			t.Errorf("%s written after the objects of a later family", k)
		}
		if f > syncs {
			t.Errorf("%s written before the family it names was synced", k)
		}
		if f == 2 {
			if k < lastEvent {
				t.Errorf("event %s written after %s", k, lastEvent)
			}
			lastEvent = k
		}
	}
	if syncs != 3 {
		t.Errorf("%d syncs, want one after each family", syncs)
	}

	// Again: everything is there, nothing is written.
	dst.log = nil
	rep, err = archive.CopyStore(ctx, src, dst, archive.CopyOptions{TmpDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Copied != 0 || rep.Present != int64(len(want)) || len(rep.Failed) != 0 {
		t.Errorf("second copy: %+v, want all %d present", rep, len(want))
	}
	for _, k := range dst.log {
		if k != "SYNC" {
			t.Errorf("second copy wrote %s", k)
		}
	}
}

func TestCopyStoreIsAnArchive(t *testing.T) {
	a, src := archiveWithCaptures(t)
	dst := memstore.New("copy")
	if _, err := archive.CopyStore(ctx, src, dst, archive.CopyOptions{TmpDir: t.TempDir()}); err != nil {
		t.Fatal(err)
	}
	b, res, err := archive.Init(ctx, archivetest.Options(t.TempDir(), archivetest.NewClock(archivetest.Start), archivetest.MemOpener(dst)), "mem")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	orig, _ := a.Catalog().Head()
	head, _ := b.Catalog().Head()
	// Attaching adds one event to the copied journal.
	if !res.Attached || head.Seq != orig.Seq+1 || res.Captures != 3 {
		t.Errorf("attached to the copy: %+v, journal head %+v, want the %d events of the archive and one more, and 3 captures", res, head, orig.Seq)
	}
	rep, err := b.Verify(ctx, archive.VerifyOptions{Deep: true})
	if err != nil || !rep.OK {
		t.Fatalf("verify of the copy: %v %+v", err, rep)
	}
	it, err := b.Catalog().Item(archive.ItemKey("mastodon", "brigade", "1"))
	if err != nil || len(it.Versions) != 2 {
		t.Errorf("the edited item in the copy: %+v %v, want two versions", it, err)
	}
	// The copy is an archive of its own now: copying the old store onto
	// it again would not be a copy of anything.
	_, err = archive.CopyStore(ctx, src, dst, archive.CopyOptions{TmpDir: t.TempDir()})
	if !errors.Is(err, archive.ErrOtherArchive) || !strings.Contains(err.Error(), "written to since") {
		t.Errorf("copy onto a copy written to since: %v, want ErrOtherArchive", err)
	}
}

func TestCopyStoreCutShortLeavesAWholeArchiveAndResumes(t *testing.T) {
	_, src := archiveWithCaptures(t)
	want := objects(t, src)
	var events []string
	for k := range want {
		if family(k) == 2 {
			events = append(events, k)
		}
	}
	if len(events) < 4 {
		t.Fatalf("the fixture has %d events, want several", len(events))
	}
	// The copy of one event in the middle fails: the events after it are
	// not written, so the destination's journal is a whole chain's start.
	broken := minKeyAbove(events, 2)
	dst := &recording{Store: memstore.New("copy"), fail: func(k string) bool { return k == broken }}
	rep, err := archive.CopyStore(ctx, src, dst, archive.CopyOptions{TmpDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Failed) == 0 || rep.Failed[0].Key != broken || !strings.Contains(rep.Failed[0].Message, "injected failure") {
		t.Fatalf("failures %+v, want %s first", rep.Failed, broken)
	}
	got := objects(t, dst.Store)
	for _, k := range events {
		if _, ok := got[k]; ok != (k < broken) {
			t.Errorf("event %s in the destination: %v, want only the events before %s", k, ok, broken)
		}
	}
	for _, f := range rep.Failed[1:] {
		if f.Key <= broken || !strings.Contains(f.Message, "journal is a chain") {
			t.Errorf("failure %+v, want only the events after %s, not copied because of it", f, broken)
		}
	}
	// Run again, the fault gone: the copy is finished.
	dst.fail = nil
	rep, err = archive.CopyStore(ctx, src, dst, archive.CopyOptions{TmpDir: t.TempDir()})
	if err != nil || len(rep.Failed) != 0 || rep.Copied != int64(len(events)-countBelow(events, broken)) {
		t.Fatalf("resumed copy: %+v %v", rep, err)
	}
	got = objects(t, dst.Store)
	if len(got) != len(want) {
		t.Errorf("after the resumed copy the destination holds %d objects, want %d", len(got), len(want))
	}
}

// minKeyAbove is the key with n keys below it.
func minKeyAbove(keys []string, n int) string {
	for _, k := range keys {
		if countBelow(keys, k) == n {
			return k
		}
	}
	return ""
}

func countBelow(keys []string, k string) int {
	n := 0
	for _, x := range keys {
		if x < k {
			n++
		}
	}
	return n
}

func TestCopyStoreReportsADamagedBlobAndCopiesTheRest(t *testing.T) {
	_, src := archiveWithCaptures(t)
	want := objects(t, src)
	var damaged string
	for k, b := range want {
		if family(k) == 0 {
			damaged = k
			src.Corrupt(k, append([]byte("x"), b[1:]...))
			break
		}
	}
	dst := memstore.New("copy")
	rep, err := archive.CopyStore(ctx, src, dst, archive.CopyOptions{TmpDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Failed) != 1 || rep.Failed[0].Key != damaged || !strings.Contains(rep.Failed[0].Message, "do not hash to its name") {
		t.Fatalf("failures %+v, want only %s, damaged", rep.Failed, damaged)
	}
	got := objects(t, dst)
	if _, ok := got[damaged]; ok {
		t.Errorf("the damaged blob was copied")
	}
	if len(got) != len(want)-1 || rep.Copied != int64(len(want)-1) {
		t.Errorf("destination holds %d objects (report: %d copied), want every other one, %d", len(got), rep.Copied, len(want)-1)
	}
}

func TestCopyStoreRefusesAnotherArchive(t *testing.T) {
	_, src := archiveWithCaptures(t)
	dst := memstore.New("copy")
	if _, err := archive.CopyStore(ctx, src, dst, archive.CopyOptions{TmpDir: t.TempDir()}); err != nil {
		t.Fatal(err)
	}
	before := objects(t, dst)
	b, other, _ := archivetest.New(t)
	capture(t, b, "mastodon", false, post("5", "Another organisation's post."))
	_, err := archive.CopyStore(ctx, other, dst, archive.CopyOptions{TmpDir: t.TempDir()})
	if !errors.Is(err, archive.ErrOtherArchive) || !strings.Contains(err.Error(), "nothing was written") {
		t.Fatalf("copy of another archive onto the copy: %v, want ErrOtherArchive", err)
	}
	if after := objects(t, dst); len(after) != len(before) {
		t.Errorf("the refused copy changed the destination: %d objects, was %d", len(after), len(before))
	}
	if _, err := archive.CopyStore(ctx, src, src, archive.CopyOptions{}); err == nil || !strings.Contains(err.Error(), "own store") {
		t.Errorf("copy of a store onto itself: %v", err)
	}
}
