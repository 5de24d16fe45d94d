package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/osmarc/osmarc/archive"
)

type listOptions struct {
	account  string
	platform string
	json     bool
}

func newListCommand(g *globalOptions) *cobra.Command {
	var o listOptions
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List archived items",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runList(cmd.Context(), g, o)
		},
	}
	cmd.Flags().StringVar(&o.account, "account", "", "only this account")
	cmd.Flags().StringVar(&o.platform, "platform", "", "only this platform")
	cmd.Flags().BoolVar(&o.json, "json", false, "one JSON object per line")
	return cmd
}

// listRow is the JSON form of one item in a listing.
type listRow struct {
	Key       string    `json:"key"`
	Platform  string    `json:"platform"`
	Account   string    `json:"account"`
	ID        string    `json:"id"`
	Kind      string    `json:"kind"`
	CreatedAt time.Time `json:"created_at"`
	Versions  int       `json:"versions"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	Latest    string    `json:"latest"`
}

func runList(ctx context.Context, g *globalOptions, o listOptions) error {
	a, err := g.open(ctx, "list", true)
	if err != nil {
		return err
	}
	defer a.Close()
	out := bufio.NewWriter(g.stdout)
	defer out.Flush()
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	var tw *tabwriter.Writer
	if !o.json {
		tw = tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "KEY\tKIND\tCREATED\tVERSIONS")
	}
	n := 0
	for it, err := range a.List(archive.ListFilter{Platform: o.platform, Account: o.account}) {
		if err != nil {
			return err
		}
		n++
		if o.json {
			if err := enc.Encode(listRow{Key: it.Key, Platform: it.Platform, Account: it.Account, ID: it.ID, Kind: it.Kind,
				CreatedAt: it.CreatedAt, Versions: len(it.Versions), FirstSeen: it.FirstSeen, LastSeen: it.LastSeen, Latest: it.Latest().Digest}); err != nil {
				return err
			}
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\n", it.Key, it.Kind, it.CreatedAt.Format(time.RFC3339), len(it.Versions))
		if n%1000 == 0 {
			tw.Flush()
		}
	}
	if tw != nil {
		tw.Flush()
		fmt.Fprintf(out, "%d item(s)\n", n)
	}
	return nil
}
