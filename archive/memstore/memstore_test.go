package memstore_test

import (
	"sync"
	"testing"
	"time"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/memstore"
	"github.com/osmarc/osmarc/archive/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) archive.BlobStore { return memstore.New(t.Name()) })
}

// clock is a clock the lock tests move instead of waiting.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) sleep(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestConformanceObjectLock(t *testing.T) {
	for _, mode := range []archive.LockMode{archive.LockGovernance, archive.LockCompliance} {
		t.Run(string(mode), func(t *testing.T) {
			c := &clock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
			storetest.Run(t, func(t *testing.T) archive.BlobStore {
				return memstore.New(t.Name(), memstore.WithObjectLock(mode, c.now))
			}, storetest.WithClock(c.now, c.sleep))
		})
	}
}
