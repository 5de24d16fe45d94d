package archivetest

import (
	"context"
	"testing"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/memstore"
)

// NewLocked is New on a memory store with Object Lock in mode, whose
// retain-until dates pass by the archive's clock: tests move the clock to
// let them pass.
func NewLocked(tb testing.TB, mode archive.LockMode) (*archive.Archive, *memstore.Store, *Clock) {
	tb.Helper()
	clock := NewClock(Start)
	store := memstore.New(tb.Name(), memstore.WithObjectLock(mode, clock.Now))
	a, _, err := archive.Init(context.Background(), Options(tb.TempDir(), clock, LockingMemOpener(store)), "mem")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { a.Close() })
	return a, store, clock
}

// LockingMemOpener is MemOpener for a store with Object Lock: the store it
// opens is an archive.Locker too.
func LockingMemOpener(s *memstore.Store) archive.StoreOpener {
	return func(context.Context, string, string) (archive.BlobStore, error) {
		return nopCloseLocker{nopClose{s}, s}, nil
	}
}

// nopCloseLocker keeps a shared memory store open and its locks visible.
type nopCloseLocker struct {
	nopClose
	archive.Locker
}
