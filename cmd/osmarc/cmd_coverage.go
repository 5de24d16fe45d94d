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
	"github.com/osmarc/osmarc/archive/collect/coverage"
)

// The coverage report is archive/collect/coverage's, shared with the web
// application's account page.
type (
	coverageReport = coverage.Report
	coverageGap    = coverage.Gap
)

func buildCoverage(acct archive.Account, runs []jobEntry, period time.Duration, now time.Time) coverageReport {
	return coverage.Build(acct, runs, period, now)
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
	rep := buildCoverage(acct, runs, coverage.Period(acct, now), now)
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
		res := r.Result()
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
