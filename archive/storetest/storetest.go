// Package storetest is the conformance suite every archive.BlobStore
// passes. A store's test calls Run with a function that returns a fresh,
// empty store; the suite checks the contract written on archive.BlobStore.
package storetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/osmarc/osmarc/archive"
)

// Run checks the BlobStore contract against stores made by newStore. Each
// subtest gets its own empty store. Stores that implement archive.Locker
// are checked against its contract too (lock.go).
func Run(t *testing.T, newStore func(t *testing.T) archive.BlobStore, opts ...Option) {
	t.Helper()
	cfg := config{now: time.Now, sleep: time.Sleep}
	for _, o := range opts {
		o(&cfg)
	}
	tests := []struct {
		name string
		fn   func(t *testing.T, s archive.BlobStore)
	}{
		{"PutOpenBlob", testPutOpenBlob},
		{"PutSameBlobTwice", testPutSameBlobTwice},
		{"PutWrongDigestRefused", testPutWrongDigest},
		{"PutBlobKeyNamesOtherDigest", testBlobKeyOtherDigest},
		{"PutShortReaderRefused", testShortReader},
		{"NonBlobKeyCreateOnly", testCreateOnly},
		{"NotFound", testNotFound},
		{"InvalidKeys", testInvalidKeys},
		{"ListOrderPrefixStartAfter", testList},
		{"Delete", testDelete},
		{"EmptyObject", testEmpty},
		{"LargeObject", testLarge},
		{"Concurrent", testConcurrent},
		{"Sync", testSync},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t)
			t.Cleanup(func() { s.Close() })
			tc.fn(t, s)
		})
	}
	t.Run("ObjectLock", func(t *testing.T) { runLock(t, newStore, cfg) })
}

func put(t *testing.T, s archive.BlobStore, key string, b []byte) {
	t.Helper()
	if err := archive.PutBytes(context.Background(), s, key, b); err != nil {
		t.Fatalf("put %s: %v", key, err)
	}
}

func putBlob(t *testing.T, s archive.BlobStore, b []byte) string {
	t.Helper()
	key := archive.BlobKey(archive.Sum(b))
	put(t, s, key, b)
	return key
}

func read(t *testing.T, s archive.BlobStore, key string) []byte {
	t.Helper()
	b, err := archive.ReadAll(context.Background(), s, key)
	if err != nil {
		t.Fatalf("read %s: %v", key, err)
	}
	return b
}

func exists(t *testing.T, s archive.BlobStore, key string) bool {
	t.Helper()
	_, err := s.Stat(context.Background(), key)
	if errors.Is(err, archive.ErrNotFound) {
		return false
	}
	if err != nil {
		t.Fatalf("stat %s: %v", key, err)
	}
	return true
}

func listAll(t *testing.T, s archive.BlobStore, prefix, after string) []archive.ObjectInfo {
	t.Helper()
	var out []archive.ObjectInfo
	err := s.List(context.Background(), prefix, after, func(oi archive.ObjectInfo) error {
		out = append(out, oi)
		return nil
	})
	if err != nil {
		t.Fatalf("list %q after %q: %v", prefix, after, err)
	}
	return out
}

func testPutOpenBlob(t *testing.T, s archive.BlobStore) {
	data := []byte(`{"text":"Parade on Saturday"}`)
	key := putBlob(t, s, data)
	if got := read(t, s, key); !bytes.Equal(got, data) {
		t.Fatalf("read back %q, want %q", got, data)
	}
	oi, err := s.Stat(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	if oi.Key != key || oi.Size != int64(len(data)) {
		t.Fatalf("stat = %+v, want key %s size %d", oi, key, len(data))
	}
	if _, err := archive.ReadBlob(context.Background(), s, archive.Sum(data)); err != nil {
		t.Fatalf("ReadBlob: %v", err)
	}
}

func testPutSameBlobTwice(t *testing.T, s archive.BlobStore) {
	data := []byte("same bytes")
	key := putBlob(t, s, data)
	put(t, s, key, data) // idempotent
	if n := len(listAll(t, s, archive.BlobPrefix, "")); n != 1 {
		t.Fatalf("%d blobs after putting the same bytes twice, want 1", n)
	}
	if got := read(t, s, key); !bytes.Equal(got, data) {
		t.Fatalf("read back %q", got)
	}
}

func testPutWrongDigest(t *testing.T, s archive.BlobStore) {
	ctx := context.Background()
	data := []byte("what was claimed")
	other := []byte("what was sent!!!") // same length
	// A non-blob key whose claimed digest is wrong.
	err := s.Put(ctx, "journal/00000000000000000001.json", bytes.NewReader(other), int64(len(other)), archive.Sum(data))
	if !errors.Is(err, archive.ErrDigestMismatch) {
		t.Fatalf("put with wrong digest: err = %v, want ErrDigestMismatch", err)
	}
	if exists(t, s, "journal/00000000000000000001.json") {
		t.Fatal("object exists after a refused put")
	}
	// A blob key whose bytes do not match.
	key := archive.BlobKey(archive.Sum(data))
	err = s.Put(ctx, key, bytes.NewReader(other), int64(len(other)), archive.Sum(data))
	if !errors.Is(err, archive.ErrDigestMismatch) {
		t.Fatalf("put blob with wrong bytes: err = %v, want ErrDigestMismatch", err)
	}
	if exists(t, s, key) {
		t.Fatal("blob exists after a refused put")
	}
	if n := len(listAll(t, s, "", "")); n != 0 {
		t.Fatalf("%d objects listed after refused puts, want 0", n)
	}
	// The key stays usable with the right bytes.
	put(t, s, key, data)
}

func testBlobKeyOtherDigest(t *testing.T, s archive.BlobStore) {
	a, b := []byte("a"), []byte("b")
	err := s.Put(context.Background(), archive.BlobKey(archive.Sum(a)), bytes.NewReader(b), 1, archive.Sum(b))
	if !errors.Is(err, archive.ErrDigestMismatch) {
		t.Fatalf("err = %v, want ErrDigestMismatch", err)
	}
}

func testShortReader(t *testing.T, s archive.BlobStore) {
	data := []byte("twelve bytes")
	key := archive.BlobKey(archive.Sum(data))
	err := s.Put(context.Background(), key, bytes.NewReader(data[:5]), int64(len(data)), archive.Sum(data))
	if err == nil {
		t.Fatal("put of a reader shorter than size succeeded")
	}
	if exists(t, s, key) {
		t.Fatal("a partial object is visible")
	}
}

func testCreateOnly(t *testing.T, s archive.BlobStore) {
	key := "journal/00000000000000000007.json"
	put(t, s, key, []byte(`{"seq":7}`))
	err := archive.PutBytes(context.Background(), s, key, []byte(`{"seq":7,"forged":true}`))
	if !errors.Is(err, archive.ErrExists) {
		t.Fatalf("second put of %s: err = %v, want ErrExists", key, err)
	}
	if got := read(t, s, key); string(got) != `{"seq":7}` {
		t.Fatalf("object replaced: %q", got)
	}
}

func testNotFound(t *testing.T, s archive.BlobStore) {
	ctx := context.Background()
	key := archive.BlobKey(archive.Sum([]byte("never written")))
	if _, err := s.Open(ctx, key); !errors.Is(err, archive.ErrNotFound) {
		t.Fatalf("open missing: err = %v, want ErrNotFound", err)
	}
	if _, err := s.Stat(ctx, key); !errors.Is(err, archive.ErrNotFound) {
		t.Fatalf("stat missing: err = %v, want ErrNotFound", err)
	}
	if err := s.Delete(ctx, key); err != nil {
		t.Fatalf("delete missing: %v", err)
	}
}

func testInvalidKeys(t *testing.T, s archive.BlobStore) {
	ctx := context.Background()
	for _, key := range []string{"", "/abs", "a/../b", "../x", "a//b", "./a", "a/", "a\\b", "a\x00b", "a\nb"} {
		b := []byte("x")
		if err := s.Put(ctx, key, bytes.NewReader(b), 1, archive.Sum(b)); !errors.Is(err, archive.ErrInvalidKey) {
			t.Errorf("put %q: err = %v, want ErrInvalidKey", key, err)
		}
		if _, err := s.Open(ctx, key); !errors.Is(err, archive.ErrInvalidKey) {
			t.Errorf("open %q: err = %v, want ErrInvalidKey", key, err)
		}
	}
}

func testList(t *testing.T, s archive.BlobStore) {
	keys := []string{
		"captures/2024/01/02/a.jsonl",
		"captures/2024/01/02/b.jsonl",
		"captures/2024/11/30/c.jsonl",
		"journal/00000000000000000001.json",
		"journal/00000000000000000002.json",
		"journal/00000000000000000010.json",
	}
	for i := len(keys) - 1; i >= 0; i-- {
		put(t, s, keys[i], []byte(keys[i]))
	}
	var blobs []string
	for i := range 20 {
		blobs = append(blobs, putBlob(t, s, fmt.Appendf(nil, "blob %d", i)))
	}
	slices.Sort(blobs)

	got := listAll(t, s, "", "")
	var names []string
	for _, oi := range got {
		names = append(names, oi.Key)
		if oi.Size != int64(len(read(t, s, oi.Key))) {
			t.Errorf("list size of %s = %d, want its length", oi.Key, oi.Size)
		}
	}
	want := append(append([]string{}, blobs...), keys...)
	slices.Sort(want)
	if !slices.Equal(names, want) {
		t.Fatalf("list all:\n got %q\nwant %q", names, want)
	}
	keysOf := func(ois []archive.ObjectInfo) []string {
		var out []string
		for _, oi := range ois {
			out = append(out, oi.Key)
		}
		return out
	}
	if got := keysOf(listAll(t, s, archive.JournalPrefix, "")); !slices.Equal(got, keys[3:]) {
		t.Errorf("list journal = %q", got)
	}
	if got := keysOf(listAll(t, s, archive.JournalPrefix, keys[3])); !slices.Equal(got, keys[4:]) {
		t.Errorf("list journal after first = %q, want %q", got, keys[4:])
	}
	if got := keysOf(listAll(t, s, "captures/2024/01/", "")); !slices.Equal(got, keys[:2]) {
		t.Errorf("list captures/2024/01/ = %q", got)
	}
	if got := keysOf(listAll(t, s, archive.BlobPrefix, blobs[9])); !slices.Equal(got, blobs[10:]) {
		t.Errorf("list blobs after the tenth = %d keys, want %d", len(got), len(blobs[10:]))
	}
	if got := listAll(t, s, "nothing/", ""); len(got) != 0 {
		t.Errorf("list of an empty prefix = %v", got)
	}
	// An error from fn stops the listing and comes back.
	stop := errors.New("stop")
	n := 0
	err := s.List(context.Background(), "", "", func(archive.ObjectInfo) error {
		n++
		if n == 3 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 3 {
		t.Fatalf("list with a stopping fn: err = %v after %d calls", err, n)
	}
}

func testDelete(t *testing.T, s archive.BlobStore) {
	keep := putBlob(t, s, []byte("kept"))
	gone := putBlob(t, s, []byte("destroyed"))
	if err := s.Delete(context.Background(), gone); err != nil {
		t.Fatal(err)
	}
	if exists(t, s, gone) {
		t.Fatal("deleted blob still exists")
	}
	if !exists(t, s, keep) {
		t.Fatal("the other blob went too")
	}
	if got := listAll(t, s, "", ""); len(got) != 1 || got[0].Key != keep {
		t.Fatalf("list after delete = %v", got)
	}
}

func testEmpty(t *testing.T, s archive.BlobStore) {
	key := putBlob(t, s, nil)
	if got := read(t, s, key); len(got) != 0 {
		t.Fatalf("empty blob reads back %d bytes", len(got))
	}
}

func testLarge(t *testing.T, s archive.BlobStore) {
	data := make([]byte, 5<<20+123)
	if _, err := rand.Read(data); err != nil {
		t.Fatal(err)
	}
	key := archive.BlobKey(archive.Sum(data))
	// Stream it through a reader that is not a bytes.Reader.
	err := s.Put(context.Background(), key, io.MultiReader(bytes.NewReader(data[:1000]), bytes.NewReader(data[1000:])), int64(len(data)), archive.Sum(data))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := archive.ReadBlob(context.Background(), s, archive.Sum(data)); err != nil {
		t.Fatal(err)
	}
}

func testConcurrent(t *testing.T, s archive.BlobStore) {
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 25 {
				// Writers overlap on half the blobs.
				b := fmt.Appendf(nil, "item %d", (w%2)*1000+i)
				if err := archive.PutBytes(context.Background(), s, archive.BlobKey(archive.Sum(b)), b); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if n := len(listAll(t, s, archive.BlobPrefix, "")); n != 50 {
		t.Fatalf("%d blobs after concurrent puts, want 50", n)
	}
	for _, oi := range listAll(t, s, archive.BlobPrefix, "") {
		d, err := archive.ParseBlobKey(oi.Key)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := archive.ReadBlob(context.Background(), s, d); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(oi.Key, "tmp") {
			t.Fatalf("temporary object listed: %s", oi.Key)
		}
	}
}

func testSync(t *testing.T, s archive.BlobStore) {
	putBlob(t, s, []byte("durable"))
	if err := s.Sync(context.Background()); err != nil {
		t.Fatalf("sync: %v", err)
	}
	if s.Location() == "" {
		t.Fatal("Location is empty")
	}
}
