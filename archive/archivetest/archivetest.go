// Package archivetest helps tests (and the benchmark) build archives: a
// clock that tests move, a deterministic id source, archives on a memory or
// disk store in a temporary directory, and a reproducible synthetic corpus
// in osmarc's item format.
package archivetest

import (
	"context"
	"math/rand/v2"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/diskstore"
	"github.com/osmarc/osmarc/archive/memstore"
)

// Clock is a clock tests move by hand.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock starts a clock at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t.UTC()} }

// Now is the clock's time; each call moves it on by a millisecond so
// events and captures keep their order.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Millisecond)
	return c.t
}

// Advance moves the clock.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// Start is where test clocks start.
var Start = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

// Rand is a deterministic id source.
type Rand struct {
	mu sync.Mutex
	r  *rand.ChaCha8
}

// NewRand returns a source seeded with seed.
func NewRand(seed byte) *Rand {
	var s [32]byte
	s[0] = seed
	return &Rand{r: rand.NewChaCha8(s)}
}

func (r *Rand) Read(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.r.Read(p)
}

// Options returns archive options for dir with a test clock and ids.
func Options(dir string, clock *Clock, open archive.StoreOpener) archive.Options {
	return archive.Options{Dir: dir, Actor: "records.officer@example.gov", Now: clock.Now, Rand: NewRand(1), OpenStore: open, Concurrency: 4}
}

// MemOpener always opens the same memory store, whatever the URL.
func MemOpener(s *memstore.Store) archive.StoreOpener {
	return func(context.Context, string, string) (archive.BlobStore, error) { return nopClose{s}, nil }
}

// nopClose keeps a shared memory store open across archives.
type nopClose struct{ archive.BlobStore }

func (nopClose) Close() error { return nil }

// Unwrap returns the memory store.
func (n nopClose) Unwrap() archive.BlobStore { return n.BlobStore }

// DiskOpener opens a disk store at dir, whatever the URL.
func DiskOpener(dir string) archive.StoreOpener {
	return func(context.Context, string, string) (archive.BlobStore, error) { return diskstore.Open(dir) }
}

// New creates an archive in a temporary data directory on a fresh memory
// store, and closes it when the test ends.
func New(tb testing.TB) (*archive.Archive, *memstore.Store, *Clock) {
	tb.Helper()
	store := memstore.New(tb.Name())
	clock := NewClock(Start)
	a, _, err := archive.Init(context.Background(), Options(tb.TempDir(), clock, MemOpener(store)), "mem")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { a.Close() })
	return a, store, clock
}

// CPU is the CPU time this process has used so far, user and system: for
// benchmarks on a shared machine, where wall time says little.
func CPU() (user, sys time.Duration) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, 0
	}
	return time.Duration(ru.Utime.Nano()), time.Duration(ru.Stime.Nano())
}
