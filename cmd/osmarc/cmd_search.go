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
	sel  *Selection
	all  bool
	json bool
}

func newSearchCommand(g *globalOptions) *cobra.Command {
	o := searchOptions{}
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
	o.sel = newSelection(cmd, "search", SelectionConfig{Paging: true})
	f := cmd.Flags()
	f.BoolVar(&o.all, "all", false, "stream every hit, not one page")
	f.BoolVar(&o.json, "json", false, "print JSON: one object, or with --all one object per hit and a summary")
	return cmd
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
	req, err := o.sel.Request(query)
	if err != nil {
		return err
	}
	req.Facets = true
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
