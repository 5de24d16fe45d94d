package archive

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/osmarc/osmarc/archive/catalog"
)

// Rebuild throws the data directory's catalog away and makes a new one
// from the store alone, by replaying the journal from its first event (each
// capture event names its manifest). It never reads the old catalog, so it
// also mends one that is damaged or of another version. The new catalog is
// built beside the old one and takes its place only when it is complete, so
// a failed rebuild leaves the old one as it was. It returns the archive,
// open for writing, on the new catalog.
func Rebuild(ctx context.Context, opts Options) (*Archive, error) {
	opts.defaults()
	opts.ReadOnly = false
	cfg, err := ReadConfig(opts.Dir)
	if err != nil {
		return nil, err
	}
	lk, err := lockDir(opts.Dir, true, opts.Command)
	if err != nil {
		return nil, err
	}
	store, err := opts.OpenStore(ctx, cfg.Store, opts.Dir)
	if err != nil {
		lk.release()
		return nil, err
	}
	a := &Archive{dir: opts.Dir, cfg: cfg, store: store, lock: lk, opts: opts, log: opts.Logger.WithGroup("archive")}
	final := filepath.Join(opts.Dir, CatalogFile)
	tmp := final + ".rebuild"
	os.Remove(tmp)
	if a.cat, err = catalog.Open(tmp, false); err != nil {
		a.Close()
		return nil, err
	}
	if err := a.replay(ctx); err != nil {
		a.Close()
		os.Remove(tmp)
		return nil, fmt.Errorf("rebuild: %w", err)
	}
	if err := a.cat.Close(); err != nil {
		a.cat = nil
		a.Close()
		return nil, fmt.Errorf("rebuild: %w", err)
	}
	a.cat = nil
	if err := os.Rename(tmp, final); err != nil {
		a.Close()
		return nil, fmt.Errorf("rebuild: %w", err)
	}
	if d, err := os.Open(opts.Dir); err == nil {
		d.Sync()
		d.Close()
	}
	if a.cat, err = catalog.Open(final, false); err != nil {
		a.Close()
		return nil, err
	}
	return a, nil
}
