package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/retention"
)

// accountFlags are the registry fields add and update set.
type accountFlags struct {
	platform, handle, id, name, unit string
	practitioners                    []string
	approval, schedule, collect      string
	credentials, baseURL             string
	allowPrivate                     bool
}

func (f *accountFlags) register(fs *pflag.FlagSet, withIdentity bool) {
	if withIdentity {
		fs.StringVar(&f.platform, "platform", "", "platform (facebook, instagram, x, youtube, mastodon, bluesky, wordpress, feed, …)")
		fs.StringVar(&f.handle, "handle", "", "the account's handle on the platform")
	}
	fs.StringVar(&f.id, "id", "", "the platform's own id of the account (page id, user id, DID, …)")
	fs.StringVar(&f.name, "name", "", "display name")
	fs.StringVar(&f.unit, "unit", "", "the unit or office responsible")
	fs.StringArrayVar(&f.practitioners, "practitioner", nil, "a person who manages the account (repeat for several)")
	fs.StringVar(&f.approval, "approval", "", "reference of the approval to operate the account")
	fs.StringVar(&f.schedule, "schedule", "", "retention schedule id for its records")
	fs.StringVar(&f.collect, "collect", "", "when to collect, as a cron expression (e.g. '0 */6 * * *' or @daily)")
	fs.StringVar(&f.credentials, "credentials", "", "where the collector reads its token: env:VARIABLE or file:/path (never the token itself)")
	fs.StringVar(&f.baseURL, "base-url", "", "API base URL (a self-hosted Mastodon or WordPress, another API host)")
	fs.BoolVar(&f.allowPrivate, "allow-private", false, "let the collector reach loopback and private addresses (a server on the organisation's own network)")
}

// apply sets on acct the flags that were given.
func (f *accountFlags) apply(fs *pflag.FlagSet, acct *archive.Account) {
	set := func(name string, dst *string, v string) {
		if fs.Changed(name) {
			*dst = v
		}
	}
	set("id", &acct.ID, f.id)
	set("name", &acct.Name, f.name)
	set("unit", &acct.Unit, f.unit)
	set("approval", &acct.Approval, f.approval)
	set("schedule", &acct.Schedule, f.schedule)
	set("collect", &acct.Collect, f.collect)
	set("credentials", &acct.Credentials, f.credentials)
	set("base-url", &acct.BaseURL, f.baseURL)
	if fs.Changed("practitioner") {
		acct.Practitioners = f.practitioners
	}
	if fs.Changed("allow-private") {
		acct.AllowPrivate = f.allowPrivate
	}
}

// checkSchedule warns when --schedule names no retention schedule of the
// archive yet: the account is registered all the same (schedules may be
// added after), but its records fall under no schedule until one is.
func (f *accountFlags) checkSchedule(fs *pflag.FlagSet, a *archive.Archive, g *globalOptions) {
	if !fs.Changed("schedule") || f.schedule == "" {
		return
	}
	if _, err := retention.New(a, g.now).Schedule(f.schedule); errors.Is(err, retention.ErrNotFound) {
		fmt.Fprintf(g.stderr, "osmarc: warning: schedule %q is not defined in this archive yet; until it is, this account's records fall under no schedule (see osmarc schedule add, osmarc schedule presets --add)\n", f.schedule)
	}
}

func newAccountCommand(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "account",
		Short: "The registry of official accounts",
		Long: `The registry lists the official accounts osmarc captures: who manages each,
under which approval and retention schedule, and when it was deactivated.
Every change is a journal event.`,
	}
	cmd.AddCommand(newAccountAddCommand(g), newAccountListCommand(g), newAccountShowCommand(g),
		newAccountUpdateCommand(g), newAccountDeactivateCommand(g))
	return cmd
}

func newAccountAddCommand(g *globalOptions) *cobra.Command {
	var f accountFlags
	cmd := &cobra.Command{
		Use:   "add --platform P --handle H [flags]",
		Short: "Register an account",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.platform == "" || f.handle == "" {
				return fmt.Errorf("account add: --platform and --handle are required")
			}
			acct := archive.Account{Platform: f.platform, Handle: f.handle}
			f.apply(cmd.Flags(), &acct)
			return runAccountChange(cmd.Context(), g, "account add", func(a *archive.Archive) (archive.Account, error) {
				f.checkSchedule(cmd.Flags(), a, g)
				return a.AddAccount(cmd.Context(), acct)
			}, "Registered")
		},
	}
	f.register(cmd.Flags(), true)
	return cmd
}

func newAccountUpdateCommand(g *globalOptions) *cobra.Command {
	var f accountFlags
	cmd := &cobra.Command{
		Use:   "update ACCOUNT [flags]",
		Short: "Change a registered account",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runAccountChange(cmd.Context(), g, "account update", func(a *archive.Archive) (archive.Account, error) {
				f.checkSchedule(cmd.Flags(), a, g)
				return a.UpdateAccount(cmd.Context(), args[0], func(acct *archive.Account) error {
					f.apply(cmd.Flags(), acct)
					return nil
				})
			}, "Updated")
		},
	}
	f.register(cmd.Flags(), false)
	return cmd
}

func newAccountDeactivateCommand(g *globalOptions) *cobra.Command {
	var reason string
	cmd := &cobra.Command{
		Use:   "deactivate ACCOUNT --reason R",
		Short: "Record that an account was closed (its date can start a retention cutoff)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runAccountChange(cmd.Context(), g, "account deactivate", func(a *archive.Archive) (archive.Account, error) {
				return a.DeactivateAccount(cmd.Context(), args[0], reason)
			}, "Deactivated")
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "", "why the account was closed (required)")
	return cmd
}

func runAccountChange(ctx context.Context, g *globalOptions, command string, change func(*archive.Archive) (archive.Account, error), verb string) error {
	a, err := g.open(ctx, command, false)
	if err != nil {
		return err
	}
	defer a.Close()
	acct, err := change(a)
	if err != nil {
		return err
	}
	fmt.Fprintf(g.stdout, "%s %s.\n", verb, acct.Key)
	return nil
}

func newAccountListCommand(g *globalOptions) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List registered accounts",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			a, err := g.open(cmd.Context(), "account list", true)
			if err != nil {
				return err
			}
			defer a.Close()
			accts, err := a.Accounts()
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(g.stdout)
				enc.SetEscapeHTML(false)
				for _, acct := range accts {
					if err := enc.Encode(acct); err != nil {
						return err
					}
				}
				return nil
			}
			tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ACCOUNT\tSTATUS\tNAME\tUNIT\tCOLLECT\tSCHEDULE")
			for _, acct := range accts {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", acct.Key, acct.Status, acct.Name, acct.Unit, dash(acct.Collect), dash(acct.Schedule))
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "one JSON object per line")
	return cmd
}

func newAccountShowCommand(g *globalOptions) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "show ACCOUNT",
		Short: "Show one registered account",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			a, err := g.open(cmd.Context(), "account show", true)
			if err != nil {
				return err
			}
			defer a.Close()
			acct, err := a.Account(args[0])
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(g.stdout)
				enc.SetEscapeHTML(false)
				enc.SetIndent("", "  ")
				return enc.Encode(acct)
			}
			w := g.stdout
			fmt.Fprintf(w, "%s  (%s)\n", acct.Key, acct.Status)
			for _, kv := range [][2]string{
				{"platform", acct.Platform}, {"handle", acct.Handle}, {"id", acct.ID}, {"name", acct.Name}, {"unit", acct.Unit},
				{"practitioners", strings.Join(acct.Practitioners, ", ")}, {"approval", acct.Approval}, {"schedule", acct.Schedule},
				{"collect", acct.Collect}, {"credentials", acct.Credentials}, {"base url", acct.BaseURL},
				{"registered", acct.RegisteredAt.Format(time.RFC3339) + " by " + acct.RegisteredBy},
			} {
				if kv[1] != "" {
					fmt.Fprintf(w, "  %-14s %s\n", kv[0], kv[1])
				}
			}
			if acct.AllowPrivate {
				fmt.Fprintf(w, "  %-14s %s\n", "network", "may reach private addresses")
			}
			if acct.DeactivatedAt != nil {
				fmt.Fprintf(w, "  %-14s %s: %s\n", "deactivated", acct.DeactivatedAt.Format(time.RFC3339), acct.Reason)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the account as JSON")
	return cmd
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
