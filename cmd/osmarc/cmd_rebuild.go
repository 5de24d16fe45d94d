package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/osmarc/osmarc/archive"
)

func newRebuildCommand(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "rebuild",
		Short: "Throw the catalog and search index away and rebuild them from the store alone",
		Long: `rebuild replays the store's journal from its first event, reading each
capture's manifest, into a new catalog that replaces the old one when it is
complete, then rebuilds the search index from it (as osmarc reindex does).
On a fresh data directory, run "osmarc init --store URL" first: it attaches
to the archive the store holds.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runRebuild(cmd.Context(), g)
		},
	}
}

func runRebuild(ctx context.Context, g *globalOptions) error {
	a, err := archive.Rebuild(ctx, g.options("rebuild", false))
	if err != nil {
		return err
	}
	defer a.Close()
	s, err := a.Stats()
	if err != nil {
		return err
	}
	fmt.Fprintf(g.stdout, "Rebuilt the catalog from %s: %d items, %d versions, %d captures, %d events.\n",
		s.Store, s.Items, s.Versions, s.Captures, s.Events)
	n, took, err := reindexArchive(ctx, g, a)
	if err != nil {
		return fmt.Errorf("rebuild: the catalog is rebuilt, the search index is not: %w (run osmarc reindex)", err)
	}
	fmt.Fprintf(g.stdout, "Rebuilt the search index: %d items in %s.\n", n, took.Round(time.Millisecond))
	return nil
}
