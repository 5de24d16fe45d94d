package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/osmarc/osmarc/index"
)

// Selection is the one set of flags that chooses items from the search
// index, shared by every command that selects items (osmarc search,
// osmarc request search, osmarc export), so they take the same flags, check
// them the same way and word their errors alike:
//
//	--account A --platform P --kind K --lang L --class C --exemption E
//	--hold H (each repeatable: any of the values), --from DATE --to DATE,
//	--removed, --edited, --sort relevance|newest|oldest, and with
//	SelectionConfig.Paging --limit N --offset N; with
//	SelectionConfig.QueryFlag also --query Q.
//
// Use it in three steps:
//
//	sel := newSelection(cmd, "export", SelectionConfig{QueryFlag: true, DefaultSort: "newest"})
//	...
//	req, err := sel.Request(query) // in RunE: validated index.Request
//	filters := sel.Filters()       // what the user set, for the journal
//
// Request checks everything before any archive is opened: a bad date, an
// unknown sort, --from after --to, a limit out of range, a malformed query
// (one line saying what and at which column). Errors begin with the
// command's name and name the flag ("search: --from: \"2024-13\" is not a
// date …"). The fields hold the flags' values after parsing; callers read
// them but should build the search with Request.
type Selection struct {
	Query                             string
	Accounts, Platforms, Kinds, Langs []string
	Classes, Exemptions, Holds        []string
	From, To                          string
	Removed, Edited                   bool
	Sort                              string
	Limit, Offset                     int
	command                           string
	cfg                               SelectionConfig
	cmd                               *cobra.Command
	registered                        []string
}

// SelectionConfig says which of the optional selection flags a command
// takes.
type SelectionConfig struct {
	// DefaultSort is --sort's default: "relevance" (best first, for a
	// page of hits) when empty; "newest" or "oldest" for commands that
	// take every hit in time order.
	DefaultSort string
	// Paging registers --limit (1 to index.MaxLimit, default
	// index.DefaultLimit) and --offset.
	Paging bool
	// QueryFlag registers --query Q, for commands whose arguments are
	// something else (export). Request takes the query from the argument
	// it is given or from --query, never both.
	QueryFlag bool
}

// selectionFlags are the flags Filters reports, in its order.
var selectionFlags = []string{"query", "account", "platform", "kind", "lang", "class", "exemption", "hold", "from", "to", "removed", "edited", "sort", "limit", "offset"}

// newSelection registers the selection flags on cmd; command is the name
// errors begin with ("search", "request search", "export").
func newSelection(cmd *cobra.Command, command string, cfg SelectionConfig) *Selection {
	s := &Selection{command: command, cfg: cfg, cmd: cmd}
	if cfg.DefaultSort == "" {
		cfg.DefaultSort = string(index.SortRelevance)
		s.cfg = cfg
	}
	f := cmd.Flags()
	if cfg.QueryFlag {
		f.StringVar(&s.Query, "query", "", "the search query (bleve query-string syntax; see osmarc search --help)")
	}
	f.StringArrayVar(&s.Accounts, "account", nil, "only this account (repeat for any of several)")
	f.StringArrayVar(&s.Platforms, "platform", nil, "only this platform (repeatable)")
	f.StringArrayVar(&s.Kinds, "kind", nil, "only this kind: post, comment, reply, … (repeatable)")
	f.StringVar(&s.From, "from", "", "created on or after DATE (a year, month, day or RFC 3339 time)")
	f.StringVar(&s.To, "to", "", "created on or before DATE (the whole day, month or year)")
	f.BoolVar(&s.Removed, "removed", false, "only items removed at their source")
	f.BoolVar(&s.Edited, "edited", false, "only items edited (more than one version)")
	f.StringArrayVar(&s.Classes, "class", nil, "only this classification: record, secondary-copy, transitory, non-record, unclassified (repeatable)")
	f.StringArrayVar(&s.Exemptions, "exemption", nil, "only items with this exemption code (repeatable)")
	f.StringArrayVar(&s.Holds, "hold", nil, "only items under this hold (repeatable)")
	f.StringArrayVar(&s.Langs, "lang", nil, "only this language; fr matches fr-ca too (repeatable)")
	f.StringVar(&s.Sort, "sort", cfg.DefaultSort, "order: relevance, newest or oldest")
	if cfg.Paging {
		f.IntVar(&s.Limit, "limit", index.DefaultLimit, "hits per page")
		f.IntVar(&s.Offset, "offset", 0, "hits to skip")
	}
	for _, name := range selectionFlags {
		if f.Lookup(name) != nil {
			s.registered = append(s.registered, name)
		}
	}
	return s
}

// Request checks the flags and query and builds the search. query is the
// command's query argument ("" for none: every item, or --query's).
func (s *Selection) Request(query string) (index.Request, error) {
	if s.cfg.QueryFlag && s.Query != "" {
		if query != "" {
			return index.Request{}, fmt.Errorf("%s: give the query as an argument or with --query, not both", s.command)
		}
		query = s.Query
	}
	req := index.Request{Query: query, Accounts: s.Accounts, Platforms: s.Platforms, Kinds: s.Kinds, Langs: s.Langs,
		Classes: s.Classes, Exemptions: s.Exemptions, Holds: s.Holds, Removed: s.Removed, Edited: s.Edited,
		Limit: s.Limit, Offset: s.Offset}
	var err error
	if req.Sort, err = index.ParseSort(s.Sort); err != nil {
		return req, fmt.Errorf("%s: --sort: %w", s.command, err)
	}
	if s.From != "" {
		if req.From, _, err = index.ParseDate(s.From); err != nil {
			return req, fmt.Errorf("%s: --from: %w", s.command, err)
		}
	}
	if s.To != "" {
		if _, req.To, err = index.ParseDate(s.To); err != nil {
			return req, fmt.Errorf("%s: --to: %w", s.command, err)
		}
	}
	if !req.From.IsZero() && !req.To.IsZero() && !req.From.Before(req.To) {
		return req, fmt.Errorf("%s: --from %s is after --to %s", s.command, s.From, s.To)
	}
	if s.cfg.Paging {
		if s.Limit < 1 || s.Limit > index.MaxLimit {
			return req, fmt.Errorf("%s: --limit must be from 1 to %d (--all streams every hit)", s.command, index.MaxLimit)
		}
		if s.Offset < 0 {
			return req, fmt.Errorf("%s: --offset must not be negative", s.command)
		}
	}
	// hold:NAME in the query keeps what the hold's scope covers, as
	// --hold does (the index resolves it: web.HoldScope).
	if _, err := index.Clauses(query); err != nil {
		return req, fmt.Errorf("%s: %w", s.command, err)
	}
	return req, nil
}

// Filters are the selection flags the user set (the query excepted), as
// typed: a repeated flag's values joined with ",". It is what a journal
// event or a request's saved scope records of the selection.
func (s *Selection) Filters() map[string]string {
	out := map[string]string{}
	f := s.cmd.Flags()
	for _, name := range s.registered {
		fl := f.Lookup(name)
		if name == "query" || !fl.Changed {
			continue
		}
		v := fl.Value.String()
		if sv, ok := fl.Value.(interface{ GetSlice() []string }); ok {
			v = strings.Join(sv.GetSlice(), ",")
		}
		out[name] = v
	}
	return out
}

// filterText is Filters as flags, in a stable order (" --account a --from
// 2024"), for messages.
func filterText(f map[string]string) string {
	keys := make([]string, 0, len(f))
	for k := range f {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int {
		return slices.Index(selectionFlags, a) - slices.Index(selectionFlags, b)
	})
	var b strings.Builder
	for _, k := range keys {
		switch v := f[k]; {
		case v == "true" && (k == "removed" || k == "edited"):
			fmt.Fprintf(&b, " --%s", k)
		default:
			fmt.Fprintf(&b, " --%s %s", k, v)
		}
	}
	return b.String()
}

// Empty reports whether neither a query nor any filter narrows the
// selection (the whole archive).
func (s *Selection) Empty(query string) bool {
	if strings.TrimSpace(query) != "" || strings.TrimSpace(s.Query) != "" {
		return false
	}
	for k := range s.Filters() {
		if k != "sort" && k != "limit" && k != "offset" {
			return false
		}
	}
	return true
}
