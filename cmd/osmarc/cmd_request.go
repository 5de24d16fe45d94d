package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/request"
	"github.com/osmarc/osmarc/archive/request/pii"
	"github.com/osmarc/osmarc/index"
)

// PresetsFile is the organisation's request presets in the data
// directory, read when it exists.
const PresetsFile = "request-presets.json"

type requestOptions struct {
	presets []string
	json    bool
}

func newRequestCommand(g *globalOptions) *cobra.Command {
	o := &requestOptions{}
	cmd := &cobra.Command{
		Use:   "request",
		Short: "Open-records requests: scope, items, exemptions, redaction, production",
		Long: `An open-records request (FOIA, a state's open-records law, Canada's Access to
Information Act) is opened with its requester, receipt date and due date,
scoped with saved searches, filled with items, and produced as a BagIt bag
with its items redacted and its withholding and redaction logs. Every step is
a journal event; the archived items never change.

Laws, calendars and exemption codes come from presets shipped with osmarc,
extended by ` + PresetsFile + ` in the data directory, $OSMARC_REQUEST_PRESETS
and --presets (files of the same form; an id already known is replaced).`,
	}
	cmd.PersistentFlags().StringArrayVar(&o.presets, "presets", nil, "a file of laws, calendars and exemption codes extending the shipped presets (repeatable)")
	cmd.AddCommand(
		newRequestOpenCommand(g, o), newRequestListCommand(g, o), newRequestShowCommand(g, o),
		newRequestSearchCommand(g, o), newRequestAddCommand(g, o), newRequestRemoveCommand(g, o),
		newRequestWithholdCommand(g, o), newRequestRedactCommand(g, o), newRequestKeepCommand(g, o),
		newRequestPIICommand(g, o), newRequestProduceCommand(g, o), newRequestCloseCommand(g, o),
		newRequestLawsCommand(g, o), newRequestExemptionsCommand(g, o),
	)
	return cmd
}

// loadPresets reads the shipped presets and the organisation's.
func (o *requestOptions) loadPresets(g *globalOptions) (*request.Presets, error) {
	return request.LoadPresets(append(orgPresetFiles(g), o.presets...)...)
}

// orgPresetFiles are the organisation's presets files: the data
// directory's and those OSMARC_REQUEST_PRESETS names. Their exemption
// codes serve requests, rules and decisions alike.
func orgPresetFiles(g *globalOptions) []string {
	var files []string
	if p := filepath.Join(g.dataDir, PresetsFile); fileExists(p) {
		files = append(files, p)
	}
	if env := os.Getenv("OSMARC_REQUEST_PRESETS"); env != "" {
		files = append(files, filepath.SplitList(env)...)
	}
	return files
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// actor is who acts, as the journal records it.
func (g *globalOptions) requestActor() string {
	if g.actor != "" {
		return g.actor
	}
	return archive.DefaultActor()
}

// withRequestArchive opens the archive as a writer for a request command.
func withRequestArchive(ctx context.Context, g *globalOptions, command string, readOnly bool, fn func(a *archive.Archive) error) error {
	a, err := g.open(ctx, command, readOnly)
	if err != nil {
		return err
	}
	defer a.Close()
	return fn(a)
}

func reqJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func reqParseDay(flag, s string) (time.Time, error) {
	d, err := request.ParseDate(s)
	if err != nil {
		return d, fmt.Errorf("%s: %w", flag, err)
	}
	return d, nil
}

func newRequestOpenCommand(g *globalOptions, o *requestOptions) *cobra.Command {
	var requester, received, due, law, description string
	var days int
	cmd := &cobra.Command{
		Use:   "open --requester NAME --received DATE (--due DATE | --law LAW [--days N]) --description TEXT",
		Short: "Open a request; --law computes the due date",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := o.loadPresets(g)
			if err != nil {
				return err
			}
			op := request.OpenParams{Requester: requester, Description: description, Law: law, Days: days, Today: g.now()}
			if received == "" {
				return errors.New("request open: --received is required")
			}
			if op.Received, err = reqParseDay("request open: --received", received); err != nil {
				return err
			}
			if due != "" {
				if op.Due, err = reqParseDay("request open: --due", due); err != nil {
					return err
				}
			}
			// Check all of it before touching the archive.
			if law != "" {
				l, err := p.Law(law)
				if err != nil {
					return fmt.Errorf("request open: %w", err)
				}
				if _, err := p.Due(l, op.Received, days); err != nil {
					return fmt.Errorf("request open: %w", err)
				}
			}
			return withRequestArchive(cmd.Context(), g, "request open", false, func(a *archive.Archive) error {
				r, err := request.Open(cmd.Context(), a, p, op)
				if err != nil {
					return err
				}
				if o.json {
					return reqJSON(g.stdout, r)
				}
				fmt.Fprintf(g.stdout, "Opened %s for %s, received %s, due %s", r.ID, r.Requester, r.Received, r.Due)
				if r.Law != nil {
					fmt.Fprintf(g.stdout, " (%s: %d %s days, %s)", r.Law.ID, r.Law.Days, r.Law.Count, r.Law.Citation)
				}
				fmt.Fprintln(g.stdout, ".")
				return nil
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&requester, "requester", "", "who made the request (required)")
	f.StringVar(&received, "received", "", "the day it was received, YYYY-MM-DD (required)")
	f.StringVar(&due, "due", "", "the due date, YYYY-MM-DD")
	f.StringVar(&law, "law", "", "compute the due date under this law (see osmarc request laws)")
	f.IntVar(&days, "days", 0, "with a law that sets only a target (as soon as practicable): this request's target in days")
	f.StringVar(&description, "description", "", "what was asked for (required)")
	f.BoolVar(&o.json, "json", false, "print the request as JSON")
	return cmd
}

// dueText says how long is left.
func dueText(r *request.Request, today time.Time, p *request.Presets) string {
	if r.Status == request.StatusClosed {
		return "closed " + r.ClosedAt.UTC().Format(request.DateLayout)
	}
	n := r.DaysLeft(today)
	var s string
	switch {
	case n == 0:
		s = "due today"
	case n == 1:
		s = "1 day left"
	case n > 1:
		s = fmt.Sprintf("%d days left", n)
	case n == -1:
		s = "OVERDUE by 1 day"
	default:
		s = fmt.Sprintf("OVERDUE by %d days", -n)
	}
	if r.Law != nil && r.Law.Count == request.CountBusiness && n > 0 && p != nil {
		if cal, err := p.Calendar(r.Law.Calendar); err == nil {
			s += fmt.Sprintf(" (%d business)", cal.BusinessDaysBetween(today, r.DueDate()))
		}
	}
	return s
}

func newRequestListCommand(g *globalOptions, o *requestOptions) *cobra.Command {
	var all bool
	var asOf string
	cmd := &cobra.Command{
		Use:   "list [--all] [--as-of DATE]",
		Short: "List open requests with the days left or overdue",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			today := request.DateOf(g.now().Local())
			if asOf != "" {
				var err error
				if today, err = reqParseDay("request list: --as-of", asOf); err != nil {
					return err
				}
			}
			p, err := o.loadPresets(g)
			if err != nil {
				return err
			}
			return withRequestArchive(cmd.Context(), g, "request list", true, func(a *archive.Archive) error {
				rs, err := request.List(a)
				if err != nil {
					return err
				}
				type row struct {
					ID        string `json:"id"`
					Status    string `json:"status"`
					Requester string `json:"requester"`
					Received  string `json:"received"`
					Due       string `json:"due"`
					Law       string `json:"law,omitempty"`
					DaysLeft  *int   `json:"days_left,omitempty"`
					Overdue   bool   `json:"overdue"`
					Items     int    `json:"items"`
					Withheld  int    `json:"withheld"`
				}
				var rows []row
				for _, r := range rs {
					if r.Status == request.StatusClosed && !all {
						continue
					}
					x := row{ID: r.ID, Status: r.Status, Requester: r.Requester, Received: r.Received, Due: r.Due, Items: len(r.Items), Withheld: len(r.Withheld)}
					if r.Law != nil {
						x.Law = r.Law.ID
					}
					if r.Status == request.StatusOpen {
						n := r.DaysLeft(today)
						x.DaysLeft, x.Overdue = &n, n < 0
					}
					rows = append(rows, x)
				}
				if o.json {
					enc := json.NewEncoder(g.stdout)
					enc.SetEscapeHTML(false)
					for _, x := range rows {
						if err := enc.Encode(x); err != nil {
							return err
						}
					}
					return nil
				}
				tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "REQUEST\tSTATUS\tRECEIVED\tDUE\tDEADLINE\tITEMS\tREQUESTER")
				for _, x := range rows {
					r := findRequest(rs, x.ID)
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\n", x.ID, x.Status, x.Received, x.Due, dueText(r, today, p), x.Items, oneLine(x.Requester))
				}
				tw.Flush()
				fmt.Fprintf(g.stdout, "%d request(s) as of %s\n", len(rows), today.Format(request.DateLayout))
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&all, "all", false, "closed requests too")
	cmd.Flags().StringVar(&asOf, "as-of", "", "count the days left as of this day (default today)")
	cmd.Flags().BoolVar(&o.json, "json", false, "one JSON object per line")
	return cmd
}

func findRequest(rs []*request.Request, id string) *request.Request {
	for _, r := range rs {
		if r.ID == id {
			return r
		}
	}
	return nil
}

func newRequestShowCommand(g *globalOptions, o *requestOptions) *cobra.Command {
	var keys bool
	cmd := &cobra.Command{
		Use:   "show REQ",
		Short: "Show a request: dates, scope, items, withholdings, redactions, productions",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := o.loadPresets(g)
			if err != nil {
				return err
			}
			return withRequestArchive(cmd.Context(), g, "request show", true, func(a *archive.Archive) error {
				r, err := request.Get(a, args[0])
				if err != nil {
					return err
				}
				if o.json {
					if !keys {
						for i := range r.Searches {
							r.Searches[i].Keys = nil
						}
					}
					return reqJSON(g.stdout, r)
				}
				w := g.stdout
				ts := func(t time.Time) string { return t.UTC().Format(time.RFC3339) }
				fmt.Fprintf(w, "%s  (%s)\n", r.ID, r.Status)
				fmt.Fprintf(w, "  requester    %s\n  description  %s\n", r.Requester, oneLine(r.Description))
				fmt.Fprintf(w, "  received     %s\n  due          %s  %s\n", r.Received, r.Due, dueText(r, request.DateOf(g.now().Local()), p))
				if r.Law != nil {
					fmt.Fprintf(w, "  law          %s: %d %s days (%s)\n", r.Law.Name, r.Law.Days, r.Law.Count, r.Law.Citation)
				}
				fmt.Fprintf(w, "  opened       %s by %s\n", ts(r.OpenedAt), r.OpenedBy)
				if r.ClosedAt != nil {
					fmt.Fprintf(w, "  closed       %s by %s: %s\n", ts(*r.ClosedAt), r.ClosedBy, dash(r.CloseReason))
				}
				fmt.Fprintf(w, "\nScope: saved searches (%d)\n", len(r.Searches))
				for _, s := range r.Searches {
					fmt.Fprintf(w, "  %d. %q%s  %d hit(s), run %s by %s\n", s.N, s.Query, filterText(s.Filters), s.Hits, ts(s.RunAt), s.By)
				}
				fmt.Fprintf(w, "\nItems (%d)\n", len(r.Items))
				for _, it := range r.Items {
					from := "by hand"
					if it.Search > 0 {
						from = fmt.Sprintf("from search %d", it.Search)
					}
					var ex []string
					for _, wh := range r.WithheldUnder(it.Key) {
						ex = append(ex, wh.Exemption.Code)
					}
					mark := ""
					if len(ex) > 0 {
						mark = "  WITHHELD " + strings.Join(ex, ", ")
					}
					fmt.Fprintf(w, "  %s  (%s, %s)%s\n", it.Key, from, it.AddedBy, mark)
				}
				if len(r.Removed) > 0 {
					fmt.Fprintf(w, "\nRemoved (%d)\n", len(r.Removed))
					for _, x := range r.Removed {
						fmt.Fprintf(w, "  %s  %s by %s: %s\n", x.Key, ts(x.At), x.By, x.Reason)
					}
				}
				fmt.Fprintf(w, "\nWithheld (%d)\n", len(r.Withheld))
				for _, x := range r.Withheld {
					fmt.Fprintf(w, "  %s  %s (%s)  by %s: %s\n", x.Key, x.Exemption.Code, x.Exemption.Citation, x.By, x.Reason)
				}
				fmt.Fprintf(w, "\nRedactions (%d)\n", len(r.Redactions))
				for _, x := range r.Redactions {
					what := fmt.Sprintf("%q", x.Text)
					if x.Span != nil {
						what = fmt.Sprintf("span %d:%d of %s", x.Span[0], x.Span[1], x.Field)
					}
					where := x.Key
					if where == "" {
						where = "every item"
					}
					fmt.Fprintf(w, "  %d. %s %s in %s  by %s: %s\n", x.N, x.Action, what, where, x.By, x.Reason)
				}
				fmt.Fprintf(w, "\nProductions (%d)\n", len(r.Productions))
				for _, x := range r.Productions {
					fmt.Fprintf(w, "  %s  %s by %s: %d produced, %d withheld, %d thread, %d redaction(s); journal %d %.16s…\n",
						ts(x.At), x.Out, x.By, x.Produced, x.Withheld, x.ThreadItems, x.Redactions, x.JournalSeq, x.JournalHead)
				}
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&o.json, "json", false, "print the request as JSON")
	cmd.Flags().BoolVar(&keys, "keys", false, "with --json: include every saved search's hit keys")
	return cmd
}

func newRequestSearchCommand(g *globalOptions, o *requestOptions) *cobra.Command {
	var sel *Selection
	var show int
	cmd := &cobra.Command{
		Use:   "search REQ QUERY [filters]",
		Short: "Run a search and save it, with every hit, in the request's scope",
		Long: `request search runs a search as osmarc search does and saves it in the
request: the query, the filters, when it ran, who ran it, and every hit, so
the scope can be shown and its hits added later (request add REQ --search N).`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			req, err := sel.Request(args[1])
			if err != nil {
				return err
			}
			if req.Sort == index.SortRelevance {
				req.Sort = index.SortNewest // a saved scope lists every hit, in time order
			}
			filters := sel.Filters()
			return withRequestArchive(cmd.Context(), g, "request search", false, func(a *archive.Archive) error {
				if _, err := request.Get(a, args[0]); err != nil {
					return err
				}
				if err := holdScopes(g, a, &req, "request search"); err != nil {
					return err
				}
				ix, err := index.OpenReadOnly(filepath.Join(a.Dir(), index.DirName))
				if errors.Is(err, index.ErrNoIndex) {
					return fmt.Errorf("request search: %w in %s (run osmarc reindex)", err, a.Dir())
				}
				if err != nil {
					return err
				}
				defer ix.Close()
				withHolds(g, a, ix)
				var keys []string
				_, err = ix.SearchAll(cmd.Context(), req, func(h index.Hit) error {
					keys = append(keys, h.Key)
					return nil
				})
				if err != nil {
					return fmt.Errorf("request search: %w", err)
				}
				s, err := request.SaveSearch(cmd.Context(), a, args[0], request.Search{Query: args[1], Filters: filters, Keys: keys})
				if err != nil {
					return err
				}
				if o.json {
					return reqJSON(g.stdout, s)
				}
				fmt.Fprintf(g.stdout, "Saved search %d in %s: %q%s, %d hit(s).\n", s.N, args[0], s.Query, filterText(s.Filters), s.Hits)
				for i, k := range s.Keys {
					if i == show {
						fmt.Fprintf(g.stdout, "  … and %d more (osmarc request show %s --json --keys)\n", len(s.Keys)-show, args[0])
						break
					}
					fmt.Fprintf(g.stdout, "  %s\n", k)
				}
				fmt.Fprintf(g.stdout, "Add them with: osmarc request add %s --search %d\n", args[0], s.N)
				return nil
			})
		},
	}
	sel = newSelection(cmd, "request search", SelectionConfig{DefaultSort: string(index.SortNewest)})
	cmd.Flags().IntVar(&show, "show", 20, "how many hit keys to print")
	cmd.Flags().BoolVar(&o.json, "json", false, "print the saved search as JSON")
	return cmd
}

func newRequestAddCommand(g *globalOptions, o *requestOptions) *cobra.Command {
	var search int
	cmd := &cobra.Command{
		Use:   "add REQ (KEY... | --search N)",
		Short: "Add items to a request, by key or every hit of a saved search",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if search > 0 && len(args) > 1 {
				return errors.New("request add: give keys or --search N, not both")
			}
			return withRequestArchive(cmd.Context(), g, "request add", false, func(a *archive.Archive) error {
				var r *request.Request
				var n int
				var err error
				if search > 0 {
					r, n, err = request.AddSearch(cmd.Context(), a, args[0], search)
				} else {
					r, n, err = request.AddItems(cmd.Context(), a, args[0], args[1:])
				}
				if err != nil {
					return err
				}
				fmt.Fprintf(g.stdout, "Added %d item(s) to %s; it has %d.\n", n, r.ID, len(r.Items))
				return nil
			})
		},
	}
	cmd.Flags().IntVar(&search, "search", 0, "add every hit of saved search N")
	return cmd
}

func newRequestRemoveCommand(g *globalOptions, o *requestOptions) *cobra.Command {
	var reason string
	cmd := &cobra.Command{
		Use:   "remove REQ KEY... --reason R",
		Short: "Take items out of a request, with a reason",
		Args:  cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if strings.TrimSpace(reason) == "" {
				return errors.New("request remove: --reason is required")
			}
			return withRequestArchive(cmd.Context(), g, "request remove", false, func(a *archive.Archive) error {
				r, err := request.Get(a, args[0])
				if err != nil {
					return err
				}
				for _, k := range args[1:] {
					if !r.Has(k) {
						return fmt.Errorf("request remove: %s: %w %s (nothing was removed)", k, request.ErrNotInRequest, r.ID)
					}
				}
				for _, k := range args[1:] {
					if r, err = request.RemoveItem(cmd.Context(), a, args[0], k, reason); err != nil {
						return err
					}
				}
				fmt.Fprintf(g.stdout, "Removed %d item(s) from %s; it has %d.\n", len(args)-1, r.ID, len(r.Items))
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "", "why (required)")
	return cmd
}

func newRequestWithholdCommand(g *globalOptions, o *requestOptions) *cobra.Command {
	var code, reason string
	cmd := &cobra.Command{
		Use:   "withhold REQ KEY --exemption CODE --reason TEXT",
		Short: "Withhold an item under an exemption (see osmarc request exemptions)",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := o.loadPresets(g)
			if err != nil {
				return err
			}
			if code == "" {
				return errors.New("request withhold: --exemption is required")
			}
			if _, err := p.Exemption(code); err != nil {
				return fmt.Errorf("request withhold: %w", err)
			}
			return withRequestArchive(cmd.Context(), g, "request withhold", false, func(a *archive.Archive) error {
				r, err := request.Withhold(cmd.Context(), a, p, args[0], args[1], code, reason)
				if err != nil {
					return err
				}
				ws := r.WithheldUnder(args[1])
				fmt.Fprintf(g.stdout, "Withheld %s in %s under %s.\n", args[1], r.ID, ws[len(ws)-1].Exemption.Code)
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&code, "exemption", "", "the exemption code (required)")
	cmd.Flags().StringVar(&reason, "reason", "", "why it applies (required)")
	return cmd
}

func newRequestRedactCommand(g *globalOptions, o *requestOptions) *cobra.Command {
	var text, span, field, code, reason string
	cmd := &cobra.Command{
		Use:   "redact REQ KEY (--text TEXT | --span START:END [--field F]) --reason R",
		Short: "Mark text of an item to be redacted in productions (the archive never changes)",
		Long: `request redact marks text to be redacted in the request's productions: with
--text, every occurrence of the text (ignoring case) in every item produced;
with --span, characters START to END (END excluded) of one field of the item's
latest version. The archived item never changes.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := o.loadPresets(g)
			if err != nil {
				return err
			}
			rp := request.RedactParams{Key: args[1], Field: field, Text: text, Exemption: code, Reason: reason}
			if span != "" {
				if rp.Span, err = request.ParseSpan(span); err != nil {
					return fmt.Errorf("request redact: %w", err)
				}
			}
			return withRequestArchive(cmd.Context(), g, "request redact", false, func(a *archive.Archive) error {
				r, err := request.Redact(cmd.Context(), a, p, args[0], rp)
				if err != nil {
					return err
				}
				fmt.Fprintf(g.stdout, "Redaction %d recorded in %s.\n", len(r.Redactions), r.ID)
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&text, "text", "", "the text to redact wherever it occurs")
	cmd.Flags().StringVar(&span, "span", "", "START:END, character offsets in the field")
	cmd.Flags().StringVar(&field, "field", "", "the field: "+strings.Join(request.Fields, ", ")+" (default: any; text for --span)")
	cmd.Flags().StringVar(&code, "exemption", "", "the exemption the redaction rests on")
	cmd.Flags().StringVar(&reason, "reason", "", "why (required)")
	return cmd
}

func newRequestKeepCommand(g *globalOptions, o *requestOptions) *cobra.Command {
	var reason string
	cmd := &cobra.Command{
		Use:   "keep REQ TEXT --reason R",
		Short: "Keep text the detector flags (an office's public phone number) unredacted",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withRequestArchive(cmd.Context(), g, "request keep", false, func(a *archive.Archive) error {
				r, err := request.Keep(cmd.Context(), a, args[0], args[1], reason, "")
				if err != nil {
					return err
				}
				fmt.Fprintf(g.stdout, "Decision %d recorded in %s: %q is kept.\n", len(r.Redactions), r.ID, args[1])
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "", "why it is not personal information (required)")
	return cmd
}

func newRequestPIICommand(g *globalOptions, o *requestOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "pii REQ",
		Short: "List the personal information the detector flags in a request's items",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withRequestArchive(cmd.Context(), g, "request pii", true, func(a *archive.Archive) error {
				r, err := request.Get(a, args[0])
				if err != nil {
					return err
				}
				type finding struct {
					Key   string   `json:"key"`
					Field string   `json:"field"`
					Kind  pii.Kind `json:"kind"`
					Text  string   `json:"text"`
				}
				var out []finding
				for _, ref := range r.Items {
					fs, err := request.Flag(cmd.Context(), a, ref.Key)
					if err != nil {
						return err
					}
					for _, f := range fs {
						out = append(out, finding{ref.Key, f.Field, f.Kind, f.Text})
					}
				}
				if o.json {
					if out == nil {
						out = []finding{}
					}
					return reqJSON(g.stdout, out)
				}
				tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ITEM\tFIELD\tKIND\tTEXT")
				for _, f := range out {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", f.Key, f.Field, f.Kind, oneLine(f.Text))
				}
				tw.Flush()
				fmt.Fprintf(g.stdout, "%d finding(s) in %d item(s); a production redacts them unless kept (osmarc request keep).\n", len(out), len(r.Items))
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&o.json, "json", false, "print the findings as JSON")
	return cmd
}

func newRequestProduceCommand(g *globalOptions, o *requestOptions) *cobra.Command {
	var out string
	var threads, noDetect bool
	cmd := &cobra.Command{
		Use:   "produce REQ --out DIR [--threads] [--no-detect]",
		Short: "Write the production as a BagIt bag: redacted items, withholding and redaction logs, summary",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				return errors.New("request produce: --out DIR is required")
			}
			abs, err := filepath.Abs(out)
			if err != nil {
				return err
			}
			if _, err := os.Lstat(abs); err == nil {
				return fmt.Errorf("request produce: %s already exists (osmarc never writes into an existing directory)", abs)
			}
			return withRequestArchive(cmd.Context(), g, "request produce", false, func(a *archive.Archive) error {
				if _, err := request.Get(a, args[0]); err != nil {
					return err
				}
				// The production is an export bag (export/bagit): the items
				// redacted, their thread pages, index.csv, chain of custody
				// and viewer, and request.Produce's files.
				sum, res, err := produceRequest(cmd.Context(), g, a, args[0], abs, threads, noDetect)
				if err != nil {
					return err
				}
				if _, err := request.RecordProduction(cmd.Context(), a, args[0], sum, abs, res.PayloadOxum, res.SHA256); err != nil {
					return fmt.Errorf("request produce: the bag is complete in %s, but recording it failed: %w", abs, err)
				}
				if o.json {
					return reqJSON(g.stdout, map[string]any{"summary": sum, "bag": res})
				}
				c := sum.Counts
				fmt.Fprintf(g.stdout, "Produced %s in %s: %d item(s) (%d in threads), %d withheld, %d redaction(s) in %d item(s); journal head %d %s.\n",
					sum.Request.ID, abs, c.Produced, c.ThreadItems, c.Withheld, c.Redactions, c.RedactedItems, sum.JournalHead.Seq, sum.JournalHead.Hash)
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "the new directory for the bag (required; must not exist)")
	cmd.Flags().BoolVar(&threads, "threads", false, "add the other items of each responsive item's thread")
	cmd.Flags().BoolVar(&noDetect, "no-detect", false, "redact only what people marked, not what the detector finds")
	cmd.Flags().BoolVar(&o.json, "json", false, "print the summary as JSON")
	return cmd
}

func newRequestCloseCommand(g *globalOptions, o *requestOptions) *cobra.Command {
	var reason string
	cmd := &cobra.Command{
		Use:   "close REQ [--reason R]",
		Short: "Close a request (its date can start a retention cutoff)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withRequestArchive(cmd.Context(), g, "request close", false, func(a *archive.Archive) error {
				r, err := request.Close(cmd.Context(), a, args[0], reason)
				if err != nil {
					return err
				}
				fmt.Fprintf(g.stdout, "Closed %s.\n", r.ID)
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "", "why (answered, withdrawn, …)")
	return cmd
}

func newRequestLawsCommand(g *globalOptions, o *requestOptions) *cobra.Command {
	var year int
	cmd := &cobra.Command{
		Use:   "laws [--holidays YEAR]",
		Short: "List the laws --law takes, and their calendars' holidays",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := o.loadPresets(g)
			if err != nil {
				return err
			}
			if o.json {
				return reqJSON(g.stdout, p.Laws)
			}
			tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "LAW\tALIASES\tTIME\tCALENDAR\tCITATION")
			for _, l := range p.Laws {
				t := fmt.Sprintf("%d %s days", l.Days, l.Count)
				if l.Target {
					t = "target " + t
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", l.ID, dash(strings.Join(l.Aliases, ", ")), t, dash(l.Calendar), l.Citation)
			}
			tw.Flush()
			if year > 0 {
				for _, c := range p.Calendars {
					fmt.Fprintf(g.stdout, "\n%s (%s), %d\n", c.ID, c.Name, year)
					for _, h := range c.Holidays(year) {
						fmt.Fprintf(g.stdout, "  %s %-9s %s\n", h.Date.Format(request.DateLayout), h.Date.Weekday(), h.Name)
					}
				}
			}
			return nil
		},
	}
	cmd.Flags().IntVar(&year, "holidays", 0, "also list each calendar's holidays in this year")
	cmd.Flags().BoolVar(&o.json, "json", false, "print the laws as JSON")
	return cmd
}

func newRequestExemptionsCommand(g *globalOptions, o *requestOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "exemptions",
		Short: "List the exemption codes withhold and redact take",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := o.loadPresets(g)
			if err != nil {
				return err
			}
			if o.json {
				return reqJSON(g.stdout, p.Exemptions)
			}
			tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "CODE\tCATEGORY\tJURISDICTION\tTITLE")
			for _, e := range p.Exemptions {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", e.Code, e.Category, e.Jurisdiction, e.Title)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&o.json, "json", false, "print the codes as JSON")
	return cmd
}
