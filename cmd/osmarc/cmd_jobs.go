package main

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/collect/coverage"
)

// jobEntry is one run in the history (archive/collect/coverage.Run).
type jobEntry = coverage.Run

// history reads the run history, oldest first, of one account (a key) or
// of all ("").
func history(a *archive.Archive, account string) ([]jobEntry, error) {
	return coverage.History(a, account)
}

// accountKey resolves an account reference for the history: a registered
// account, or a key as captures name it.
func accountKey(a *archive.Archive, ref string) (string, error) {
	acct, err := a.Account(ref)
	if err == nil {
		return acct.Key, nil
	}
	if strings.Contains(ref, "/") {
		return ref, nil
	}
	return "", err
}

func newJobsCommand(g *globalOptions) *cobra.Command {
	var account string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "jobs [--account A] [--json]",
		Short: "Show the run history: captures and failed collections, newest first",
		Long: `jobs lists every capture (by a collector, an import or ingest) and every
collection that failed, newest first: when it ran, for which account, what it
captured, whether it listed completely, and, for a failure, its class (auth,
rate-limit, unavailable, malformed, other) and message.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runJobs(cmd.Context(), g, account, asJSON)
		},
	}
	cmd.Flags().StringVar(&account, "account", "", "only this account")
	cmd.Flags().BoolVar(&asJSON, "json", false, "one JSON object per run")
	return cmd
}

func runJobs(ctx context.Context, g *globalOptions, account string, asJSON bool) error {
	a, err := g.open(ctx, "jobs", true)
	if err != nil {
		return err
	}
	defer a.Close()
	key := ""
	if account != "" {
		if key, err = accountKey(a, account); err != nil {
			return fmt.Errorf("jobs: %w", err)
		}
	}
	runs, err := history(a, key)
	if err != nil {
		return err
	}
	slices.Reverse(runs)
	if asJSON {
		enc := json.NewEncoder(g.stdout)
		enc.SetEscapeHTML(false)
		for _, r := range runs {
			if err := enc.Encode(r); err != nil {
				return err
			}
		}
		return nil
	}
	if len(runs) == 0 {
		fmt.Fprintln(g.stdout, "No runs yet.")
		return nil
	}
	tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STARTED\tACCOUNT\tCOLLECTOR\tCAPTURE\tITEMS\tNEW\tREMOVED\tRESULT")
	for _, r := range runs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%d\t%s\n", r.StartedAt.UTC().Format(time.RFC3339), strings.Join(r.Accounts, ","),
			r.Collector, dash(r.Capture), r.Items, r.NewVersions, r.Removed, r.Result())
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	header := false
	for _, r := range runs {
		if !r.Failed {
			continue
		}
		if !header {
			fmt.Fprintln(g.stdout, "\nFailures")
			header = true
		}
		fmt.Fprintf(g.stdout, "  %s  %s  %s: %s\n", r.StartedAt.UTC().Format(time.RFC3339), strings.Join(r.Accounts, ","), r.Class, r.Error)
	}
	return nil
}
