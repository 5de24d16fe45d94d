package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/index"
)

func newReindexCommand(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "reindex",
		Short: "Rebuild the search index from the catalog and the store",
		Long: `reindex builds a new search index from every item in the catalog, reading
each item's versions from the store, and puts it in place of the old one
when it is complete: a failed or interrupted reindex leaves the old index as
it was. "osmarc rebuild" reindexes too.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runReindex(cmd.Context(), g)
		},
	}
}

func runReindex(ctx context.Context, g *globalOptions) error {
	a, err := g.open(ctx, "reindex", false)
	if err != nil {
		return err
	}
	defer a.Close()
	n, took, err := reindexArchive(ctx, g, a)
	if err != nil {
		return err
	}
	fmt.Fprintf(g.stdout, "Reindexed %d item(s) in %s.\n", n, took.Round(time.Millisecond))
	return nil
}

// openIndex opens the data directory's search index for a command that
// holds the writer's lock, wired to records management (wireRecords, with
// g's clock): it is the archive's indexer, so the captures the command
// makes keep the index up to date and classify what they index. The
// caller closes it after the archive's last capture.
func openIndex(g *globalOptions, a *archive.Archive) (*index.Index, error) {
	ix, err := index.Open(filepath.Join(a.Dir(), index.DirName))
	if err != nil {
		return nil, err
	}
	wireRecords(a, newRecords(g, a), ix)
	return ix, nil
}

// capturing are the commands whose captures keep the search index up to
// date: each capture, once in the catalog, hands its items to the index in
// batches of archive.IndexBatch (the ingest path of DESIGN.md).
var capturing = map[string]bool{"ingest": true, "collect": true, "import": true, "daemon": true}

// installIndexer opens the search index for a command that captures, and
// installs it as the archive's indexer; g.closeAll closes it when the
// command is done. A data directory without an index gets one when its
// archive holds no item yet, so the index holds every item from the start;
// an archive that already has items and no index keeps none until osmarc
// reindex builds it whole (search says so), rather than an index that
// would silently miss the items captured before it.
func (g *globalOptions) installIndexer(a *archive.Archive) error {
	if ok, err := indexable(a); err != nil || !ok {
		return err
	}
	ix, err := openIndex(g, a)
	if err != nil {
		return fmt.Errorf("open the search index: %w", err)
	}
	g.closers = append(g.closers, func() error {
		a.SetIndexer(nil)
		return ix.Close()
	})
	return nil
}

// indexable says whether a writer keeps the data directory's search index
// up to date: when the directory has one, or when the archive holds no
// item yet (the index it creates then holds every item from the start).
// An archive with items and no index has none until osmarc reindex.
func indexable(a *archive.Archive) (bool, error) {
	if _, err := os.Stat(filepath.Join(a.Dir(), index.DirName)); err == nil {
		return true, nil
	}
	n, err := a.Catalog().Counters()
	if err != nil {
		return false, err
	}
	return n.Items == 0, nil
}

// closeAll closes what commands opened for the whole run (the search
// index of a capturing command), last opened first.
func (g *globalOptions) closeAll() error {
	var errs []error
	for i := len(g.closers) - 1; i >= 0; i-- {
		errs = append(errs, g.closers[i]())
	}
	g.closers = nil
	return errors.Join(errs...)
}

// reindexArchive rebuilds the index of an archive opened for writing.
func reindexArchive(ctx context.Context, g *globalOptions, a *archive.Archive) (uint64, time.Duration, error) {
	start := time.Now()
	ix, err := openIndex(g, a)
	if errors.Is(err, index.ErrDamaged) {
		// An index bleve cannot open is what reindex is for.
		fmt.Fprintf(g.stderr, "osmarc: reindex: the old index cannot be opened (%v); building a new one\n", err)
		ix = index.ForReindex(filepath.Join(a.Dir(), index.DirName))
		wireRecords(a, newRecords(g, a), ix)
	} else if err != nil {
		return 0, 0, err
	}
	defer func() {
		a.SetIndexer(nil)
		ix.Close()
	}()
	s, err := a.Stats()
	if err != nil {
		return 0, 0, err
	}
	bar := g.progress(s.Items, "reindex", "lines")
	err = ix.Reindex(ctx, a, func(n int) {
		if bar != nil {
			bar.Set(n)
		}
	})
	if bar != nil {
		bar.Finish()
	}
	if err != nil {
		return 0, 0, err
	}
	if err := refreshClassification(ctx, g, a, ix); err != nil {
		return 0, 0, err
	}
	// The new index holds every item: no capture waits to be indexed.
	if err := a.ClearIndexPending(); err != nil {
		return 0, 0, err
	}
	n, err := ix.Count()
	return n, time.Since(start), err
}
