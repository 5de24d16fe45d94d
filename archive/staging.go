package archive

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/osmarc/osmarc/archive/catalog"
)

// staging hands a capture's new items to an IndexStager while the capture
// reads: a goroutine indexes one batch while the capture reads the next.
// Each staged item's fingerprint goes to a spool, eight bytes for each
// item line of the content spool (0 for an item not staged), which the
// capture's index pass reads beside the content at commit.
//
// Staging is only ever a head start: an item it failed to stage, or
// whose record came out other than predicted (seen twice, edited, its
// classification changed meanwhile), is indexed at commit as every item
// was before. Before the first batch is staged the capture is noted in the
// index-pending file, so if the process dies before the capture is
// recorded, the next writer discards what it staged (RepairIndex).
type staging struct {
	w      *CaptureWriter
	st     IndexStager
	fps    *os.File
	buf    []stagedItem
	ch     chan []stagedItem
	done   chan struct{}
	marked bool // the capture is in the index-pending file
	ended  bool

	mu  sync.Mutex
	err error // the first failure to stage; staging stopped there
}

func (s *staging) failed() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

func (s *staging) fail(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == nil {
		s.err = err
	}
}

type stagedItem struct {
	line int // the item's line in the content spool, from 0
	u    IndexUpdate
}

func newStaging(w *CaptureWriter, st IndexStager, tmpDir string) (*staging, error) {
	f, err := os.CreateTemp(tmpDir, "capture-"+w.id+"-staged-*")
	if err != nil {
		return nil, fmt.Errorf("spool staged items: %w", err)
	}
	return &staging{w: w, st: st, fps: f}, nil
}

// add stages the items of pending the catalog does not hold (have says
// which it holds; keys are their keys); first is the content line of
// pending[0].
func (s *staging) add(pending []pendingItem, keys []string, have []bool, first int) error {
	if s.ended || s.failed() != nil {
		return nil
	}
	w := s.w
	for i := range pending {
		if have[i] {
			continue
		}
		p := &pending[i]
		it := p.item
		// The record the catalog will make of its first sighting.
		ci := catalog.Item{
			Key: keys[i], Platform: it.Platform, Account: it.Account, ID: it.ID, Kind: it.Kind,
			CreatedAt: p.created, FirstSeen: p.opts.SeenAt, LastSeen: p.opts.SeenAt,
			Versions:  []catalog.Version{{Digest: p.digest.String(), Size: int64(len(p.canon)), CapturedAt: p.opts.SeenAt, Capture: w.id}},
			RemovedAt: p.opts.RemovedAt, SeenBy: []string{w.opts.Collector},
		}
		if ci.RemovedAt != nil {
			ci.RemovedBy = w.id
		}
		s.buf = append(s.buf, stagedItem{line: first + i, u: IndexUpdate{Item: ci, Latest: &it}})
	}
	if len(s.buf) >= IndexBatch {
		return s.send()
	}
	return nil
}

// send hands the buffered items to the staging goroutine, starting it
// (and noting the capture as pending) the first time.
func (s *staging) send() error {
	if len(s.buf) == 0 {
		return nil
	}
	if !s.marked {
		if err := s.w.a.markIndexPending(s.w.id); err != nil {
			return err
		}
		s.marked = true
		s.ch = make(chan []stagedItem, 1)
		s.done = make(chan struct{})
		go s.run()
	}
	b := s.buf
	s.buf = nil
	select {
	case s.ch <- b:
		return nil
	case <-s.w.ctx.Done():
		return s.w.ctx.Err()
	}
}

// run stages batches until the channel closes, writing each item's
// fingerprint at its line.
func (s *staging) run() {
	defer close(s.done)
	bw := bufio.NewWriterSize(s.fps, 64<<10)
	next := 0
	var rec [8]byte
	for b := range s.ch {
		if s.failed() != nil {
			continue
		}
		ups := make([]IndexUpdate, len(b))
		for i := range b {
			ups[i] = b[i].u
		}
		fps, err := s.st.Stage(s.w.ctx, s.w.id, ups)
		if err == nil && len(fps) != len(b) {
			err = fmt.Errorf("index: staged %d items, not %d", len(fps), len(b))
		}
		for i := 0; err == nil && i < len(b); i++ {
			for ; next < b[i].line; next++ {
				clear(rec[:])
				bw.Write(rec[:])
			}
			binary.LittleEndian.PutUint64(rec[:], fps[i])
			_, err = bw.Write(rec[:])
			next++
		}
		if err != nil {
			s.fail(err)
		}
	}
	if err := bw.Flush(); err != nil {
		s.fail(err)
	}
}

// end stages what is buffered and waits for the staging goroutine.
func (s *staging) end() {
	if s.ended {
		return
	}
	if s.failed() == nil && s.w.ctx.Err() == nil {
		if err := s.send(); err != nil {
			s.fail(err)
		}
	}
	s.ended = true
	if s.ch != nil {
		close(s.ch)
		<-s.done
	}
}

// fingerprints returns a reader of the fingerprints, one per content
// line in order (0 past the end of what was staged, or if staging failed
// part way: every item is then indexed at commit).
func (s *staging) fingerprints() (func() uint64, error) {
	if !s.ended || s.failed() != nil || !s.marked {
		return func() uint64 { return 0 }, nil
	}
	if _, err := s.fps.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	br := bufio.NewReaderSize(s.fps, 64<<10)
	var rec [8]byte
	return func() uint64 {
		if _, err := io.ReadFull(br, rec[:]); err != nil {
			return 0
		}
		return binary.LittleEndian.Uint64(rec[:])
	}, nil
}

// discard takes out what an abandoned capture staged, and forgets the
// capture as pending once that is done (if it fails, the next writer's
// RepairIndex does it).
func (s *staging) discard() {
	if !s.marked {
		return
	}
	w := s.w
	if err := s.st.Discard(context.WithoutCancel(w.ctx), w.id, w.a.lookupItem); err == nil {
		w.a.clearIndexPending(w.id)
	}
}

// lookupItem is the catalog's record of an item, if it holds one.
func (a *Archive) lookupItem(key string) (catalog.Item, bool, error) {
	it, err := a.cat.Item(key)
	if errors.Is(err, catalog.ErrNotFound) {
		return it, false, nil
	}
	return it, err == nil, err
}
