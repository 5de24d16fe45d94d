package main

import (
	"fmt"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/retention"
)

func newRuleCommand(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "rule",
		Short: "Classification rules: which items are records, secondary copies, transitory or non-records",
		Long: `Classification rules give items a class (record, secondary-copy, transitory,
non-record), optionally a retention schedule and exemption codes. A rule's
--match is a query in the language of osmarc search, with one difference:
in a rule every clause is required. ` + ruleSemanticsHelp + `

Rules are ordered: the first that matches an item wins;
an item no rule matches is a record under its account's schedule (the safe
default). A person's classification (osmarc classify) outranks every rule.

Every change of the rules re-evaluates every item, as one batch, recorded as
one journal event with how many items changed class. Rules are evaluated on
the search index, so the index must hold every item (osmarc reindex).`,
	}
	var ru retention.Rule
	var at int
	var reason string
	var asJSON bool
	add := &cobra.Command{
		Use:   "add --match EXPR --class C [--schedule S] [--exemption E]...",
		Short: "Add a rule (last, or at --at N) and re-evaluate every item",
		Long: `rule add puts a classification rule last (or at --at N) and re-evaluates
every item, recording the new rules and what changed as one journal event.

--match is a query in the language of osmarc search, with one difference:
in a rule every clause is required. ` + ruleSemanticsHelp + `

Example: osmarc rule add --match 'platform:facebook kind:comment' \
  --class transitory --schedule grs-5.2-010 --reason 'GRS 5.2 item 010'
classifies Facebook comments (not every Facebook item and every comment).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return withRecords(cmd.Context(), g, "rule add", false, func(a *archive.Archive, r *retention.Records) error {
				added, ch, err := r.AddRule(cmd.Context(), ru, at, reason)
				if err != nil {
					return err
				}
				if asJSON {
					return printJSON(g, map[string]any{"rule": added, "change": ch})
				}
				fmt.Fprintf(g.stdout, "Added rule %s at position %d: %s → %s.\n", added.ID, ch.To, added.Match, ruleOutcome(added))
				printChange(g, ch)
				return nil
			})
		},
	}
	add.Flags().StringVar(&ru.Match, "match", "", "the items the rule classifies: a query as osmarc search takes it, every clause required unless it starts with -, e.g. 'platform:facebook kind:comment origin:public'")
	add.Flags().StringVar(&ru.Class, "class", "", "record, secondary-copy, transitory or non-record")
	add.Flags().StringVar(&ru.Schedule, "schedule", "", "the retention schedule of what it matches (default: the account's)")
	add.Flags().StringArrayVar(&ru.Exemptions, "exemption", nil, "an exemption code (see osmarc request exemptions; repeatable)")
	add.Flags().StringVar(&ru.Note, "note", "", "why the rule exists (the policy it applies)")
	add.Flags().IntVar(&at, "at", 0, "its position, 1 being first (default: last)")
	add.Flags().StringVar(&reason, "reason", "", "why the rules change (recorded)")
	add.Flags().BoolVar(&asJSON, "json", false, "print JSON")

	list := &cobra.Command{
		Use:   "list",
		Short: "List the rules in the order they are tried",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return withRecords(cmd.Context(), g, "rule list", true, func(a *archive.Archive, r *retention.Records) error {
				rs, err := r.Rules()
				if err != nil {
					return err
				}
				if asJSON {
					if rs.Rules == nil {
						rs.Rules = []retention.Rule{}
					}
					return printJSON(g, rs)
				}
				if len(rs.Rules) == 0 {
					fmt.Fprintln(g.stdout, "No rules: every item is a record under its account's schedule unless a person classified it.")
					return nil
				}
				tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "#\tID\tMATCH\tCLASS\tSCHEDULE\tEXEMPTIONS")
				old := false
				for i, ru := range rs.Rules {
					match := ru.Match
					if ru.Semantics < retention.RuleSemanticsAll {
						match, old = match+" *", true
					}
					fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", i+1, ru.ID, match, ru.Class, orDash(ru.Schedule, "(account's)"), orDash(strings.Join(ru.Exemptions, ","), "-"))
				}
				tw.Flush()
				if old {
					fmt.Fprintln(g.stdout, "* recorded before rules required every clause: it matches what osmarc search finds with the same query (clauses without + are alternatives).")
				}
				fmt.Fprintln(g.stdout, "Otherwise: record under the account's schedule.")
				return nil
			})
		},
	}
	list.Flags().BoolVar(&asJSON, "json", false, "print JSON")

	test := &cobra.Command{
		Use:   "test KEY",
		Short: "Say which rule classifies an item, and why (clause by clause)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withRecords(cmd.Context(), g, "rule test", true, func(a *archive.Archive, r *retention.Records) error {
				ex, err := r.Explain(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				if asJSON {
					return printJSON(g, ex)
				}
				printExplanation(g, ex)
				return nil
			})
		},
	}
	test.Flags().BoolVar(&asJSON, "json", false, "print JSON")

	remove := &cobra.Command{
		Use:   "remove ID --reason R",
		Short: "Remove a rule and re-evaluate every item",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withRecords(cmd.Context(), g, "rule remove", false, func(a *archive.Archive, r *retention.Records) error {
				ch, err := r.RemoveRule(cmd.Context(), args[0], reason)
				if err != nil {
					return err
				}
				if asJSON {
					return printJSON(g, ch)
				}
				fmt.Fprintf(g.stdout, "Removed rule %s (%s → %s).\n", ch.Rule.ID, ch.Rule.Match, ruleOutcome(*ch.Rule))
				printChange(g, ch)
				return nil
			})
		},
	}
	remove.Flags().StringVar(&reason, "reason", "", "why (required, recorded)")
	remove.Flags().BoolVar(&asJSON, "json", false, "print JSON")

	var to int
	move := &cobra.Command{
		Use:   "move ID --to N",
		Short: "Move a rule to position N (1 is tried first) and re-evaluate every item",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withRecords(cmd.Context(), g, "rule move", false, func(a *archive.Archive, r *retention.Records) error {
				ch, err := r.MoveRule(cmd.Context(), args[0], to, reason)
				if err != nil {
					return err
				}
				if asJSON {
					return printJSON(g, ch)
				}
				fmt.Fprintf(g.stdout, "Moved rule %s from position %d to %d.\n", ch.Rule.ID, ch.From, ch.To)
				printChange(g, ch)
				return nil
			})
		},
	}
	move.Flags().IntVar(&to, "to", 0, "the new position, 1 being first")
	move.Flags().StringVar(&reason, "reason", "", "why (recorded)")
	move.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.AddCommand(add, list, test, remove, move)
	return cmd
}

func ruleOutcome(ru retention.Rule) string {
	s := ru.Class
	if ru.Schedule != "" {
		s += " under " + ru.Schedule
	} else {
		s += " under the account's schedule"
	}
	if len(ru.Exemptions) > 0 {
		s += ", exempt " + strings.Join(ru.Exemptions, ",")
	}
	return s
}

func orDash(s, dash string) string {
	if s == "" {
		return dash
	}
	return s
}

func printChange(g *globalOptions, ch retention.RuleChange) {
	var parts []string
	var classes []string
	for c := range ch.ByClass {
		classes = append(classes, c)
	}
	sort.Strings(classes)
	for _, c := range classes {
		parts = append(parts, fmt.Sprintf("%s %d", c, ch.ByClass[c]))
	}
	fmt.Fprintf(g.stdout, "Re-evaluated %d item(s): %d changed classification. Now: %s.\n", ch.Evaluated, ch.Reclassified, strings.Join(parts, ", "))
}

// ruleSemanticsHelp says how a rule's clauses combine, and how an
// alternative is written.
const ruleSemanticsHelp = `A clause without "+" or "-" is required
(in osmarc search it would be one of alternatives); "-" excludes. So
'platform:facebook kind:comment' matches Facebook comments, and
'platform:facebook -origin:account' what the public posted on Facebook.
For alternatives within one field, match its whole value with a regular
expression: 'kind:/comment|reply/'. For alternatives across fields, write
two rules with the same class. Rules recorded before every clause was
required keep the meaning they had when they were approved: what osmarc
search finds with the same query (rule list marks them with *).`

func printExplanation(g *globalOptions, ex retention.Explanation) {
	w := g.stdout
	fmt.Fprintf(w, "%s\n", ex.Key)
	if len(ex.Rules) == 0 {
		fmt.Fprintln(w, "  No rules.")
	} else {
		fmt.Fprintln(w, `  In a rule every clause must hold, except one starting with "-", which must not (unlike osmarc search, where clauses without + are alternatives).`)
	}
	for i, rr := range ex.Rules {
		verdict := "does not match"
		switch {
		case rr.Wins:
			verdict = "MATCHES: this rule classifies it"
		case rr.Matched:
			verdict = "matches, but an earlier rule won"
		}
		fmt.Fprintf(w, "  %d. %s  %s → %s: %s\n", i+1, rr.Rule.ID, rr.Rule.Match, ruleOutcome(rr.Rule), verdict)
		if rr.Rule.Semantics < retention.RuleSemanticsAll {
			fmt.Fprintln(w, "       (recorded before rules required every clause: it keeps the meaning it was approved with, that of osmarc search)")
		}
		for _, c := range rr.Clauses {
			mark := "✗"
			if c.Holds {
				mark = "✓"
			}
			role := map[string]string{
				retention.RoleRequired:  "required",
				retention.RoleExcluded:  "must not hold",
				retention.RoleAnyOf:     "any one of these",
				retention.RoleRanksOnly: "ranks only: decides nothing beside a + clause",
			}[c.Role]
			fmt.Fprintf(w, "       %s %s  (%s)\n", mark, c.Text, role)
		}
	}
	if ex.Decision != nil {
		d := ex.Decision
		if d.Status == "set" {
			fmt.Fprintf(w, "  A person's classification outranks the rules: %s by %s on %s: %s\n", d.Class, d.By, d.At.Format(time.DateOnly), d.Reason)
		} else {
			fmt.Fprintf(w, "  (%s classified it %s on %s; undone by %s on %s: %s)\n", d.By, d.Class, d.At.Format(time.DateOnly), d.UndoneBy, d.UndoneAt.Format(time.DateOnly), d.UndoReason)
		}
	}
	as := ex.Assignment
	from := map[string]string{retention.SourcePerson: "a person's decision", retention.SourceRule: "rule " + as.Rule, retention.SourceDefault: "the default: no rule matches"}[as.Source]
	fmt.Fprintf(w, "Classification: %s (%s)", as.Class, from)
	if len(as.Exemptions) > 0 {
		fmt.Fprintf(w, ", exemptions %s", strings.Join(as.Exemptions, ", "))
	}
	fmt.Fprintln(w)
	printDisposition(g, ex.Schedule, ex.Disposition)
}

func printDisposition(g *globalOptions, schedule string, d *retention.Disposition) {
	w := g.stdout
	switch {
	case schedule == "":
		fmt.Fprintln(w, "Schedule: none (the account has no schedule): kept until one applies.")
	case d == nil:
		fmt.Fprintf(w, "Schedule: %s\n", schedule)
	case d.Permanent:
		fmt.Fprintf(w, "Schedule: %s: permanent, no disposition date.\n", schedule)
	case d.Pending != "":
		fmt.Fprintf(w, "Schedule: %s: no disposition date until %s.\n", schedule, d.Pending)
	default:
		fmt.Fprintf(w, "Schedule: %s: eligible for disposition from %s.\n", schedule, d.Date.Format(time.DateOnly))
	}
}

func newClassifyCommand(g *globalOptions) *cobra.Command {
	var class, schedule, reason string
	var exemptions []string
	var undo, asJSON bool
	cmd := &cobra.Command{
		Use:   "classify KEY --class C [--schedule S] [--exemption E]... --reason R",
		Short: "Classify one item by hand (outranks every rule until undone with --undo)",
		Long: `classify records a person's classification of one item: its class (record,
secondary-copy, transitory, non-record), optionally a schedule other than
what rules or its account give, and exemption codes (osmarc request
exemptions lists them). It outranks every rule until it is undone:
osmarc classify KEY --undo --reason R. Both are journal events.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withRecords(cmd.Context(), g, "classify", false, func(a *archive.Archive, r *retention.Records) error {
				var d retention.Decision
				var err error
				if undo {
					if class != "" || schedule != "" || len(exemptions) > 0 {
						return fmt.Errorf("classify --undo: give only --reason (the rules decide again)")
					}
					d, err = r.Unclassify(cmd.Context(), args[0], reason)
				} else {
					if class == "" {
						return fmt.Errorf("classify %s: --class is required (record, secondary-copy, transitory or non-record), or --undo", args[0])
					}
					d, err = r.Classify(cmd.Context(), args[0], class, schedule, exemptions, reason)
				}
				if err != nil {
					return err
				}
				if asJSON {
					return printJSON(g, d)
				}
				if undo {
					fmt.Fprintf(g.stdout, "Undid the classification of %s (%s by %s); the rules decide again.\n", d.Key, d.Class, d.By)
					return nil
				}
				fmt.Fprintf(g.stdout, "Classified %s as %s", d.Key, d.Class)
				if d.Schedule != "" {
					fmt.Fprintf(g.stdout, " under %s", d.Schedule)
				}
				if len(d.Exemptions) > 0 {
					fmt.Fprintf(g.stdout, ", exempt %s", strings.Join(d.Exemptions, ", "))
				}
				fmt.Fprintf(g.stdout, " (by %s: %s).\n", d.By, d.Reason)
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&class, "class", "", "record, secondary-copy, transitory or non-record")
	cmd.Flags().StringVar(&schedule, "schedule", "", "a schedule for this item (default: the rules' or the account's)")
	cmd.Flags().StringArrayVar(&exemptions, "exemption", nil, "an exemption code (repeatable)")
	cmd.Flags().StringVar(&reason, "reason", "", "why (required, recorded)")
	cmd.Flags().BoolVar(&undo, "undo", false, "undo the person's classification: the rules decide again")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}
