package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/collect"
)

type collectOptions struct {
	accounts []string
	all      bool
	full     bool
	noMedia  bool
	json     bool
}

func newCollectCommand(g *globalOptions) *cobra.Command {
	var o collectOptions
	cmd := &cobra.Command{
		Use:   "collect [--account A]... [--all] [--full] [--no-media] [--json]",
		Short: "Run collectors once for some accounts or all active ones",
		Long: `collect runs the platform collector of each account named with --account
(a key or handle as account list shows it), or of every active account whose
platform has a collector with --all, once, one capture per account. It is what
system cron, a Kubernetes CronJob or a person runs; osmarc daemon runs the
same on each account's schedule.

By default a collector goes on from where its last good run got to; --full
asks for a complete listing, which is what lets osmarc mark items removed at
the source. A run that fails keeps what it captured, as an incomplete
capture, and records why (see osmarc jobs and osmarc coverage). One line is
printed per account; the exit status is 1 if any failed.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runCollect(cmd.Context(), g, o)
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&o.accounts, "account", nil, "account to collect (repeat for several)")
	f.BoolVar(&o.all, "all", false, "collect every active account whose platform has a collector")
	f.BoolVar(&o.full, "full", false, "list everything, not only what is new (lets osmarc detect removals)")
	f.BoolVar(&o.noMedia, "no-media", false, "do not download media")
	f.BoolVar(&o.json, "json", false, "one JSON object per account")
	return cmd
}

func runCollect(ctx context.Context, g *globalOptions, o collectOptions) error {
	if len(o.accounts) == 0 && !o.all {
		return fmt.Errorf("collect: name the accounts with --account, or collect all active ones with --all")
	}
	if len(o.accounts) > 0 && o.all {
		return fmt.Errorf("collect: give --account or --all, not both")
	}
	a, err := g.open(ctx, "collect", false)
	if err != nil {
		return err
	}
	defer a.Close()

	type target struct {
		acct archive.Account
		c    collect.Collector
		skip string // why it is not collected
		fail string // why it cannot be (a failure)
	}
	var targets []target
	if o.all {
		accts, err := a.Accounts()
		if err != nil {
			return err
		}
		for _, acct := range accts {
			if acct.Status != archive.AccountActive {
				continue
			}
			c, ok := g.registry.Collector(acct.Platform)
			if !ok {
				targets = append(targets, target{acct: acct, skip: fmt.Sprintf("no collector for platform %q (import its exports with osmarc import)", acct.Platform)})
				continue
			}
			targets = append(targets, target{acct: acct, c: c})
		}
		if len(targets) == 0 {
			fmt.Fprintln(g.stdout, "No active account to collect (see osmarc account list).")
			return nil
		}
	} else {
		seen := map[string]bool{}
		for _, ref := range o.accounts {
			acct, err := a.Account(ref)
			if err != nil {
				return fmt.Errorf("collect: %w", err)
			}
			if seen[acct.Key] {
				continue
			}
			seen[acct.Key] = true
			c, ok := g.registry.Collector(acct.Platform)
			if !ok {
				targets = append(targets, target{acct: acct, fail: fmt.Sprintf("no collector for platform %q (known: %s)", acct.Platform, orNone(g.registry.Platforms()))})
				continue
			}
			targets = append(targets, target{acct: acct, c: c})
		}
	}

	failed := 0
	enc := json.NewEncoder(g.stdout)
	enc.SetEscapeHTML(false)
	for _, t := range targets {
		var res collect.RunResult
		var err error
		switch {
		case t.skip != "":
			res = collect.RunResult{Account: t.acct.Key, Skipped: t.skip}
		case t.fail != "":
			res = collect.RunResult{Account: t.acct.Key, Class: collect.ClassOther, Error: t.fail}
			err = errors.New(t.fail)
		default:
			progress, finish := itemProgress(g, "collect "+t.acct.Key)
			res, err = collect.Run(ctx, a, t.acct, t.c, collect.RunOptions{
				Full: o.full, NoMedia: o.noMedia, Now: g.now, Progress: progress,
				OnError: func(e *archive.InputError) { fmt.Fprintln(g.stderr, "osmarc: "+oneLine(collect.Scrub(e.Error()))) },
			})
			finish()
			if errors.Is(err, collect.ErrDeactivated) {
				err = nil
			}
		}
		if err != nil {
			failed++
		}
		if o.json {
			if err := enc.Encode(res); err != nil {
				return err
			}
		} else {
			fmt.Fprintln(g.stdout, describeRun(res))
		}
		if ctx.Err() != nil {
			break
		}
	}
	if failed > 0 {
		return &exitError{code: 1, msg: fmt.Sprintf("%d of %d account(s) failed (see osmarc jobs)", failed, len(targets))}
	}
	return nil
}

// describeRun is one line for a run.
func describeRun(r collect.RunResult) string {
	switch {
	case r.Skipped != "":
		return fmt.Sprintf("%s: not collected: %s", r.Account, r.Skipped)
	case r.Error != "":
		s := fmt.Sprintf("%s: FAILED (%s): %s", r.Account, r.Class, r.Error)
		if r.Capture != "" {
			s += fmt.Sprintf(" [kept %d item(s) in incomplete capture %s]", r.Items, r.Capture)
		}
		return s
	}
	what := "incremental"
	if r.Complete {
		what = "complete listing"
	}
	if r.Capture == "" {
		return fmt.Sprintf("%s: nothing new (%s)", r.Account, r.Duration.Round(time.Millisecond))
	}
	return fmt.Sprintf("%s: capture %s: %d items, %d new versions, %d removed; %s (%s)",
		r.Account, r.Capture, r.Items, r.NewVersions, r.Removed, what, r.Duration.Round(time.Millisecond))
}

func orNone(list []string) string {
	if len(list) == 0 {
		return "none"
	}
	return strings.Join(list, ", ")
}

// itemProgress draws a count of items captured on a terminal (nothing
// otherwise, or with --quiet); finish clears it.
func itemProgress(g *globalOptions, what string) (progress func(int64), finish func()) {
	if !g.interactive() {
		return nil, func() {}
	}
	bar := progressbar.NewOptions64(-1,
		progressbar.OptionSetWriter(g.stderr),
		progressbar.OptionSetDescription(what),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("items"),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish(),
	)
	return func(n int64) { bar.Set64(n) }, func() { bar.Finish() }
}
