package archive

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"iter"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/osmarc/osmarc/archive/catalog"
)

// The search index is derived, and a capture updates it last: a process
// that dies after the capture's journal event and before the index holds
// the capture's items durably (or one whose index update failed) would
// leave the index without them, and an open-records search would miss
// them without a word. So before its journal event a capture writes its
// id to the data directory's index-pending file (synced), and takes it
// out once the index holds its items durably. RepairIndex, run when a
// command installs the index as the archive's indexer, indexes again the
// items of every capture still named there.
const indexPendingFile = "index-pending"

func (a *Archive) indexPendingPath() string { return filepath.Join(a.dir, indexPendingFile) }

// IndexPending lists the captures whose items the index may not hold.
func (a *Archive) IndexPending() ([]string, error) {
	a.pendingMu.Lock()
	defer a.pendingMu.Unlock()
	return a.readPending()
}

func (a *Archive) readPending() ([]string, error) {
	b, err := os.ReadFile(a.indexPendingPath())
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", indexPendingFile, err)
	}
	var ids []string
	for l := range strings.Lines(string(b)) {
		if id := strings.TrimSpace(l); id != "" && !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

// markIndexPending notes, durably, that capture id's items may not be in
// the index.
func (a *Archive) markIndexPending(id string) error {
	a.pendingMu.Lock()
	defer a.pendingMu.Unlock()
	p := a.indexPendingPath()
	_, statErr := os.Stat(p)
	f, err := os.OpenFile(p, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o640)
	if err != nil {
		return fmt.Errorf("note capture %s for the index: %w", id, err)
	}
	_, err = f.WriteString(id + "\n")
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && statErr != nil {
		err = syncDirOf(p)
	}
	if err != nil {
		return fmt.Errorf("note capture %s for the index: %w", id, err)
	}
	return nil
}

// clearIndexPending takes ids out of the index-pending file (ids nil:
// all, after a reindex that read every item).
func (a *Archive) clearIndexPending(ids ...string) error {
	a.pendingMu.Lock()
	defer a.pendingMu.Unlock()
	have, err := a.readPending()
	if err != nil {
		return err
	}
	keep := slices.DeleteFunc(have, func(id string) bool { return ids == nil || slices.Contains(ids, id) })
	p := a.indexPendingPath()
	if len(keep) == 0 {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		return nil
	}
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, []byte(strings.Join(keep, "\n")+"\n"), 0o640); err != nil {
		return err
	}
	return os.Rename(tmp, p)
}

// ClearIndexPending forgets every pending capture: the caller has just
// built the index from every item in the catalog (osmarc reindex).
func (a *Archive) ClearIndexPending() error { return a.clearIndexPending() }

// RepairIndex indexes again the items of the captures the index may not
// hold (see indexPendingFile), and returns how many captures it repaired.
// A capture the catalog does not know never recorded anything.
func (a *Archive) RepairIndex(ctx context.Context) (int, error) {
	if a.indexer == nil {
		return 0, nil
	}
	ids, err := a.IndexPending()
	if err != nil || len(ids) == 0 {
		return 0, err
	}
	n := 0
	for _, id := range ids {
		cp, err := a.cat.Capture(id)
		if errors.Is(err, catalog.ErrNotFound) {
			// Never recorded: what it may have staged goes.
			if st, ok := a.indexer.(IndexStager); ok {
				if err := st.Discard(ctx, id, a.lookupItem); err != nil {
					return n, fmt.Errorf("take the items of unrecorded capture %s out of the search index: %w", id, err)
				}
			}
			if err := a.clearIndexPending(id); err != nil {
				return n, err
			}
			continue
		}
		if err != nil {
			return n, err
		}
		if err := a.reindexCapture(ctx, cp); err != nil {
			return n, fmt.Errorf("index the items of capture %s again: %w", id, err)
		}
		if st, ok := a.indexer.(IndexStager); ok {
			if err := st.Reveal(ctx, id); err != nil {
				return n, fmt.Errorf("index the items of capture %s again: %w", id, err)
			}
			if err := st.Sync(ctx); err != nil {
				return n, fmt.Errorf("index the items of capture %s again: %w", id, err)
			}
		}
		if err := a.clearIndexPending(id); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// reindexCapture gives the indexer the items a capture saw (from its
// manifest) and those it found removed at source, read from the catalog.
func (a *Archive) reindexCapture(ctx context.Context, cp catalog.Capture) error {
	r, err := a.store.Open(ctx, cp.Key)
	if err != nil {
		return err
	}
	defer r.Close()
	seen := map[string]bool{}
	var keys []string
	for l, err := range ReadManifest(bufio.NewReader(r), cp.Key) {
		if err != nil {
			return err
		}
		if l.Item != nil && !seen[l.Item.Key] {
			seen[l.Item.Key] = true
			keys = append(keys, l.Item.Key)
		}
	}
	var batch []IndexUpdate
	send := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := a.indexer.Update(ctx, batch)
		batch = batch[:0]
		return err
	}
	for _, k := range keys {
		ci, err := a.cat.Item(k)
		if errors.Is(err, catalog.ErrNotFound) {
			continue // destroyed since, under its schedule
		}
		if err != nil {
			return err
		}
		batch = append(batch, IndexUpdate{Item: ci})
		if len(batch) >= IndexBatch {
			if err := send(); err != nil {
				return err
			}
		}
	}
	if cp.Scope != nil && cp.Removed > 0 {
		for ci, err := range a.removedBy(cp.ID, cp.Scope.Account) {
			if err != nil {
				return err
			}
			if !seen[ci.Key] {
				batch = append(batch, IndexUpdate{Item: ci})
				if len(batch) >= IndexBatch {
					if err := send(); err != nil {
						return err
					}
				}
			}
		}
	}
	return send()
}

// syncDirOf makes the creation of file p durable.
func syncDirOf(p string) error {
	d, err := os.Open(filepath.Dir(p))
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// removedBy yields the items of an account that capture id found removed
// at source (a complete listing that did not see them).
func (a *Archive) removedBy(id, account string) iter.Seq2[catalog.Item, error] {
	return func(yield func(catalog.Item, error) bool) {
		for ci, err := range a.cat.Items(catalog.Filter{Prefix: account + "/"}) {
			if err != nil {
				yield(ci, err)
				return
			}
			if ci.RemovedBy == id && !yield(ci, nil) {
				return
			}
		}
	}
}
