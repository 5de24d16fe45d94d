package main

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/spf13/cobra"
)

type statsOptions struct {
	json bool
}

func newStatsCommand(g *globalOptions) *cobra.Command {
	var o statsOptions
	cmd := &cobra.Command{
		Use:   "stats",
		Short: "Counts and sizes of the archive",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runStats(cmd.Context(), g, o)
		},
	}
	cmd.Flags().BoolVar(&o.json, "json", false, "print one JSON object")
	return cmd
}

func runStats(ctx context.Context, g *globalOptions, o statsOptions) error {
	a, err := g.open(ctx, "stats", true)
	if err != nil {
		return err
	}
	defer a.Close()
	s, err := a.Stats()
	if err != nil {
		return err
	}
	if o.json {
		return json.NewEncoder(g.stdout).Encode(s)
	}
	w := g.stdout
	fmt.Fprintf(w, "archive     %s\n", s.ArchiveID)
	fmt.Fprintf(w, "store       %s\n", s.Store)
	fmt.Fprintf(w, "items       %d in %d account(s)\n", s.Items, s.Accounts)
	fmt.Fprintf(w, "versions    %d\n", s.Versions)
	fmt.Fprintf(w, "captures    %d", s.Captures)
	if !s.LastCapture.IsZero() {
		fmt.Fprintf(w, " (last ended %s)", s.LastCapture.Format(time.RFC3339))
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "blobs       %d (%s)\n", s.Blobs, humanBytes(s.Bytes))
	fmt.Fprintf(w, "manifests   %s\n", humanBytes(s.ManifestBytes))
	fmt.Fprintf(w, "journal     %d events, head %s\n", s.Events, s.JournalHead)
	return nil
}
