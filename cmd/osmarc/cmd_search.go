package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/osmarc/osmarc/index"
)

type searchOptions struct {
	accounts, platforms, kinds, langs []string
	classes, exemptions, holds        []string
	from, to                          string
	removed, edited                   bool
	sort                              string
	limit, offset                     int
	all                               bool
	json                              bool
}

func newSearchCommand(g *globalOptions) *cobra.Command {
	var o searchOptions
	cmd := &cobra.Command{
		Use:   "search [QUERY]",
		Short: "Find archived items: words, phrases, fields, dates",
		Long: `search finds items in the search index. QUERY uses bleve's query-string
syntax: words (any of them), "a phrase", +required, -excluded, field:value
(account: platform: kind: author: text: history: hashtag: mention: link:
lang: class: exemption: hold: removed: edited: created: year: parent: key:),
wildcards (clos*), /regular expressions/, word~1 (fuzzy), created:>=DATE.
Quote the whole query for the shell:

  osmarc search '+parade +"road closure" -cancelled' --account 3rd-brigade

Filters narrow the hits; a filter given twice matches either value. Dates
are a year, a month, a day or an RFC 3339 time: --to 2024-03 includes all
of March. --all streams every hit, newest first (or oldest first with
--sort oldest), however many there are.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSearch(cmd.Context(), g, o, strings.Join(args, " "))
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&o.accounts, "account", nil, "only this account (repeat for any of several)")
	f.StringArrayVar(&o.platforms, "platform", nil, "only this platform")
	f.StringArrayVar(&o.kinds, "kind", nil, "only this kind (post, comment, reply, …)")
	f.StringVar(&o.from, "from", "", "created on or after DATE")
	f.StringVar(&o.to, "to", "", "created on or before DATE (the whole day, month or year)")
	f.BoolVar(&o.removed, "removed", false, "only items removed at their source")
	f.BoolVar(&o.edited, "edited", false, "only items edited (more than one version)")
	f.StringArrayVar(&o.classes, "class", nil, "only this classification (record, secondary-copy, transitory, non-record, unclassified)")
	f.StringArrayVar(&o.exemptions, "exemption", nil, "only items with this exemption code")
	f.StringArrayVar(&o.holds, "hold", nil, "only items under this hold")
	f.StringArrayVar(&o.langs, "lang", nil, "only this language (fr matches fr-ca too)")
	f.StringVar(&o.sort, "sort", "relevance", "order: relevance, newest or oldest")
	f.IntVar(&o.limit, "limit", index.DefaultLimit, "hits per page")
	f.IntVar(&o.offset, "offset", 0, "hits to skip")
	f.BoolVar(&o.all, "all", false, "stream every hit, not one page")
	f.BoolVar(&o.json, "json", false, "print JSON: one object, or with --all one object per hit and a summary")
	return cmd
}

// request builds the index request from the flags.
func (o searchOptions) request(query string) (index.Request, error) {
	req := index.Request{Query: query, Accounts: o.accounts, Platforms: o.platforms, Kinds: o.kinds, Langs: o.langs,
		Classes: o.classes, Exemptions: o.exemptions, Holds: o.holds, Removed: o.removed, Edited: o.edited,
		Limit: o.limit, Offset: o.offset, Facets: true}
	var err error
	if req.Sort, err = index.ParseSort(o.sort); err != nil {
		return req, fmt.Errorf("search: --sort: %w", err)
	}
	if o.from != "" {
		if req.From, _, err = index.ParseDate(o.from); err != nil {
			return req, fmt.Errorf("search: --from: %w", err)
		}
	}
	if o.to != "" {
		if _, req.To, err = index.ParseDate(o.to); err != nil {
			return req, fmt.Errorf("search: --to: %w", err)
		}
	}
	if !req.From.IsZero() && !req.To.IsZero() && !req.From.Before(req.To) {
		return req, fmt.Errorf("search: --from %s is after --to %s", o.from, o.to)
	}
	if o.limit < 1 || o.limit > index.MaxLimit {
		return req, fmt.Errorf("search: --limit must be from 1 to %d (--all streams every hit)", index.MaxLimit)
	}
	if o.offset < 0 {
		return req, errors.New("search: --offset must not be negative")
	}
	return req, nil
}

// searchResult is the JSON of one page.
type searchResult struct {
	Query  string                        `json:"query"`
	Sort   index.Sort                    `json:"sort"`
	Offset int                           `json:"offset"`
	Limit  int                           `json:"limit"`
	Total  uint64                        `json:"total"`
	Hits   []index.Hit                   `json:"hits"`
	Facets map[string][]index.FacetCount `json:"facets"`
}

func runSearch(ctx context.Context, g *globalOptions, o searchOptions, query string) error {
	req, err := o.request(query)
	if err != nil {
		return err
	}
	if err := index.ParseQuery(query); err != nil {
		return fmt.Errorf("search: %w", err)
	}
	a, err := g.open(ctx, "search", true)
	if err != nil {
		return err
	}
	defer a.Close()
	ix, err := index.OpenReadOnly(filepath.Join(a.Dir(), index.DirName))
	if errors.Is(err, index.ErrNoIndex) {
		return fmt.Errorf("search: %s has no search index yet: run osmarc reindex", a.Dir())
	}
	if err != nil {
		return err
	}
	defer ix.Close()
	// The index is derived: say so when it is behind the catalog.
	if s, err := a.Stats(); err == nil {
		if n, err := ix.Count(); err == nil && int64(n) != s.Items {
			fmt.Fprintf(g.stderr, "osmarc: the search index holds %d item(s), the catalog %d: run osmarc reindex\n", n, s.Items)
		}
	}
	out := bufio.NewWriter(g.stdout)
	defer out.Flush()
	if o.all {
		return searchAll(ctx, ix, req, o, out)
	}
	res, err := ix.Search(ctx, req)
	if err != nil {
		return fmt.Errorf("search: %w", err)
	}
	if o.json {
		enc := json.NewEncoder(out)
		enc.SetEscapeHTML(false)
		return enc.Encode(searchResult{Query: query, Sort: req.Sort, Offset: req.Offset, Limit: req.Limit, Total: res.Total, Hits: res.Hits, Facets: res.Facets})
	}
	switch {
	case res.Total == 0:
		fmt.Fprintln(out, "No items found.")
		return nil
	case len(res.Hits) == 0:
		fmt.Fprintf(out, "%d item(s) found; none after --offset %d.\n", res.Total, req.Offset)
	default:
		fmt.Fprintf(out, "%d item(s) found (%s); %d–%d shown.\n\n", res.Total, sortName(req.Sort), req.Offset+1, req.Offset+len(res.Hits))
	}
	for _, h := range res.Hits {
		printHit(out, h)
	}
	printFacets(out, res.Facets)
	if shown := uint64(req.Offset + len(res.Hits)); len(res.Hits) > 0 && res.Total > shown {
		fmt.Fprintf(out, "\n%d more: --offset %d, or --all for every hit.\n", res.Total-shown, shown)
	}
	return nil
}

func sortName(s index.Sort) string {
	switch s {
	case index.SortNewest:
		return "newest first"
	case index.SortOldest:
		return "oldest first"
	}
	return "best matches first"
}

// searchAll streams every hit: lines of text, or one JSON object per hit
// and a last object, the only one without a key, with the total and the
// facets.
func searchAll(ctx context.Context, ix *index.Index, req index.Request, o searchOptions, out *bufio.Writer) error {
	if req.Sort == index.SortRelevance {
		req.Sort = index.SortNewest
	}
	// Facets first, from a one-hit page; the data directory's lock keeps
	// writers away, so the stream sees the same index.
	head := req
	head.Limit, head.Offset = 1, 0
	first, err := ix.Search(ctx, head)
	if err != nil {
		return fmt.Errorf("search: %w", err)
	}
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	if !o.json {
		fmt.Fprintf(out, "%d item(s) found (%s).\n\n", first.Total, sortName(req.Sort))
	}
	n, err := ix.SearchAll(ctx, req, func(h index.Hit) error {
		if o.json {
			return enc.Encode(h)
		}
		printHit(out, h)
		return nil
	})
	if err != nil {
		return fmt.Errorf("search: %w", err)
	}
	if o.json {
		return enc.Encode(struct {
			Query  string                        `json:"query"`
			Sort   index.Sort                    `json:"sort"`
			Total  uint64                        `json:"total"`
			Facets map[string][]index.FacetCount `json:"facets"`
		}{req.Query, req.Sort, n, first.Facets})
	}
	printFacets(out, first.Facets)
	return nil
}

func printHit(w io.Writer, h index.Hit) {
	var notes []string
	if h.ParentKey != "" {
		notes = append(notes, "on "+h.ParentKey)
	}
	if h.Edited {
		notes = append(notes, "edited")
	}
	if h.Removed {
		notes = append(notes, "removed at source")
	}
	if h.Class != "" && h.Class != index.Unclassified {
		notes = append(notes, h.Class)
	}
	extra := ""
	if len(notes) > 0 {
		extra = "  (" + strings.Join(notes, ", ") + ")"
	}
	fmt.Fprintf(w, "%s  %-8s %s%s\n", h.CreatedAt.UTC().Format(time.RFC3339), h.Kind, h.Key, extra)
	if h.Author != "" {
		fmt.Fprintf(w, "    by %s\n", h.Author)
	}
	snip := h.Marked("«", "»")
	if h.SnippetFrom == "history" {
		snip = "earlier version: " + snip
	}
	if snip != "" {
		fmt.Fprintf(w, "    %s\n", snip)
	}
}

func printFacets(w io.Writer, facets map[string][]index.FacetCount) {
	if len(facets) == 0 {
		return
	}
	fmt.Fprintln(w, "\nBy facet:")
	for _, name := range index.FacetNames {
		var parts []string
		for _, fc := range facets[name] {
			parts = append(parts, fmt.Sprintf("%s %d", fc.Value, fc.Count))
		}
		if len(parts) > 0 {
			fmt.Fprintf(w, "  %-9s %s\n", name, strings.Join(parts, " · "))
		}
	}
}
