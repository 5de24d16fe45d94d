package archive_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
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

// manifestsNamed maps each capture event of objs to the manifest it
// names.
func manifestsNamed(t *testing.T, objs map[string][]byte) map[string]string {
	t.Helper()
	out := map[string]string{}
	for k, b := range objs {
		if family(k) != 2 {
			continue
		}
		var ev struct {
			Type string
			Data struct{ Manifest string }
		}
		if err := json.Unmarshal(b, &ev); err != nil {
			t.Fatal(err)
		}
		if ev.Type == "capture.recorded" {
			out[k] = ev.Data.Manifest
		}
	}
	return out
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
	rep, err := archive.CopyStore(ctx, src, dst, archive.CopyOptions{})
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
	// Blobs, a sync, then the journal in sequence, each capture's
	// manifest before the event naming it with a sync between, and a
	// sync at the end: the copy never holds a manifest or event naming
	// what it does not hold yet.
	names := manifestsNamed(t, want)
	pos := map[string]int{}
	lastBlob, firstOther, lastEvent := -1, len(dst.log), ""
	for i, k := range dst.log {
		pos[k] = i
		switch family(k) {
		case 0:
			lastBlob = i
		case 1, 2:
			firstOther = min(firstOther, i)
		}
		if family(k) == 2 {
			if k < lastEvent {
				t.Errorf("event %s written after %s", k, lastEvent)
			}
			lastEvent = k
		}
	}
	if lastBlob > firstOther || !slices.Contains(dst.log[lastBlob:firstOther], "SYNC") {
		t.Errorf("manifests or events written before every blob was, and synced: %v", dst.log)
	}
	for ev, m := range names {
		if !(pos[m] < pos[ev]) || !slices.Contains(dst.log[pos[m]:pos[ev]], "SYNC") {
			t.Errorf("event %s written before its manifest %s was written and synced", ev, m)
		}
	}
	if len(names) != 3 {
		t.Errorf("%d capture events name manifests, want 3", len(names))
	}
	if dst.log[len(dst.log)-1] != "SYNC" {
		t.Errorf("the copy ended without a sync")
	}
	if rep.UpTo != lastEvent {
		t.Errorf("report: up to %s, want the last event %s", rep.UpTo, lastEvent)
	}

	// Again: everything is there, nothing is written.
	dst.log = nil
	rep, err = archive.CopyStore(ctx, src, dst, archive.CopyOptions{})
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
	if _, err := archive.CopyStore(ctx, src, dst, archive.CopyOptions{}); err != nil {
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
	_, err = archive.CopyStore(ctx, src, dst, archive.CopyOptions{})
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
	rep, err := archive.CopyStore(ctx, src, dst, archive.CopyOptions{})
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
	rep, err = archive.CopyStore(ctx, src, dst, archive.CopyOptions{})
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
	rep, err := archive.CopyStore(ctx, src, dst, archive.CopyOptions{})
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
	if _, err := archive.CopyStore(ctx, src, dst, archive.CopyOptions{}); err != nil {
		t.Fatal(err)
	}
	before := objects(t, dst)
	b, other, _ := archivetest.New(t)
	capture(t, b, "mastodon", false, post("5", "Another organisation's post."))
	_, err := archive.CopyStore(ctx, other, dst, archive.CopyOptions{})
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

func TestCopyStoreStopsTheJournalAtADamagedManifest(t *testing.T) {
	_, src := archiveWithCaptures(t)
	want := objects(t, src)
	names := manifestsNamed(t, want)
	var ev, m string
	for e, mk := range names {
		if ev == "" || e > ev {
			ev, m = e, mk // the last capture's
		}
	}
	b := want[m]
	src.Corrupt(m, append([]byte("x"), b[1:]...))
	dst := memstore.New("copy")
	rep, err := archive.CopyStore(ctx, src, dst, archive.CopyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Failed) < 2 || rep.Failed[0].Key != m || !strings.Contains(rep.Failed[0].Message, "digest its event recorded") ||
		rep.Failed[1].Key != ev || !strings.Contains(rep.Failed[1].Message, "manifest it names") {
		t.Fatalf("failures %+v, want the manifest %s, then its event %s", rep.Failed, m, ev)
	}
	got := objects(t, dst)
	for k := range want {
		if _, ok := got[k]; ok && (k == m || (family(k) == 2 && k >= ev)) {
			t.Errorf("%s copied, want the journal to stop before %s", k, ev)
		}
	}
}

// hooked is a source store that runs a function, once, when the copy
// first lists prefix.
type hooked struct {
	*memstore.Store
	prefix string
	calls  int
	at     int
	fn     func()
}

func (h *hooked) List(ctx context.Context, prefix, after string, fn func(archive.ObjectInfo) error) error {
	if prefix == h.prefix {
		h.calls++
		if h.calls == h.at {
			h.fn()
		}
	}
	return h.Store.List(ctx, prefix, after, fn)
}

// A capture recorded while the copy runs (an archive written to during a
// copy): the copy holds the journal as it was when it began, whole, and
// the next copy brings the rest.
func TestCopyStoreOfAnArchiveWrittenMeanwhile(t *testing.T) {
	for _, tc := range []struct {
		name, prefix string
		at           int
	}{
		{"during the blobs", archive.BlobPrefix, 1},
		{"during the journal", archive.JournalPrefix, 2}, // the first lists its end
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, mem := archiveWithCaptures(t)
			src := &hooked{Store: mem, prefix: tc.prefix, at: tc.at, fn: func() {
				capture(t, a, "mastodon", false, post("5", "Written while the copy ran."))
			}}
			dst := memstore.New("copy")
			rep, err := archive.CopyStore(ctx, src, dst, archive.CopyOptions{})
			if err != nil || len(rep.Failed) != 0 {
				t.Fatalf("copy: %+v %v", rep, err)
			}
			if src.calls < tc.at {
				t.Fatalf("the capture meant to run during the copy did not")
			}
			b, res, err := archive.Init(ctx, archivetest.Options(t.TempDir(), archivetest.NewClock(archivetest.Start), archivetest.MemOpener(dst)), "mem")
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			vr, err := b.Verify(ctx, archive.VerifyOptions{})
			if err != nil || !vr.OK || res.Captures != 3 {
				t.Fatalf("the copy: %d captures, verify %v %+v; want the 3 the archive had when the copy began, undamaged", res.Captures, err, vr)
			}
		})
	}
}

// An event changed in the archive (its JSON still whole) breaks the hash
// chain at the event after it: the copy stops the journal there, names
// the event, and copies none after it.
func TestCopyStoreStopsTheJournalAtABrokenChain(t *testing.T) {
	_, src := archiveWithCaptures(t)
	want := objects(t, src)
	var events []string
	for k := range want {
		if family(k) == 2 {
			events = append(events, k)
		}
	}
	sort.Strings(events)
	if len(events) < 4 {
		t.Fatalf("the archive has %d events, want 4 or more", len(events))
	}
	changed, next := events[1], events[2]
	b := want[changed]
	i := bytes.Index(b, []byte(`"actor":"`))
	if i < 0 {
		t.Fatalf("event %s names no actor: %s", changed, b)
	}
	i += len(`"actor":"`)
	src.Corrupt(changed, append(append(append([]byte{}, b[:i]...), 'X'), b[i+1:]...))
	dst := memstore.New("copy")
	rep, err := archive.CopyStore(ctx, src, dst, archive.CopyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Failed) == 0 || rep.Failed[0].Key != next || !strings.Contains(rep.Failed[0].Message, "does not follow") {
		t.Fatalf("failures %+v, want the chain broken at %s", rep.Failed, next)
	}
	got := objects(t, dst)
	for _, k := range events[2:] {
		if _, ok := got[k]; ok {
			t.Errorf("%s copied after the chain broke", k)
		}
	}
}
