package diskstore_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/archivetest"
	"github.com/osmarc/osmarc/archive/diskstore"
	"github.com/osmarc/osmarc/archive/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) archive.BlobStore {
		s, err := diskstore.Open(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestConformanceOfANestedStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) archive.BlobStore {
		dir := t.TempDir()
		// What a store made before one-level blob directories holds.
		if err := os.MkdirAll(filepath.Join(dir, "blobs", "sha256", "00", "00"), 0o750); err != nil {
			t.Fatal(err)
		}
		s, err := diskstore.Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// A blob's key is blobs/sha256/<aa>/<bb>/<hex>, and its file in a new
// store is blobs/sha256/<aa>/<hex>: listings, reads and prefixes down to
// the key's second directory see the key.
func TestLayoutOnDisk(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := diskstore.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var keys []string
	for i := range 300 {
		b := []byte(fmt.Sprintf("blob %d", i))
		key := archive.BlobKey(archive.Sum(b))
		if err := archive.PutBytes(ctx, s, key, b); err != nil {
			t.Fatal(err)
		}
		keys = append(keys, key)
	}
	slices.Sort(keys)
	b := []byte("hello")
	d := archive.Sum(b)
	h := d.String()
	p := filepath.Join(dir, "blobs", "sha256", h[:2], h)
	if err := archive.PutBytes(ctx, s, archive.BlobKey(d), b); err != nil {
		t.Fatal(err)
	}
	keys = append(keys, archive.BlobKey(d))
	slices.Sort(keys)
	if got, err := os.ReadFile(p); err != nil || string(got) != "hello" {
		t.Fatalf("blob at %s: %q, %v", p, got, err)
	}
	if f, err := s.File(archive.BlobKey(d)); err != nil || f != p {
		t.Fatalf("File = %s, %v; want %s", f, err, p)
	}
	if _, err := os.Stat(filepath.Join(dir, "blobs", "sha256", h[:2], h[2:4])); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("a second-level directory was made: %v", err)
	}
	if got, err := archive.ReadAll(ctx, s, archive.BlobKey(d)); err != nil || string(got) != "hello" {
		t.Fatalf("read back: %q %v", got, err)
	}
	if got := listKeys(t, s, archive.BlobPrefix, ""); !slices.Equal(got, keys) {
		t.Fatalf("listed %d keys, want %d in order:\n%v\n%v", len(got), len(keys), got, keys)
	}
	mid := keys[len(keys)/2]
	if got := listKeys(t, s, archive.BlobPrefix, mid); !slices.Equal(got, keys[len(keys)/2+1:]) {
		t.Fatalf("after %s: %v", mid, got)
	}
	second := archive.BlobKey(d)[:len(archive.BlobPrefix)+6] // blobs/sha256/<aa>/<bb>/
	var want []string
	for _, k := range keys {
		if strings.HasPrefix(k, second) {
			want = append(want, k)
		}
	}
	if got := listKeys(t, s, second, ""); !slices.Equal(got, want) || len(want) == 0 {
		t.Fatalf("under %s: %v, want %v", second, got, want)
	}
	// A key of the blob namespace that is not a blob's names no file.
	if _, err := s.Open(ctx, archive.BlobPrefix+h[:2]+"/"+h); !errors.Is(err, archive.ErrInvalidKey) {
		t.Fatalf("open of a one-level blob key: %v", err)
	}
	// Opened again, the store is still read, and written, one level down.
	s2, err := diskstore.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if got := listKeys(t, s2, archive.BlobPrefix, ""); !slices.Equal(got, keys) {
		t.Fatalf("reopened, listed %d keys, not the %d written (first %v)", len(got), len(keys), got[:min(len(got), 2)])
	}
	more := []byte("after reopening")
	mh := archive.Sum(more).String()
	if err := archive.PutBytes(ctx, s2, archive.BlobKey(archive.Sum(more)), more); err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(filepath.Join(dir, "blobs", "sha256", mh[:2], mh)); err != nil || string(got) != string(more) {
		t.Fatalf("blob written after reopening: %q %v", got, err)
	}
}

// A store made with blob files two levels down keeps them there: what it
// holds is read, and new blobs join it at the path their key names.
func TestNestedStoreKeepsItsLayout(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	old := []byte("written by an earlier osmarc")
	od := archive.Sum(old).String()
	if err := os.MkdirAll(filepath.Join(dir, "blobs", "sha256", od[:2], od[2:4]), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "blobs", "sha256", od[:2], od[2:4], od), old, 0o640); err != nil {
		t.Fatal(err)
	}
	s, err := diskstore.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got, err := archive.ReadAll(ctx, s, archive.BlobKey(archive.Sum(old))); err != nil || string(got) != string(old) {
		t.Fatalf("old blob: %q %v", got, err)
	}
	b := []byte("new")
	h := archive.Sum(b).String()
	if err := archive.PutBytes(ctx, s, archive.BlobKey(archive.Sum(b)), b); err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(filepath.Join(dir, "blobs", "sha256", h[:2], h[2:4], h)); err != nil || string(got) != "new" {
		t.Fatalf("new blob in the nested layout: %q %v", got, err)
	}
	want := []string{archive.BlobKey(archive.Sum(old)), archive.BlobKey(archive.Sum(b))}
	slices.Sort(want)
	if got := listKeys(t, s, "", ""); !slices.Equal(got, want) {
		t.Fatalf("listed %v, want %v", got, want)
	}
	// Opened again, it is still read as nested.
	s2, err := diskstore.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if got := listKeys(t, s2, "", ""); !slices.Equal(got, want) {
		t.Fatalf("reopened, listed %v", got)
	}
}

func listKeys(t *testing.T, s archive.BlobStore, prefix, after string) []string {
	t.Helper()
	var keys []string
	if err := s.List(context.Background(), prefix, after, func(oi archive.ObjectInfo) error {
		keys = append(keys, oi.Key)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return keys
}

func TestTemporaryFilesNeverListed(t *testing.T) {
	dir := t.TempDir()
	s, err := diskstore.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// What a crash mid-write leaves: a temporary file beside the final name.
	if err := os.MkdirAll(filepath.Join(dir, "journal"), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "journal", ".tmp-123"), []byte("{partial"), 0o640); err != nil {
		t.Fatal(err)
	}
	var keys []string
	s.List(context.Background(), "", "", func(oi archive.ObjectInfo) error {
		keys = append(keys, oi.Key)
		return nil
	})
	if len(keys) != 0 {
		t.Fatalf("listed %v", keys)
	}
	if _, err := s.Open(context.Background(), "journal/.tmp-123"); err == nil || !strings.Contains(err.Error(), "temporary") {
		t.Fatalf("open of a temporary name: %v", err)
	}
}

func TestReadOnlyDirectory(t *testing.T) {
	if os.Geteuid() == 0 {
		// root writes anywhere; use a path under a regular file instead.
		f := filepath.Join(t.TempDir(), "file")
		os.WriteFile(f, nil, 0o600)
		if _, err := diskstore.Open(filepath.Join(f, "store")); err == nil {
			t.Fatal("opened a store below a regular file")
		}
		return
	}
	dir := t.TempDir()
	os.Chmod(dir, 0o500)
	defer os.Chmod(dir, 0o700)
	_, err := diskstore.Open(dir)
	if err == nil || !strings.Contains(err.Error(), "not writable") {
		t.Fatalf("err = %v", err)
	}
}

// A journal event is made durable by itself: its file and the directories
// that name it are synced; a key that was never written, or an invalid
// one, is an error, never a silent success.
func TestSyncObject(t *testing.T) {
	ctx := context.Background()
	s, err := diskstore.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var _ archive.ObjectSyncer = s
	key := "journal/00000000000000000001.json"
	if err := archive.PutBytes(ctx, s, key, []byte(`{"seq":1}`)); err != nil {
		t.Fatal(err)
	}
	if err := s.SyncObject(ctx, key); err != nil {
		t.Fatalf("sync of a written event: %v", err)
	}
	if err := s.SyncObject(ctx, "journal/00000000000000000002.json"); err == nil {
		t.Fatal("sync of an event never written succeeded")
	}
	if err := s.SyncObject(ctx, "../outside"); err == nil {
		t.Fatal("sync of an invalid key succeeded")
	}
}

// BenchmarkPutBlobs writes small blobs (an item version's size), as a
// capture does: the cost is the filesystem's, per object.
func BenchmarkPutBlobs(b *testing.B) {
	s, err := diskstore.Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	body := []byte(strings.Repeat("x", 600))
	i := 0
	u0, s0 := archivetest.CPU()
	for b.Loop() {
		i++
		copy(body, fmt.Sprintf("%020d", i)) // a new blob each time
		d := archive.Sum(body)
		if err := s.Put(ctx, archive.BlobKey(d), strings.NewReader(string(body)), int64(len(body)), d); err != nil {
			b.Fatal(err)
		}
	}
	u1, s1 := archivetest.CPU()
	b.ReportMetric(float64((u1-u0).Microseconds())/float64(i), "user-µs/op")
	b.ReportMetric(float64((s1-s0).Microseconds())/float64(i), "sys-µs/op")
}

// A blob whose bytes do not hash to its name, or are short, is refused
// and leaves no file behind, named or not (nor does the probe at Open);
// writing a blob that is there already keeps it.
func TestFailedBlobWriteLeavesNothing(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := diskstore.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	good := []byte("the parade is on saturday")
	d := archive.Sum(good)
	key := archive.BlobKey(d)
	if err := s.Put(ctx, key, strings.NewReader("the parade is on sunday!!"), int64(len(good)), d); !errors.Is(err, archive.ErrDigestMismatch) {
		t.Errorf("wrong bytes: %v", err)
	}
	if err := s.Put(ctx, key, strings.NewReader("the parade"), int64(len(good)), d); err == nil {
		t.Error("short bytes were taken")
	}
	var files []string
	filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			files = append(files, p)
		}
		return nil
	})
	if len(files) != 0 {
		t.Errorf("files left by failed writes: %v", files)
	}
	for range 2 {
		if err := archive.PutBytes(ctx, s, key, good); err != nil {
			t.Fatal(err)
		}
	}
	h := d.String()
	entries, err := os.ReadDir(filepath.Join(dir, "blobs", "sha256", h[:2]))
	if err != nil || len(entries) != 1 || entries[0].Name() != h {
		t.Errorf("blob directory after two writes of the same blob: %v %v", entries, err)
	}
	if got, err := os.ReadFile(filepath.Join(dir, "blobs", "sha256", h[:2], h)); err != nil || string(got) != string(good) {
		t.Errorf("blob: %q %v", got, err)
	}
}
