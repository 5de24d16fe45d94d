package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/osmarc/osmarc/archive"
)

type showOptions struct {
	json bool
}

func newShowCommand(g *globalOptions) *cobra.Command {
	var o showOptions
	cmd := &cobra.Command{
		Use:   "show KEY",
		Short: "Show one item with every version and its capture history",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runShow(cmd.Context(), g, o, args[0])
		},
	}
	cmd.Flags().BoolVar(&o.json, "json", false, "print the item as JSON")
	return cmd
}

func runShow(ctx context.Context, g *globalOptions, o showOptions, key string) error {
	a, err := g.open(ctx, "show", true)
	if err != nil {
		return err
	}
	defer a.Close()
	d, err := a.Show(ctx, key)
	if err != nil {
		return err
	}
	rec := showRecords(ctx, g, a, key)
	if o.json {
		enc := json.NewEncoder(g.stdout)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			archive.ItemDetail
			Records *recordsView `json:"records"`
		}{d, rec})
	}
	w := g.stdout
	ts := func(t time.Time) string { return t.UTC().Format(time.RFC3339) }
	fmt.Fprintf(w, "%s\n", d.Key)
	fmt.Fprintf(w, "  platform %s  account %s  id %s  kind %s\n", d.Platform, d.Account, d.ID, d.Kind)
	fmt.Fprintf(w, "  created %s  first seen %s  last seen %s\n", ts(d.CreatedAt), ts(d.FirstSeen), ts(d.LastSeen))
	printRecordsView(w, rec)
	fmt.Fprintf(w, "\nVersions (%d)\n", len(d.Versions))
	for i, v := range d.Versions {
		fmt.Fprintf(w, "  %d. sha256:%s  captured %s  (capture %s)\n", i+1, v.Digest, ts(v.CapturedAt), v.Capture)
		switch {
		case v.Error != "":
			fmt.Fprintf(w, "     CONTENT UNREADABLE: %s\n", oneLine(v.Error))
		case v.Item != nil:
			if v.Item.Author != nil {
				fmt.Fprintf(w, "     author %s\n", strings.TrimSpace(v.Item.Author.Handle+" "+v.Item.Author.Name))
			}
			if v.Item.EditedAt != "" {
				fmt.Fprintf(w, "     edited %s\n", v.Item.EditedAt)
			}
			for _, line := range strings.Split(v.Item.Text, "\n") {
				fmt.Fprintf(w, "     │ %s\n", line)
			}
		}
	}
	fmt.Fprintf(w, "\nCaptures (%d)\n", len(d.Sightings))
	for _, s := range d.Sightings {
		c := d.Captures[s.Capture]
		fmt.Fprintf(w, "  %s  %s  %s  version %.12s", ts(s.SeenAt), s.Capture, c.Collector, s.Version)
		if len(s.Metrics) > 0 {
			fmt.Fprintf(w, "  metrics %s", s.Metrics)
		}
		fmt.Fprintln(w)
	}
	return nil
}
