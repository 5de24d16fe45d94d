package main

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/stores"
)

type verifyOptions struct {
	deep  bool
	json  bool
	store string
}

func newVerifyCommand(g *globalOptions) *cobra.Command {
	var o verifyOptions
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Check the store: journal chain, manifests, blobs",
		Long: `verify checks that the journal's hash chain is whole, that every capture
manifest the journal records exists and has the digest it recorded, and that
every blob a manifest names exists; with --deep it re-reads and re-hashes
every blob. It names each problem and the items it affects, lists objects
nothing names (an interrupted capture leaves those; they are not damage),
and exits 1 when it finds damage.

With --store URL it checks a store directly, without a data directory: how
to examine a store before attaching to it, or one whose damage stops init.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runVerify(cmd.Context(), g, o)
		},
	}
	cmd.Flags().BoolVar(&o.deep, "deep", false, "re-read and re-hash every blob")
	cmd.Flags().BoolVar(&o.json, "json", false, "print one JSON object")
	cmd.Flags().StringVar(&o.store, "store", "", "check this store URL directly instead of the data directory's")
	return cmd
}

// verifyReport checks the store the options name, or the data directory's.
func verifyReport(ctx context.Context, g *globalOptions, o verifyOptions, vo archive.VerifyOptions) (*archive.VerifyReport, error) {
	if o.store != "" {
		s, err := stores.Open(ctx, o.store, g.dataDir)
		if err != nil {
			return nil, err
		}
		defer s.Close()
		return archive.VerifyStore(ctx, s, nil, vo)
	}
	a, err := g.open(ctx, "verify", true)
	if err != nil {
		return nil, err
	}
	defer a.Close()
	return a.Verify(ctx, vo)
}

func runVerify(ctx context.Context, g *globalOptions, o verifyOptions) error {
	var bar *progressbar.ProgressBar
	vo := archive.VerifyOptions{Deep: o.deep, OnProgress: func(stage string, done, total int) {
		if !g.interactive() {
			return
		}
		if bar == nil && total > 0 {
			bar = g.progress(int64(total), stage, "lines")
		}
		if bar != nil {
			bar.Set(done)
		}
	}}
	rep, err := verifyReport(ctx, g, o, vo)
	if bar != nil {
		bar.Finish()
	}
	if err != nil {
		return err
	}
	if o.json {
		enc := json.NewEncoder(g.stdout)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		w := g.stdout
		how := "checked"
		if rep.Deep {
			how = "checked and re-hashed"
		}
		fmt.Fprintf(w, "%d events, %d captures, %d item lines, %d blobs (%s) %s.\n", rep.Events, rep.Captures, rep.Items, rep.Blobs, humanBytes(rep.Bytes), how)
		fmt.Fprintf(w, "Journal head %s\n", rep.JournalHead)
		if len(rep.Unreferenced) > 0 {
			var n int64
			for _, u := range rep.Unreferenced {
				n += u.Size
			}
			fmt.Fprintf(w, "%d unreferenced object(s) (%s): left by an interrupted capture; not damage.\n", len(rep.Unreferenced), humanBytes(n))
		}
		for _, p := range rep.Problems {
			fmt.Fprintf(w, "DAMAGE %s\n", p)
		}
		if rep.OK {
			fmt.Fprintln(w, "OK: no damage found.")
		}
	}
	if !rep.OK {
		return &exitError{code: 1, msg: fmt.Sprintf("verify found %d problem(s)", len(rep.Problems))}
	}
	return nil
}
