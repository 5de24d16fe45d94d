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

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/request"
	"github.com/osmarc/osmarc/archive/retention"
	"github.com/osmarc/osmarc/cmd/osmarc/web"
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
--sort oldest), however many there are.

Every search is recorded in the archive's journal before its hits are
shown (a search.run event: who, when, the query, the filters and the
number of hits; see osmarc audit list --type search.run), so search opens
the archive as its writer. It waits a few seconds for another command to
finish; while osmarc daemon or osmarc serve holds the archive, it refuses
(search in osmarc serve's pages, which record each search too).`,
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
	a, err := openForSearch(ctx, g)
	if err != nil {
		return err
	}
	defer a.Close()
	if err := holdScopes(g, a, &req, "search"); err != nil {
		return err
	}
	ix, err := index.OpenReadOnly(filepath.Join(a.Dir(), index.DirName))
	if errors.Is(err, index.ErrNoIndex) {
		return fmt.Errorf("search: %s has no search index yet: run osmarc reindex", a.Dir())
	}
	if err != nil {
		return err
	}
	defer ix.Close()
	withHolds(g, a, ix)
	// The index is derived: say so when it is behind the catalog.
	if s, err := a.Stats(); err == nil {
		if n, err := ix.Count(); err == nil && int64(n) != s.Items {
			fmt.Fprintf(g.stderr, "osmarc: the search index holds %d item(s), the catalog %d: run osmarc reindex\n", n, s.Items)
		}
	}
	// Searches for records are records: each run is a search.run event
	// (who, when, the query, the filters, how many hits), written before
	// any hit is shown, so no search leaves no trace.
	logRun := func(total uint64) error {
		filters := o.sel.Filters()
		if o.all {
			filters["all"] = "true"
		}
		if _, err := request.LogSearch(ctx, a, g.requestActor(), query, filters, int(total)); err != nil {
			return fmt.Errorf("search: recording the search in the journal: %w (nothing was shown)", err)
		}
		return nil
	}
	out := bufio.NewWriter(g.stdout)
	defer out.Flush()
	if o.all {
		return searchAll(ctx, ix, req, o, out, logRun)
	}
	res, err := ix.Search(ctx, req)
	if err != nil {
		return fmt.Errorf("search: %w", err)
	}
	if err := logRun(res.Total); err != nil {
		return err
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

// holdScopes turns --hold names into the holds' scopes (accounts, dates,
// query): what a hold keeps is given by its scope, now and as items are
// captured later. A released hold keeps nothing any more; its scope is
// still searched, and stderr says so.
func holdScopes(g *globalOptions, a *archive.Archive, req *index.Request, command string) error {
	if len(req.Holds) == 0 {
		return nil
	}
	r := retention.New(a, g.now)
	for _, name := range req.Holds {
		h, err := r.Hold(strings.TrimSpace(name))
		if err != nil {
			return fmt.Errorf("%s: --hold: %w", command, err)
		}
		if h.Status != retention.HoldActive && h.ReleasedAt != nil {
			fmt.Fprintf(g.stderr, "osmarc: hold %s was released on %s; searching what its scope covers\n", h.Name, h.ReleasedAt.UTC().Format(time.DateOnly))
		}
		req.Within = append(req.Within, web.ScopeOf(h))
	}
	req.Holds = nil
	return nil
}

// withHolds makes ix resolve the archive's holds (web.HoldScope).
func withHolds(g *globalOptions, a *archive.Archive, ix *index.Index) *index.Index {
	ix.SetHoldScope(web.HoldScope(retention.New(a, g.now)))
	return ix
}

// searchLockWait is how long search waits for another command that holds
// the archive (most often another search) before it gives up.
const searchLockWait = 3 * time.Second

// openForSearch opens the archive as its writer: a search writes its
// search.run event to the journal. A search takes milliseconds, so when
// another command holds the archive it waits a few seconds for it. A
// long-running holder (osmarc daemon, osmarc serve) keeps it: searching
// past it unrecorded would break the rule that every search is a record,
// so the error says so; osmarc serve's own search records each run.
func openForSearch(ctx context.Context, g *globalOptions) (*archive.Archive, error) {
	deadline := time.Now().Add(searchLockWait)
	for {
		a, err := g.open(ctx, "search", false)
		if err == nil || !errors.Is(err, archive.ErrLocked) {
			return a, err
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("search: %w; every search is recorded in the journal, which only the process holding the archive may write: search through osmarc serve while it runs, or when the other command is done", err)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
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
func searchAll(ctx context.Context, ix *index.Index, req index.Request, o searchOptions, out *bufio.Writer, logRun func(uint64) error) error {
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
	if err := logRun(first.Total); err != nil {
		return err
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
	if h.ParentText != "" || h.ParentAuthor != "" {
		by := ""
		if h.ParentAuthor != "" {
			by = " " + h.ParentAuthor
		}
		fmt.Fprintf(w, "    in reply to%s: “%s”\n", by, h.ParentText)
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
