package main

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/osmarc/osmarc/archive"
)

// coverageReport is an account's capture timeline, for records officers
// who must certify what was and was not captured.
type coverageReport struct {
	Account      string     `json:"account"`
	Status       string     `json:"status"`
	Collect      string     `json:"collect,omitempty"`
	RegisteredAt time.Time  `json:"registered_at"`
	Deactivated  *time.Time `json:"deactivated_at,omitempty"`
	// Runs, oldest first.
	Runs []jobEntry `json:"runs"`
	// CompleteListings counts the runs that listed the account completely.
	CompleteListings int `json:"complete_listings"`
	// CoveredFrom is the start of the first complete listing, CoveredTo the
	// end of the last good run after it: the span covered completely,
	// except for Gaps.
	CoveredFrom *time.Time    `json:"covered_from,omitempty"`
	CoveredTo   *time.Time    `json:"covered_to,omitempty"`
	Gaps        []coverageGap `json:"gaps"`
	// Failures counts the failed runs by class.
	Failures map[string]int `json:"failures"`
}

// coverageGap is a span in which collection failed or did not run.
type coverageGap struct {
	From time.Time `json:"from"`
	// To is when a good run ended the gap; nil while it is still open.
	To     *time.Time `json:"to,omitempty"`
	Reason string     `json:"reason"`
}

// buildCoverage reads the account's timeline from its runs. now closes an
// open gap; the schedule's period, when known, finds missed runs (a span
// between good runs longer than twice the period).
func buildCoverage(acct archive.Account, runs []jobEntry, period time.Duration, now time.Time) coverageReport {
	rep := coverageReport{
		Account: acct.Key, Status: acct.Status, Collect: acct.Collect, RegisteredAt: acct.RegisteredAt,
		Deactivated: acct.DeactivatedAt, Runs: runs, Gaps: []coverageGap{}, Failures: map[string]int{},
	}
	if rep.Runs == nil {
		rep.Runs = []jobEntry{}
	}
	var lastGood time.Time // end of the last good run
	var pending []jobEntry // failures since it
	gapStart := func() time.Time {
		if !lastGood.IsZero() {
			return lastGood
		}
		if !acct.RegisteredAt.IsZero() && acct.RegisteredAt.Before(pending[0].StartedAt) {
			return acct.RegisteredAt
		}
		return pending[0].StartedAt
	}
	for _, r := range runs {
		if r.Failed || r.Errors > 0 {
			rep.Failures[classOf(r)]++
			pending = append(pending, r)
			continue
		}
		if !r.good() {
			continue
		}
		if r.Complete {
			rep.CompleteListings++
			if rep.CoveredFrom == nil {
				t := r.StartedAt
				rep.CoveredFrom = &t
			}
		}
		switch {
		case len(pending) > 0:
			to := r.StartedAt
			rep.Gaps = append(rep.Gaps, coverageGap{From: gapStart(), To: &to, Reason: failureSummary(pending)})
		case period > 0 && !lastGood.IsZero() && r.StartedAt.Sub(lastGood) > 2*period:
			to := r.StartedAt
			rep.Gaps = append(rep.Gaps, coverageGap{From: lastGood, To: &to,
				Reason: fmt.Sprintf("no run for %s (schedule %s)", roundDuration(r.StartedAt.Sub(lastGood)), acct.Collect)})
		}
		lastGood, pending = *r.EndedAt, nil
		if rep.CoveredFrom != nil {
			t := lastGood
			rep.CoveredTo = &t
		}
	}
	active := acct.Status != archive.AccountDeactivated
	switch {
	case len(pending) > 0:
		rep.Gaps = append(rep.Gaps, coverageGap{From: gapStart(), Reason: failureSummary(pending) + "; no good run since"})
	case active && period > 0 && !lastGood.IsZero() && now.Sub(lastGood) > 2*period:
		rep.Gaps = append(rep.Gaps, coverageGap{From: lastGood,
			Reason: fmt.Sprintf("no run for %s (schedule %s)", roundDuration(now.Sub(lastGood)), acct.Collect)})
	}
	return rep
}

func classOf(r jobEntry) string {
	if r.Class != "" {
		return r.Class
	}
	return "malformed"
}

// failureSummary says how often and why collection failed, the latest
// message of each class.
func failureSummary(fails []jobEntry) string {
	var classes []string
	count := map[string]int{}
	last := map[string]string{}
	for _, f := range fails {
		c := classOf(f)
		if count[c] == 0 {
			classes = append(classes, c)
		}
		count[c]++
		if f.Error != "" {
			last[c] = f.Error
		} else if last[c] == "" {
			last[c] = fmt.Sprintf("%d bad record(s)", f.Errors)
		}
	}
	var parts []string
	for _, c := range classes {
		parts = append(parts, fmt.Sprintf("%s ×%d (%s)", c, count[c], last[c]))
	}
	return fmt.Sprintf("collection failed %d time(s): %s", len(fails), strings.Join(parts, "; "))
}

func roundDuration(d time.Duration) string {
	switch {
	case d >= 48*time.Hour:
		return fmt.Sprintf("%dd", int(d.Hours()/24))
	case d >= time.Hour:
		return d.Round(time.Minute).String()
	}
	return d.Round(time.Second).String()
}

func newCoverageCommand(g *globalOptions) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "coverage ACCOUNT [--json]",
		Short: "Show an account's capture timeline: complete listings, failures and gaps",
		Long: `coverage shows, for one account, every run (complete listing or not, items,
removals), every failed collection with its class (auth, rate-limit,
unavailable, malformed, other) and message, the span covered completely
(from the first complete listing to the last good run) and the gaps in it:
spans in which collection failed, or, for an account with a collect
schedule, in which no run happened for more than twice its interval.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runCoverage(cmd.Context(), g, args[0], asJSON)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON")
	return cmd
}

func runCoverage(ctx context.Context, g *globalOptions, ref string, asJSON bool) error {
	a, err := g.open(ctx, "coverage", true)
	if err != nil {
		return err
	}
	defer a.Close()
	acct, err := a.Account(ref)
	if err != nil {
		return fmt.Errorf("coverage: %w", err)
	}
	runs, err := history(a, acct.Key)
	if err != nil {
		return err
	}
	now := g.now().UTC()
	var period time.Duration
	if acct.Collect != "" {
		if s, err := parseSchedule(acct.Collect); err == nil {
			period = schedulePeriod(s, now)
		}
	}
	rep := buildCoverage(acct, runs, period, now)
	if asJSON {
		enc := json.NewEncoder(g.stdout)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	w := g.stdout
	fmt.Fprintf(w, "%s (%s", acct.Key, acct.Status)
	if acct.Collect != "" {
		fmt.Fprintf(w, "; collect %s", acct.Collect)
	}
	fmt.Fprintf(w, "; registered %s", acct.RegisteredAt.UTC().Format(time.RFC3339))
	if acct.DeactivatedAt != nil {
		fmt.Fprintf(w, "; deactivated %s", acct.DeactivatedAt.UTC().Format(time.RFC3339))
	}
	fmt.Fprintln(w, ")")
	if len(runs) == 0 {
		fmt.Fprintf(w, "\nNever captured: run osmarc collect --full --account %s, or import its export.\n", acct.Key)
		return nil
	}
	fmt.Fprintf(w, "\nRuns (%d)\n", len(runs))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  STARTED\tCOLLECTOR\tCAPTURE\tITEMS\tNEW\tREMOVED\tRESULT")
	for _, r := range runs {
		res := r.result()
		if r.Failed {
			res += ": " + r.Error
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%d\t%d\t%d\t%s\n", r.StartedAt.UTC().Format(time.RFC3339), r.Collector, dash(r.Capture),
			r.Items, r.NewVersions, r.Removed, res)
	}
	tw.Flush()
	fmt.Fprintln(w)
	if rep.CoveredFrom == nil {
		fmt.Fprintf(w, "Never listed completely: run osmarc collect --full --account %s.\n", acct.Key)
	} else {
		fmt.Fprintf(w, "Covered completely from %s to %s (%d complete listing(s))", rep.CoveredFrom.UTC().Format(time.RFC3339),
			rep.CoveredTo.UTC().Format(time.RFC3339), rep.CompleteListings)
		if len(rep.Gaps) == 0 {
			fmt.Fprintln(w, ", without gaps.")
		} else {
			fmt.Fprintln(w, ", except the gaps below.")
		}
	}
	if len(rep.Gaps) > 0 {
		fmt.Fprintf(w, "Gaps (%d)\n", len(rep.Gaps))
		for _, gap := range rep.Gaps {
			to := "now (open)"
			if gap.To != nil {
				to = gap.To.UTC().Format(time.RFC3339)
			}
			fmt.Fprintf(w, "  %s – %s: %s\n", gap.From.UTC().Format(time.RFC3339), to, gap.Reason)
		}
	}
	if len(rep.Failures) > 0 {
		var parts []string
		for _, c := range slices.Sorted(maps.Keys(rep.Failures)) {
			parts = append(parts, fmt.Sprintf("%s %d", c, rep.Failures[c]))
		}
		fmt.Fprintf(w, "Failures by class: %s\n", strings.Join(parts, ", "))
	}
	return nil
}
