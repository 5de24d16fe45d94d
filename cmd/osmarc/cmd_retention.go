package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/retention"
)

// withRecords opens the archive (a writer unless readOnly) and runs fn on
// its records management.
func withRecords(ctx context.Context, g *globalOptions, command string, readOnly bool, fn func(*archive.Archive, *retention.Records) error) error {
	a, err := g.open(ctx, command, readOnly)
	if err != nil {
		return err
	}
	defer a.Close()
	r, closeIndex, err := recordsFor(g, a, readOnly)
	if err != nil {
		return err
	}
	defer closeIndex()
	return fn(a, r)
}

func (g *globalOptions) who() string {
	if g.actor != "" {
		return g.actor
	}
	return archive.DefaultActor()
}

func printJSON(g *globalOptions, v any) error {
	enc := json.NewEncoder(g.stdout)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// parseDay reads a date (2024-03-01) or an RFC 3339 time.
func parseDay(flag, s string) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return t, fmt.Errorf("--%s %q: want a date like 2024-03-01 or a time like 2024-03-01T14:00:00Z", flag, s)
	}
	return t, nil
}

func newScheduleCommand(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "schedule",
		Short: "Retention schedules",
		Long: `A retention schedule says how long records are kept, from which cutoff, and
what happens at the end. osmarc ships presets (osmarc schedule presets): NARA
GRS 6.4 item 020, GRS 5.2 items 010 and 020, a permanent schedule for a
command's official posts and an example state schedule. Check each against
the schedule that binds your organisation before you use it.`,
	}
	var s retention.Schedule
	var retain, cutoff string
	add := &cobra.Command{
		Use:   "add ID --title T --authority TEXT --retain PERIOD|permanent --cutoff C --action destroy|transfer|review",
		Short: "Add a schedule",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s.ID = args[0]
			var err error
			if s.Retain, err = retention.ParsePeriod(retain); err != nil {
				return err
			}
			if s.Cutoff, err = retention.ParseCutoff(cutoff); err != nil {
				return err
			}
			return withRecords(cmd.Context(), g, "schedule add", false, func(a *archive.Archive, r *retention.Records) error {
				if err := r.AddSchedule(cmd.Context(), s); err != nil {
					return err
				}
				fmt.Fprintf(g.stdout, "Added schedule %s: keep %s from %s, then %s.\n", s.ID, s.Retain, s.Cutoff, s.Action)
				return nil
			})
		},
	}
	add.Flags().StringVar(&s.Title, "title", "", "what records the schedule covers")
	add.Flags().StringVar(&s.Authority, "authority", "", `the authority, e.g. "NARA GRS 6.4 item 020"`)
	add.Flags().StringVar(&retain, "retain", "", "retention period: 90d, 6m, 3y, 1y6m, P3Y, or permanent")
	add.Flags().StringVar(&cutoff, "cutoff", "none", "calendar-year, fiscal-year:MM-DD, event:NAME (account-deactivated, request-closed) or none")
	add.Flags().StringVar(&s.Action, "action", "destroy", "destroy, transfer or review")
	add.Flags().StringVar(&s.Note, "note", "", "a note for those who apply it")

	var asJSON bool
	list := &cobra.Command{
		Use:   "list",
		Short: "List schedules",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return withRecords(cmd.Context(), g, "schedule list", true, func(a *archive.Archive, r *retention.Records) error {
				ss, err := r.Schedules()
				if err != nil {
					return err
				}
				if asJSON {
					return printJSON(g, ss)
				}
				tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tRETAIN\tCUTOFF\tACTION\tAUTHORITY")
				for _, s := range ss {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", s.ID, s.Retain, s.Cutoff, s.Action, s.Authority)
				}
				return tw.Flush()
			})
		},
	}
	list.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	show := &cobra.Command{
		Use:   "show ID",
		Short: "Show a schedule",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withRecords(cmd.Context(), g, "schedule show", true, func(a *archive.Archive, r *retention.Records) error {
				s, err := r.Schedule(args[0])
				if err != nil {
					return err
				}
				return printJSON(g, s)
			})
		},
	}
	var reason string
	imp := &cobra.Command{
		Use:   "import FILE",
		Short: "Add or update schedules from a YAML or JSON file",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := os.ReadFile(args[0])
			if err != nil {
				return fmt.Errorf("schedule import: %w", err)
			}
			ss, err := retention.ParseSchedules(b, args[0])
			if err != nil {
				return err
			}
			return importSchedules(cmd.Context(), g, ss, reason)
		},
	}
	imp.Flags().StringVar(&reason, "reason", "schedule import", "why the schedules change (recorded)")
	presets := &cobra.Command{
		Use:   "presets [--add]",
		Short: "Show the schedules shipped with osmarc, or add them",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if add, _ := cmd.Flags().GetBool("add"); add {
				return importSchedules(cmd.Context(), g, retention.Presets(), "presets shipped with osmarc "+archive.Version)
			}
			return printJSON(g, retention.Presets())
		},
	}
	presets.Flags().Bool("add", false, "add the presets to the archive")
	cmd.AddCommand(add, list, show, imp, presets)
	return cmd
}

func importSchedules(ctx context.Context, g *globalOptions, ss []retention.Schedule, reason string) error {
	return withRecords(ctx, g, "schedule import", false, func(a *archive.Archive, r *retention.Records) error {
		added, updated := 0, 0
		for _, s := range ss {
			if _, err := r.Schedule(s.ID); err == nil {
				if err := r.UpdateSchedule(ctx, s, reason); err != nil {
					return err
				}
				updated++
				continue
			}
			if err := r.AddSchedule(ctx, s); err != nil {
				return err
			}
			added++
		}
		fmt.Fprintf(g.stdout, "%d schedule(s) added, %d updated.\n", added, updated)
		return nil
	})
}

func newHoldCommand(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "hold",
		Short: "Legal holds",
		Long: `A legal hold freezes every record in its scope: nothing under a hold is
disposed of, whatever its date, including records captured after the hold
was placed. Only legal staff place and release holds; osmarc records who did.`,
	}
	var h retention.Hold
	var from, to string
	place := &cobra.Command{
		Use:   "place NAME --matter M --reason R [--account A]... [--from D] [--to D] [--query Q]",
		Short: "Place a hold",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			h.Name = args[0]
			for _, f := range []struct {
				name string
				v    string
				dst  **time.Time
			}{{"from", from, &h.From}, {"to", to, &h.To}} {
				if f.v == "" {
					continue
				}
				t, err := parseDay(f.name, f.v)
				if err != nil {
					return err
				}
				*f.dst = &t
			}
			return withRecords(cmd.Context(), g, "hold place", false, func(a *archive.Archive, r *retention.Records) error {
				placed, err := r.PlaceHold(cmd.Context(), h, g.who())
				if err != nil {
					return err
				}
				n, err := r.HoldCount(cmd.Context(), placed)
				if err != nil {
					return err
				}
				fmt.Fprintf(g.stdout, "Placed hold %s (%s): %d archived item(s) are in its scope now; items captured later will be too.\n", placed.Name, placed.Matter, n)
				return nil
			})
		},
	}
	place.Flags().StringVar(&h.Matter, "matter", "", "the case or matter the records are preserved for")
	place.Flags().StringVar(&h.Reason, "reason", "", "why")
	place.Flags().StringArrayVar(&h.Accounts, "account", nil, "an account in scope (repeat; default: all)")
	place.Flags().StringVar(&from, "from", "", "items created on or after this date")
	place.Flags().StringVar(&to, "to", "", "items created before this date")
	place.Flags().StringVar(&h.Query, "query", "", "a search query the items must match")
	var reason string
	release := &cobra.Command{
		Use:   "release NAME --reason R",
		Short: "Release a hold",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withRecords(cmd.Context(), g, "hold release", false, func(a *archive.Archive, r *retention.Records) error {
				h, err := r.ReleaseHold(cmd.Context(), args[0], reason, g.who())
				if err != nil {
					return err
				}
				fmt.Fprintf(g.stdout, "Released hold %s.\n", h.Name)
				return nil
			})
		},
	}
	release.Flags().StringVar(&reason, "reason", "", "why the hold ends (required)")
	var asJSON bool
	list := &cobra.Command{
		Use:   "list",
		Short: "List holds with the number of items each covers",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return withRecords(cmd.Context(), g, "hold list", true, func(a *archive.Archive, r *retention.Records) error {
				hs, err := r.Holds()
				if err != nil {
					return err
				}
				type row struct {
					retention.Hold
					Items int `json:"items"`
				}
				var rows []row
				for _, h := range hs {
					n, err := r.HoldCount(cmd.Context(), h)
					if err != nil {
						return err
					}
					rows = append(rows, row{h, n})
				}
				if asJSON {
					return printJSON(g, rows)
				}
				tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "HOLD\tSTATUS\tITEMS\tMATTER\tPLACED")
				for _, r := range rows {
					fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s by %s\n", r.Name, r.Status, r.Items, r.Matter, r.PlacedAt.Format(time.DateOnly), r.PlacedBy)
				}
				return tw.Flush()
			})
		},
	}
	list.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	show := &cobra.Command{
		Use:   "show NAME",
		Short: "Show a hold",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withRecords(cmd.Context(), g, "hold show", true, func(a *archive.Archive, r *retention.Records) error {
				h, err := r.Hold(args[0])
				if err != nil {
					return err
				}
				n, err := r.HoldCount(cmd.Context(), h)
				if err != nil {
					return err
				}
				return printJSON(g, struct {
					retention.Hold
					Items int `json:"items"`
				}{h, n})
			})
		},
	}
	cmd.AddCommand(place, release, list, show)
	return cmd
}

func newDispositionCommand(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "disposition",
		Short: "Plan, approve and carry out the disposition of eligible records",
	}
	var asOf, schedule string
	var asJSON bool
	approvers := retention.DefaultApprovers
	plan := &cobra.Command{
		Use:   "plan [--as-of DATE] [--schedule S]",
		Short: "List what is eligible (past its date, under no hold) and save the plan",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			at := g.now()
			if asOf != "" {
				t, err := parseDay("as-of", asOf)
				if err != nil {
					return err
				}
				at = t
			}
			return withRecords(cmd.Context(), g, "disposition plan", false, func(a *archive.Archive, r *retention.Records) error {
				if approvers.Default < 1 || approvers.Transfer < 1 {
					return fmt.Errorf("disposition plan: --approvers and --transfer-approvers must be at least 1")
				}
				p, err := r.Plan(cmd.Context(), at, schedule, approvers, g.who())
				if err != nil {
					return err
				}
				if asJSON {
					return printJSON(g, p)
				}
				printPlan(g, p)
				return nil
			})
		},
	}
	plan.Flags().StringVar(&asOf, "as-of", "", "plan as of this date (default: now)")
	plan.Flags().StringVar(&schedule, "schedule", "", "only this schedule")
	plan.Flags().IntVar(&approvers.Default, "approvers", retention.DefaultApprovers.Default, "distinct people who must approve the plan")
	plan.Flags().IntVar(&approvers.Transfer, "transfer-approvers", retention.DefaultApprovers.Transfer, "distinct people who must approve a plan that transfers permanent records")
	plan.Flags().BoolVar(&asJSON, "json", false, "print the plan as JSON (keys include id and items)")
	show := &cobra.Command{
		Use:   "show PLAN",
		Short: "Show a plan",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withRecords(cmd.Context(), g, "disposition show", true, func(a *archive.Archive, r *retention.Records) error {
				p, err := r.PlanByID(args[0])
				if err != nil {
					return err
				}
				if asJSON {
					return printJSON(g, p)
				}
				printPlan(g, p)
				return nil
			})
		},
	}
	show.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	var by string
	approve := &cobra.Command{
		Use:   "approve PLAN --by NAME",
		Short: "Record an approval (a person other than the planner)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withRecords(cmd.Context(), g, "disposition approve", false, func(a *archive.Archive, r *retention.Records) error {
				p, err := r.Approve(cmd.Context(), args[0], by)
				if err != nil {
					return err
				}
				fmt.Fprintf(g.stdout, "Approved %s by %s: %d of %d approval(s); %s.\n", p.ID, by, len(p.Approvals), p.Required, p.Status)
				return nil
			})
		},
	}
	approve.Flags().StringVar(&by, "by", "", "who approves")
	var transferDir string
	execute := &cobra.Command{
		Use:   "execute PLAN",
		Short: "Carry out an approved plan (re-checks holds and dates now)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withRecords(cmd.Context(), g, "disposition execute", false, func(a *archive.Archive, r *retention.Records) error {
				if transferDir != "" {
					r.Transfer = bagTransfer(a, g, transferDir)
				}
				p, err := r.Execute(cmd.Context(), args[0], g.who())
				if err != nil {
					return err
				}
				if asJSON {
					return printJSON(g, p)
				}
				res := p.Result
				if res == nil {
					fmt.Fprintf(g.stdout, "Plan %s was executed before; its destruction is complete.\n", p.ID)
					return nil
				}
				fmt.Fprintf(g.stdout, "Executed %s: %d item(s) destroyed, certificate %s; %d blob(s) deleted, %d kept because kept items share them.\n",
					p.ID, res.Destroyed, res.Certificate, res.BlobsDeleted, res.BlobsKept)
				if pk := res.Package; pk != nil {
					fmt.Fprintf(g.stdout, "Transferred %d item(s): BagIt package %s (%d file(s), %d byte(s), tag manifest sha256:%s); they are marked transferred and not planned again.\n",
						len(res.Transfer), pk.Dir, pk.Files, pk.Bytes, pk.TagManifestSHA256)
				}
				if len(res.Review) > 0 {
					fmt.Fprintf(g.stdout, "%d item(s) are for review by a person (they stay, and are planned again until a person reclassifies them or changes their schedule):\n", len(res.Review))
					for _, k := range res.Review {
						fmt.Fprintf(g.stdout, "  %s\n", k)
					}
				}
				return nil
			})
		},
	}
	execute.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	execute.Flags().StringVar(&transferDir, "transfer-dir", "", "where the BagIt package of transferred items goes, in a directory named after the plan (default: DATA/transfers)")
	cmd.AddCommand(plan, show, approve, execute)
	return cmd
}

func printPlan(g *globalOptions, p retention.Plan) {
	requested := ""
	if p.Requested > 0 {
		requested = fmt.Sprintf(", %d by open-records requests still open", p.Requested)
	}
	fmt.Fprintf(g.stdout, "Plan %s as of %s: %d item(s) eligible, %d kept by holds%s; %s (%d of %d approvals).\n",
		p.ID, p.AsOf.Format(time.DateOnly), p.Items, p.Held, requested, p.Status, len(p.Approvals), p.Required)
	tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  SCHEDULE\tACTION\tITEMS\tAUTHORITY")
	for _, gr := range p.Groups {
		fmt.Fprintf(tw, "  %s\t%s\t%d\t%s\n", gr.Schedule, gr.Action, gr.Items, gr.Authority)
	}
	tw.Flush()
}

func newAuditCommand(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "The journal of record-management events",
	}
	var typ, actor, since string
	var asJSON bool
	list := &cobra.Command{
		Use:   "list [--type T] [--actor A] [--since D]",
		Short: "List journal events",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var from time.Time
			if since != "" {
				t, err := parseDay("since", since)
				if err != nil {
					return err
				}
				from = t
			}
			a, err := g.open(cmd.Context(), "audit list", true)
			if err != nil {
				return err
			}
			defer a.Close()
			enc := json.NewEncoder(g.stdout)
			enc.SetEscapeHTML(false)
			tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
			if !asJSON {
				fmt.Fprintln(tw, "SEQ\tTIME\tACTOR\tTYPE")
			}
			for ev, err := range a.Events(0) {
				if err != nil {
					return err
				}
				if (typ != "" && ev.Type != typ && !strings.HasPrefix(ev.Type, strings.TrimSuffix(typ, "*"))) ||
					(actor != "" && ev.Actor != actor) || ev.Time.Before(from) {
					continue
				}
				if asJSON {
					if err := enc.Encode(ev); err != nil {
						return err
					}
					continue
				}
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", ev.Seq, ev.Time.Format(time.RFC3339), ev.Actor, ev.Type)
			}
			return tw.Flush()
		},
	}
	list.Flags().StringVar(&typ, "type", "", "only events of this type (or a prefix ending in *, e.g. hold.*)")
	list.Flags().StringVar(&actor, "actor", "", "only events by this actor")
	list.Flags().StringVar(&since, "since", "", "only events on or after this date")
	list.Flags().BoolVar(&asJSON, "json", false, "one JSON object per line")
	verify := &cobra.Command{
		Use:   "verify",
		Short: "Re-compute the journal's hash chain and name the first event changed, removed or reordered",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			a, err := g.open(cmd.Context(), "audit verify", true)
			if err != nil {
				return err
			}
			defer a.Close()
			rep, err := a.VerifyJournal(cmd.Context())
			if err != nil {
				return err
			}
			if rep.Problem != "" {
				fmt.Fprintf(g.stdout, "DAMAGE %s\n", rep.Problem)
				return &exitError{code: 1, msg: "the journal's hash chain is broken"}
			}
			fmt.Fprintf(g.stdout, "OK: %d events chain from the first; head %s\n", rep.Events, rep.Head)
			return nil
		},
	}
	cmd.AddCommand(list, verify)
	return cmd
}
