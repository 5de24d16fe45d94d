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
	"github.com/osmarc/osmarc/archive/collect"
)

// jobEntry is one run in the history: a capture (by a collector, an import
// or ingest), with its failure if it had one, or a failure that recorded no
// capture.
type jobEntry struct {
	StartedAt   time.Time  `json:"started_at"`
	EndedAt     *time.Time `json:"ended_at,omitempty"`
	Accounts    []string   `json:"accounts"`
	Collector   string     `json:"collector"`
	Capture     string     `json:"capture,omitempty"`
	Items       int64      `json:"items"`
	NewVersions int64      `json:"new_versions"`
	Removed     int64      `json:"removed"`
	Errors      int64      `json:"errors"`
	Complete    bool       `json:"complete"`
	Failed      bool       `json:"failed"`
	Class       string     `json:"class,omitempty"`
	Error       string     `json:"error,omitempty"`
	RetryAt     *time.Time `json:"retry_at,omitempty"`
}

// result is the entry's outcome in a word or a few.
func (e jobEntry) result() string {
	switch {
	case e.Failed:
		return "FAILED " + e.Class
	case e.Errors > 0:
		return fmt.Sprintf("incomplete (%d bad)", e.Errors)
	case e.Complete:
		return "complete"
	}
	return "ok"
}

// good: a run that finished without failure.
func (e jobEntry) good() bool { return !e.Failed && e.Errors == 0 && e.Capture != "" }

// history reads the run history, oldest first, of one account (a key) or
// of all ("").
func history(a *archive.Archive, account string) ([]jobEntry, error) {
	caps, err := a.Captures()
	if err != nil {
		return nil, err
	}
	var out []jobEntry
	byCapture := map[string]int{}
	for _, cp := range caps {
		if account != "" && !slices.Contains(cp.Accounts, account) {
			continue
		}
		ended := cp.EndedAt
		byCapture[cp.ID] = len(out)
		out = append(out, jobEntry{
			StartedAt: cp.StartedAt, EndedAt: &ended, Accounts: cp.Accounts, Collector: cp.Collector, Capture: cp.ID,
			Items: cp.Items, NewVersions: cp.NewVersions, Removed: cp.Removed, Errors: cp.Errors, Complete: cp.Complete,
		})
	}
	for ev, err := range a.Events(0) {
		if err != nil {
			return nil, err
		}
		if ev.Type != collect.EventCollectFailed {
			continue
		}
		var f collect.FailedRun
		if err := json.Unmarshal(ev.Data, &f); err != nil {
			return nil, fmt.Errorf("journal event %d: %w", ev.Seq, err)
		}
		if account != "" && f.Account != account {
			continue
		}
		if i, ok := byCapture[f.Capture]; ok && f.Capture != "" {
			e := &out[i]
			e.Failed, e.Class, e.Error, e.RetryAt, e.Complete = true, f.Class, f.Error, f.RetryAt, false
			continue
		}
		started := f.StartedAt
		if started.IsZero() {
			started = ev.Time
		}
		evTime := ev.Time
		out = append(out, jobEntry{
			StartedAt: started, EndedAt: &evTime, Accounts: []string{f.Account}, Collector: f.Collector,
			Failed: true, Class: f.Class, Error: f.Error, RetryAt: f.RetryAt,
		})
	}
	slices.SortStableFunc(out, func(x, y jobEntry) int { return x.StartedAt.Compare(y.StartedAt) })
	return out, nil
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
			r.Collector, dash(r.Capture), r.Items, r.NewVersions, r.Removed, r.result())
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
