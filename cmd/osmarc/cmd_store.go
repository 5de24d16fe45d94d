package main

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/catalog"
	"github.com/osmarc/osmarc/archive/stores"
)

// Journal events of store copy: each copy, or attempt, is a record of
// where the archive's records went.
const (
	EventStoreCopied     = "store.copied"
	EventStoreCopyFailed = "store.copy_failed"
)

func newStoreCommand(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "store",
		Short: "Work on the archive's store as a whole",
	}
	cmd.AddCommand(newStoreCopyCommand(g))
	return cmd
}

type storeCopyOptions struct {
	to      string
	workers int
	json    bool
	live    bool
}

func newStoreCopyCommand(g *globalOptions) *cobra.Command {
	var o storeCopyOptions
	cmd := &cobra.Command{
		Use:   "copy --to URL",
		Short: "Copy the archive's store into another store",
		Long: `store copy copies every object of the archive's store (blobs, capture
manifests, journal events) into the store --to names, to move an archive
from the local disk to a bucket, or to keep a second copy elsewhere:

  osmarc store copy --to 's3://records-bucket/osmarc?endpoint=https://s3.example.gov&region=us-east-1'
  osmarc init --data /srv/osmarc-data-s3 --store 's3://records-bucket/osmarc?endpoint=https://s3.example.gov&region=us-east-1'
  osmarc reindex --data /srv/osmarc-data-s3

The second command attaches a data directory to the copy (its catalog is
rebuilt from the store), and the third builds its search index.

The copy notes the journal's last event first, copies every blob, then
the journal up to that event in sequence, each capture's manifest before
the event that names it. So the destination is at every moment an archive
as far as its journal goes, and running the command again finishes or
updates it: objects the destination holds already with the same bytes are
left alone, and nothing there is ever replaced. Every object is checked
against its digest on the way; one that is damaged in the archive is named
and not copied (the command then exits 1: run osmarc verify).

A destination holding another archive, or a copy that has been written to
since, is refused before anything is written. The copy holds the data
directory as a capture does (stop the daemon first), and the journal
records it (store.copied, with the journal head the copy holds, or
store.copy_failed).

With --live it reads the store alone, without the data directory, so the
daemon goes on collecting: what is captured meanwhile waits for the next
copy, and a live copy is not recorded in the journal. For a large archive:
copy --live while the daemon runs, then stop it and copy again (quick, and
recorded). On a bucket with Object Lock, run osmarc lock apply from the
attached data directory to give the copied objects their retention.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runStoreCopy(cmd.Context(), g, o)
		},
	}
	cmd.Flags().StringVar(&o.to, "to", "", "URL of the store to copy into (as init --store takes)")
	cmd.Flags().IntVar(&o.workers, "workers", 16, "blobs copied at once")
	cmd.Flags().BoolVar(&o.json, "json", false, "print one JSON object")
	cmd.Flags().BoolVar(&o.live, "live", false, "read the store alone, beside a running daemon; not recorded in the journal")
	return cmd
}

func runStoreCopy(ctx context.Context, g *globalOptions, o storeCopyOptions) error {
	if o.to == "" {
		return fmt.Errorf("store copy: --to URL is required")
	}
	if o.workers < 1 {
		return fmt.Errorf("store copy: --workers %d: want 1 or more", o.workers)
	}
	var a *archive.Archive
	var src archive.BlobStore
	var head catalog.Head
	if o.live {
		cfg, err := archive.ReadConfig(g.dataDir)
		if err != nil {
			return err
		}
		if src, err = stores.Open(ctx, cfg.Store, g.dataDir); err != nil {
			return err
		}
		defer src.Close()
	} else {
		var err error
		if a, err = g.open(ctx, "store copy", false); err != nil {
			return err
		}
		defer a.Close()
		if head, err = a.Catalog().Head(); err != nil {
			return err
		}
		src = a.Store()
	}
	dst, err := stores.Open(ctx, o.to, g.dataDir)
	if err != nil {
		return err
	}
	defer dst.Close()
	bar := g.progress(-1, "copying", "objects")
	rep, err := archive.CopyStore(ctx, src, dst, archive.CopyOptions{
		Workers: o.workers,
		OnProgress: func(family string, done int64) {
			if bar != nil {
				bar.Describe("copying " + family)
				bar.Set64(done)
			}
		},
	})
	if bar != nil {
		bar.Finish()
	}
	if err != nil {
		if a != nil {
			// The failure is a record too: where the records were to go.
			a.RecordEvent(ctx, EventStoreCopyFailed, map[string]any{"to": dst.Location(), "journal_head": head,
				"copied": rep.Copied, "bytes": rep.Bytes, "error": err.Error()})
		}
		return err
	}
	if a != nil {
		if _, err := a.RecordEvent(ctx, EventStoreCopied, map[string]any{"to": rep.To, "journal_head": head,
			"copied": rep.Copied, "present": rep.Present, "bytes": rep.Bytes, "failed": len(rep.Failed), "complete": len(rep.Failed) == 0}); err != nil {
			return fmt.Errorf("store copy: the copy is made, but recording it in the journal failed: %w", err)
		}
	}
	if o.json {
		enc := json.NewEncoder(g.stdout)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(g.stdout, "Copied %d object(s) (%s) from %s to %s; %d were there already.\n",
			rep.Copied, humanBytes(rep.Bytes), rep.From, rep.To, rep.Present)
		for _, f := range rep.Failed {
			fmt.Fprintf(g.stdout, "NOT COPIED %s: %s\n", f.Key, f.Message)
		}
		if o.live {
			fmt.Fprintf(g.stdout, "A live copy, of the journal up to %s, is not recorded in the journal: to finish it and record it, stop the daemon and run osmarc store copy --to URL again.\n", rep.UpTo)
		} else if len(rep.Failed) == 0 {
			fmt.Fprintf(g.stdout, "To work from the copy: osmarc init --data DIR --store '%s', then osmarc reindex --data DIR\n", o.to)
		}
	}
	if len(rep.Failed) > 0 {
		return &exitError{code: 1, msg: fmt.Sprintf("store copy: %d object(s) not copied", len(rep.Failed))}
	}
	return nil
}
