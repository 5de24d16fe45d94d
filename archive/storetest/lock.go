package storetest

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/osmarc/osmarc/archive"
)

// Option changes how Run checks a store.
type Option func(*config)

type config struct {
	now   func() time.Time
	sleep func(time.Duration)
}

// WithClock gives the suite the store's clock and a way to let time pass:
// a memory store's injected clock and a function that moves it. Without
// it the suite uses time.Now and time.Sleep, which is what a real service
// needs (its lock tests then wait a few seconds).
func WithClock(now func() time.Time, sleep func(time.Duration)) Option {
	return func(c *config) { c.now, c.sleep = now, sleep }
}

// shortRetention is how long the suite retains an object it then waits
// out. S3 keeps retain-until dates to the second, so it must be longer
// than one.
const shortRetention = 2 * time.Second

// runLock checks the archive.Locker contract. Locking is a capability, not
// an environment: a store that does not implement Locker is not asked
// about locks at all, and one whose lock is not enabled must refuse the
// locking operations with ErrNoObjectLock.
func runLock(t *testing.T, newStore func(t *testing.T) archive.BlobStore, cfg config) {
	probe := newStore(t)
	t.Cleanup(func() { probe.Close() })
	l, ok := probe.(archive.Locker)
	if !ok {
		t.Logf("%T does not implement archive.Locker: no lock checks", probe)
		return
	}
	info, err := l.LockInfo(context.Background())
	if err != nil {
		t.Fatalf("LockInfo: %v", err)
	}
	if !info.Enabled {
		testLockDisabled(t, probe, l, cfg)
		return
	}
	if info.Mode != archive.LockGovernance && info.Mode != archive.LockCompliance {
		t.Fatalf("LockInfo: enabled with mode %q", info.Mode)
	}
	tests := []struct {
		name string
		fn   func(t *testing.T, s archive.BlobStore, l archive.Locker, cfg config, info archive.LockConfig)
	}{
		{"RetainUntilBlocksDelete", testRetainUntilBlocksDelete},
		{"LegalHoldBlocksDelete", testLegalHoldBlocksDelete},
		{"RetentionOnlyExtends", testRetentionOnlyExtends},
		{"PutLockedExistingBlob", testPutLockedExisting},
		{"PastDateRefused", testPastDateRefused},
		{"MissingKey", testLockMissing},
		{"DeleteDestroysAllVersions", testDeleteThenPutAgain},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t)
			t.Cleanup(func() { s.Close() })
			tc.fn(t, s, s.(archive.Locker), cfg, info)
		})
	}
}

func testLockDisabled(t *testing.T, s archive.BlobStore, l archive.Locker, cfg config) {
	ctx := context.Background()
	data := []byte("no lock here")
	key := archive.BlobKey(archive.Sum(data))
	until := cfg.now().Add(time.Hour)
	if err := l.PutLocked(ctx, key, strings.NewReader(string(data)), int64(len(data)), archive.Sum(data), until); !errors.Is(err, archive.ErrNoObjectLock) {
		t.Errorf("PutLocked without Object Lock: %v, want ErrNoObjectLock", err)
	}
	put(t, s, key, data)
	if err := l.ExtendRetention(ctx, key, until); !errors.Is(err, archive.ErrNoObjectLock) {
		t.Errorf("ExtendRetention without Object Lock: %v, want ErrNoObjectLock", err)
	}
	if err := l.SetLegalHold(ctx, key, true); !errors.Is(err, archive.ErrNoObjectLock) {
		t.Errorf("SetLegalHold without Object Lock: %v, want ErrNoObjectLock", err)
	}
	if st, err := l.LockState(ctx, key); err != nil || st != (archive.ObjectLock{}) {
		t.Errorf("LockState without Object Lock = %+v, %v; want no lock", st, err)
	}
	if err := s.Delete(ctx, key); err != nil {
		t.Errorf("delete: %v", err)
	}
}

func putLocked(t *testing.T, l archive.Locker, data []byte, until time.Time) string {
	t.Helper()
	key := archive.BlobKey(archive.Sum(data))
	if err := l.PutLocked(context.Background(), key, strings.NewReader(string(data)), int64(len(data)), archive.Sum(data), until); err != nil {
		t.Fatalf("PutLocked %s: %v", key, err)
	}
	return key
}

func lockState(t *testing.T, l archive.Locker, key string) archive.ObjectLock {
	t.Helper()
	st, err := l.LockState(context.Background(), key)
	if err != nil {
		t.Fatalf("LockState %s: %v", key, err)
	}
	return st
}

// refused checks that Delete refuses key with ErrRetained and a message
// naming the key and what retains it, and that the object is still there.
func refused(t *testing.T, s archive.BlobStore, key, says string) {
	t.Helper()
	err := s.Delete(context.Background(), key)
	if !errors.Is(err, archive.ErrRetained) {
		t.Fatalf("delete of a retained object: %v, want ErrRetained", err)
	}
	msg := err.Error()
	if !strings.Contains(msg, key) || !strings.Contains(msg, says) {
		t.Errorf("refusal %q does not name the key and say %q", msg, says)
	}
	if strings.ContainsAny(msg, "\r\n") {
		t.Errorf("refusal is not one line: %q", msg)
	}
	if !exists(t, s, key) {
		t.Fatal("the refused delete removed the object")
	}
}

func testRetainUntilBlocksDelete(t *testing.T, s archive.BlobStore, l archive.Locker, cfg config, info archive.LockConfig) {
	until := cfg.now().Add(shortRetention)
	data := []byte("retained for a little while")
	key := putLocked(t, l, data, until)
	st := lockState(t, l, key)
	if st.RetainUntil.Before(until.Truncate(time.Second)) || st.RetainUntil.After(until.Add(time.Second)) || st.Mode != info.Mode || st.LegalHold {
		t.Fatalf("lock after PutLocked until %s = %+v, want that date (to the second) in mode %s", until, st, info.Mode)
	}
	refused(t, s, key, "retained until "+st.RetainUntil.UTC().Format(time.RFC3339))
	if got := read(t, s, key); string(got) != string(data) {
		t.Fatalf("read back %q", got)
	}
	// Let the date pass.
	cfg.sleep(st.RetainUntil.Sub(cfg.now()) + 500*time.Millisecond)
	if err := s.Delete(context.Background(), key); err != nil {
		t.Fatalf("delete after the retain-until date: %v", err)
	}
	if exists(t, s, key) {
		t.Fatal("deleted object still exists")
	}
}

func testLegalHoldBlocksDelete(t *testing.T, s archive.BlobStore, l archive.Locker, cfg config, info archive.LockConfig) {
	ctx := context.Background()
	key := putBlob(t, s, []byte("evidence"))
	for range 2 { // the second time is a no-op
		if err := l.SetLegalHold(ctx, key, true); err != nil {
			t.Fatalf("SetLegalHold on: %v", err)
		}
	}
	if st := lockState(t, l, key); !st.LegalHold || !st.RetainUntil.IsZero() {
		t.Fatalf("lock after SetLegalHold = %+v", st)
	}
	refused(t, s, key, "legal hold")
	cfg.sleep(time.Second) // time does not release a hold
	refused(t, s, key, "legal hold")
	for range 2 {
		if err := l.SetLegalHold(ctx, key, false); err != nil {
			t.Fatalf("SetLegalHold off: %v", err)
		}
	}
	if st := lockState(t, l, key); st.LegalHold {
		t.Fatalf("lock after removing the hold = %+v", st)
	}
	if err := s.Delete(ctx, key); err != nil {
		t.Fatalf("delete after the hold was removed: %v", err)
	}
	if exists(t, s, key) {
		t.Fatal("deleted object still exists")
	}
}

func testRetentionOnlyExtends(t *testing.T, s archive.BlobStore, l archive.Locker, cfg config, info archive.LockConfig) {
	ctx := context.Background()
	first := cfg.now().Add(time.Hour).Truncate(time.Second)
	key := putLocked(t, l, []byte("kept an hour, then two"), first)
	if err := l.ExtendRetention(ctx, key, first); err != nil {
		t.Fatalf("ExtendRetention to the same date: %v", err)
	}
	later := first.Add(time.Hour)
	if err := l.ExtendRetention(ctx, key, later); err != nil {
		t.Fatalf("ExtendRetention: %v", err)
	}
	if st := lockState(t, l, key); !st.RetainUntil.Equal(later) {
		t.Fatalf("retained until %s after extending to %s", st.RetainUntil, later)
	}
	err := l.ExtendRetention(ctx, key, first)
	if !errors.Is(err, archive.ErrRetentionShortened) {
		t.Fatalf("shortening: %v, want ErrRetentionShortened", err)
	}
	if msg := err.Error(); !strings.Contains(msg, key) || !strings.Contains(msg, later.UTC().Format(time.RFC3339)) {
		t.Errorf("refusal %q does not name the key and the date it is retained until", msg)
	}
	if st := lockState(t, l, key); !st.RetainUntil.Equal(later) {
		t.Fatalf("retained until %s after a refused shortening, want %s", st.RetainUntil, later)
	}
	refused(t, s, key, "retained until")
}

func testPutLockedExisting(t *testing.T, s archive.BlobStore, l archive.Locker, cfg config, info archive.LockConfig) {
	ctx := context.Background()
	first := cfg.now().Add(time.Hour).Truncate(time.Second)
	data := []byte("shared content")
	key := putLocked(t, l, data, first)
	later := first.Add(24 * time.Hour)
	putLocked(t, l, data, later)
	if st := lockState(t, l, key); !st.RetainUntil.Equal(later) {
		t.Fatalf("retained until %s after PutLocked of the same blob until %s", st.RetainUntil, later)
	}
	putLocked(t, l, data, first) // at least until first: already so
	if st := lockState(t, l, key); !st.RetainUntil.Equal(later) {
		t.Fatalf("PutLocked with an earlier date changed the retention to %s", st.RetainUntil)
	}
	// A plain blob written before gets the retention too.
	plain := []byte("written before the lock")
	pk := putBlob(t, s, plain)
	putLocked(t, l, plain, first)
	if st := lockState(t, l, pk); !st.RetainUntil.Equal(first) {
		t.Fatalf("PutLocked of an existing unlocked blob: retained until %s, want %s", st.RetainUntil, first)
	}
	// Other keys stay create-only.
	jk := "journal/00000000000000000001.json"
	j := []byte(`{"seq":1}`)
	if err := l.PutLocked(ctx, jk, strings.NewReader(string(j)), int64(len(j)), archive.Sum(j), first); err != nil {
		t.Fatal(err)
	}
	if err := l.PutLocked(ctx, jk, strings.NewReader(string(j)), int64(len(j)), archive.Sum(j), first); !errors.Is(err, archive.ErrExists) {
		t.Fatalf("second PutLocked of a journal key: %v, want ErrExists", err)
	}
}

func testPastDateRefused(t *testing.T, s archive.BlobStore, l archive.Locker, cfg config, info archive.LockConfig) {
	ctx := context.Background()
	past := cfg.now().Add(-time.Hour)
	data := []byte("a date gone by")
	key := archive.BlobKey(archive.Sum(data))
	if err := l.PutLocked(ctx, key, strings.NewReader(string(data)), int64(len(data)), archive.Sum(data), past); err == nil {
		t.Fatal("PutLocked with a past date succeeded")
	}
	if exists(t, s, key) {
		t.Error("PutLocked with a past date wrote the object")
	}
	put(t, s, key, data)
	if err := l.ExtendRetention(ctx, key, past); err == nil {
		t.Fatal("ExtendRetention to a past date succeeded")
	}
	if st := lockState(t, l, key); st.Retained(cfg.now()) {
		t.Fatalf("lock after refused changes = %+v", st)
	}
}

func testLockMissing(t *testing.T, s archive.BlobStore, l archive.Locker, cfg config, info archive.LockConfig) {
	ctx := context.Background()
	key := archive.BlobKey(archive.Sum([]byte("never written")))
	if err := l.ExtendRetention(ctx, key, cfg.now().Add(time.Hour)); !errors.Is(err, archive.ErrNotFound) {
		t.Errorf("ExtendRetention of a missing key: %v, want ErrNotFound", err)
	}
	if err := l.SetLegalHold(ctx, key, true); !errors.Is(err, archive.ErrNotFound) {
		t.Errorf("SetLegalHold of a missing key: %v, want ErrNotFound", err)
	}
	if _, err := l.LockState(ctx, key); !errors.Is(err, archive.ErrNotFound) {
		t.Errorf("LockState of a missing key: %v, want ErrNotFound", err)
	}
	if err := s.Delete(ctx, key); err != nil {
		t.Errorf("delete of a missing key: %v", err)
	}
	if exists(t, s, key) {
		t.Error("a locking call on a missing key created it")
	}
}

// testDeleteThenPutAgain: a deleted object is gone, not hidden (on a
// versioned bucket a delete marker would hide it and keep the bytes), so
// writing the same blob again stores it again.
func testDeleteThenPutAgain(t *testing.T, s archive.BlobStore, l archive.Locker, cfg config, info archive.LockConfig) {
	ctx := context.Background()
	data := []byte("destroyed, then captured again")
	key := putBlob(t, s, data)
	if err := s.Delete(ctx, key); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, key); err != nil {
		t.Fatalf("second delete: %v", err)
	}
	if exists(t, s, key) {
		t.Fatal("deleted object still exists")
	}
	put(t, s, key, data)
	if got := read(t, s, key); string(got) != string(data) {
		t.Fatalf("after delete and put again, read %q (%v)", got, exists(t, s, key))
	}
}
