package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/catalog"
	"github.com/osmarc/osmarc/archive/request"
	"github.com/osmarc/osmarc/archive/retention"
	"github.com/osmarc/osmarc/cmd/osmarc/web"
	"github.com/osmarc/osmarc/export"
	bagitexport "github.com/osmarc/osmarc/export/bagit"
	"github.com/osmarc/osmarc/index"
)

// recordsFor is records management over an open archive, wired to the
// search index when the data directory has one: the index evaluates
// classification rules and the queries of legal holds, and (for a writer)
// is told of every change of classification. close closes the index.
func recordsFor(g *globalOptions, a *archive.Archive, readOnly bool) (r *retention.Records, closeIndex func(), err error) {
	r = newRecords(g, a)
	closeIndex = func() {}
	dir := filepath.Join(a.Dir(), index.DirName)
	var ix *index.Index
	if readOnly {
		ix, err = index.OpenReadOnly(dir)
		if errors.Is(err, index.ErrNoIndex) {
			return r, closeIndex, nil
		}
	} else {
		if _, serr := os.Stat(dir); serr != nil {
			return r, closeIndex, nil // no index yet: rules say so when they need one
		}
		ix, err = index.Open(dir)
	}
	if err != nil {
		return nil, nil, err
	}
	ix.SetHoldScope(web.HoldScope(r))
	r.Matcher = ix
	closeIndex = func() { ix.Close() }
	if !readOnly {
		unwire := wireRecords(a, r, ix)
		closeIndex = func() {
			unwire()
			ix.Close()
		}
	}
	return r, closeIndex, nil
}

// newRecords is records management over a as the commands and the web
// application use it: g's clock and actor, rules read with the index's
// query parser, transfers written as bags in the data directory.
func newRecords(g *globalOptions, a *archive.Archive) *retention.Records {
	r := retention.New(a, g.now)
	r.Actor = g.who()
	r.ParseQuery = indexClauses
	r.Transfer = bagTransfer(a, g, "")
	r.Presets = func() (*request.Presets, error) { return request.LoadPresets(orgPresetFiles(g)...) }
	return r
}

// wireRecords makes the search index ix, opened for writing, serve
// records management r as a writer needs it: ix evaluates the rules and
// the queries of holds, fills each document's class, schedule and
// exemptions from r's classification and is told of every change of it,
// and is the archive's indexer, so captures classify what they index and
// destroyed items leave it. The func it returns undoes the wiring (before
// ix is closed).
func wireRecords(a *archive.Archive, r *retention.Records, ix *index.Index) (unwire func()) {
	r.Matcher = ix
	ix.SetHoldScope(web.HoldScope(r))
	ix.SetVersionReader(a)
	a.SetIndexer(&classifyingIndexer{ix: ix, l: annotateWith(ix, r)})
	r.OnReclassify = func(ctx context.Context, keys []string) error { return reannotate(ctx, a, ix, keys) }
	return func() { a.SetIndexer(nil) }
}

// indexClauses is index.Clauses as retention reads them.
func indexClauses(q string) ([]retention.Clause, error) {
	cs, err := index.Clauses(q)
	if err != nil {
		return nil, err
	}
	out := make([]retention.Clause, len(cs))
	for i, c := range cs {
		out[i] = retention.Clause{Text: c.Text, Field: c.Field, Required: c.Required, Excluded: c.Excluded}
	}
	return out, nil
}

// liveClassification is the classification a command's index fills
// documents from, shared by the annotator and the capture indexer so that
// what the indexer learns of a batch is what the annotator writes. When
// the rules cannot be evaluated over the whole archive (the index is being
// built, or does not hold every item yet) it starts from the people's
// decisions, and the indexer runs the rules over each batch it indexes;
// refreshClassification puts a reindex right afterwards.
type liveClassification struct {
	r   *retention.Records
	mu  sync.Mutex
	cl  *retention.Classifier
	gen int
}

func (l *liveClassification) get(ctx context.Context) (*retention.Classifier, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.cl == nil || l.gen != l.r.ClassificationGeneration() {
		l.gen = l.r.ClassificationGeneration()
		c, err := l.r.Classifier(ctx)
		if err != nil {
			if c, err = l.r.PartialClassifier(ctx); err != nil {
				return nil, err
			}
		}
		l.cl = c
	}
	return l.cl, nil
}

// annotateWith makes the index fill each document's class, schedule and
// exemptions from records management.
func annotateWith(ix *index.Index, r *retention.Records) *liveClassification {
	l := &liveClassification{r: r}
	ix.SetAnnotator(func(ctx context.Context, d *index.Doc) error {
		cl, err := l.get(ctx)
		if err != nil {
			return err
		}
		a := cl.Resolved(d.Platform, d.Account, d.Key)
		d.Class, d.Schedule, d.Exemptions = a.Class, a.Schedule, a.Exemptions
		return nil
	})
	return l
}

// reannotate re-indexes some items so their records-management fields
// follow a change of classification.
func reannotate(ctx context.Context, a *archive.Archive, ix *index.Index, keys []string) error {
	var batch []archive.IndexUpdate
	for _, k := range keys {
		it, err := a.Catalog().Item(k)
		if err != nil {
			continue // destroyed since
		}
		batch = append(batch, archive.IndexUpdate{Item: it})
		if len(batch) == archive.IndexBatch {
			if err := ix.Update(ctx, batch); err != nil {
				return err
			}
			batch = batch[:0]
		}
	}
	if len(batch) == 0 {
		return nil
	}
	return ix.Update(ctx, batch)
}

// classifyingIndexer is the index as the archive's indexer: after each
// batch a capture indexes, the rules are run over its items, and those a
// rule classifies otherwise than the annotator did are indexed again. l
// is the liveClassification annotateWith installed on ix.
type classifyingIndexer struct {
	ix *index.Index
	l  *liveClassification
}

func (c *classifyingIndexer) Update(ctx context.Context, batch []archive.IndexUpdate) error {
	if err := c.UpdateNoSync(ctx, batch); err != nil {
		return err
	}
	return c.ix.Sync(ctx)
}

// Sync waits until every batch given to the index is durable.
func (c *classifyingIndexer) Sync(ctx context.Context) error { return c.ix.Sync(ctx) }

// UpdateNoSync indexes the batch and classifies it (archive.IndexSyncer):
// the rules are evaluated on the index, which holds the batch as soon as
// bleve takes it, durable or not.
func (c *classifyingIndexer) UpdateNoSync(ctx context.Context, batch []archive.IndexUpdate) error {
	if err := c.ix.UpdateNoSync(ctx, batch); err != nil {
		return err
	}
	again, _, err := c.reclassified(ctx, batch)
	if err != nil || len(again) == 0 {
		return err
	}
	return c.ix.UpdateNoSync(ctx, again)
}

// Stage indexes a capture's new items before it is recorded, hidden from
// searches, and classifies them as UpdateNoSync does (archive.IndexStager).
func (c *classifyingIndexer) Stage(ctx context.Context, capture string, batch []archive.IndexUpdate) ([]uint64, error) {
	fps, err := c.ix.Stage(ctx, capture, batch)
	if err != nil {
		return nil, err
	}
	again, at, err := c.reclassified(ctx, batch)
	if err != nil || len(again) == 0 {
		return fps, err
	}
	fps2, err := c.ix.Stage(ctx, capture, again)
	if err != nil {
		return nil, err
	}
	for j, i := range at {
		fps[i] = fps2[j]
	}
	return fps, nil
}

// Reveal shows the staged items of a recorded capture.
func (c *classifyingIndexer) Reveal(ctx context.Context, capture string) error {
	return c.ix.Reveal(ctx, capture)
}

// Discard takes out the staged items of a capture never recorded.
func (c *classifyingIndexer) Discard(ctx context.Context, capture string, lookup func(string) (catalog.Item, bool, error)) error {
	return c.ix.Discard(ctx, capture, lookup)
}

// reclassified runs the rules over a batch the index now holds and
// returns the updates of the items whose classification changed (and
// their places in the batch), to be indexed again.
func (c *classifyingIndexer) reclassified(ctx context.Context, batch []archive.IndexUpdate) ([]archive.IndexUpdate, []int, error) {
	cl, err := c.l.get(ctx)
	if err != nil {
		return nil, nil, err
	}
	keys := make([]string, len(batch))
	for i, u := range batch {
		keys[i] = u.Item.Key
	}
	c.l.mu.Lock()
	changed, err := cl.Reevaluate(ctx, c.ix, keys)
	c.l.mu.Unlock()
	if err != nil || len(changed) == 0 {
		return nil, nil, err
	}
	var again []archive.IndexUpdate
	var at []int
	for i, u := range batch {
		if slices.Contains(changed, u.Item.Key) {
			u.Staged = 0
			again = append(again, u)
			at = append(at, i)
		}
	}
	return again, at, nil
}

func (c *classifyingIndexer) Delete(ctx context.Context, keys []string) error {
	return c.ix.Delete(ctx, keys)
}

// refreshClassification re-indexes, after a reindex, the items a rule or a
// person classifies (the reindex could not evaluate rules on an index it
// was building).
func refreshClassification(ctx context.Context, g *globalOptions, a *archive.Archive, ix *index.Index) error {
	r := newRecords(g, a)
	r.Matcher = ix
	cl, err := r.Classifier(ctx)
	if err != nil {
		return fmt.Errorf("classification after reindex: %w", err)
	}
	annotateWith(ix, r)
	return reannotate(ctx, a, ix, cl.Classified())
}

// bagTransfer writes the items a disposition plan transfers as a bag of
// the bagit export format (export/bagit: RFC 8493; every version of every
// item as archived, raw platform responses and media, thread pages,
// chain of custody and the offline viewer), with two
// payload files of its own: transfer.json (the plan, its approvals and the
// schedules with their authorities) and transfer.jsonl (one line per item:
// key, creation and disposition dates, schedule, class, version digests).
func bagTransfer(a *archive.Archive, g *globalOptions, dir string) retention.Transferer {
	return func(ctx context.Context, p retention.Plan, items []retention.TransferItem) (*retention.TransferPackage, error) {
		out := dir
		if out == "" {
			out = filepath.Join(a.Dir(), "transfers")
		}
		if err := os.MkdirAll(out, 0o750); err != nil {
			return nil, err
		}
		out, err := filepath.Abs(filepath.Join(out, p.ID))
		if err != nil {
			return nil, err
		}
		keys := make([]string, len(items))
		byKey := map[string]retention.TransferItem{}
		for i, it := range items {
			keys[i] = it.Key
			byKey[it.Key] = it
		}
		src, err := export.NewSource(a, export.SourceOptions{Keys: export.KeyList(keys), Versions: export.VersionsAll,
			Records: func(ctx context.Context, ci *catalog.Item) (export.Records, error) {
				it := byKey[ci.Key]
				return export.Records{Classification: it.Class, Schedule: it.Schedule.ID, Exemptions: it.Exemptions}, nil
			}})
		if err != nil {
			return nil, err
		}
		head, err := a.Catalog().Head()
		if err != nil {
			return nil, err
		}
		schedules := map[string]retention.Schedule{}
		for _, it := range items {
			schedules[it.Schedule.ID] = it.Schedule
		}
		sel := export.Selection{Filters: map[string][]string{"disposition-plan": {p.ID}}, Versions: export.VersionsAll, Media: true}
		m, err := export.Run(ctx, src, bagitexport.Format().New(), export.Meta{
			Format: "bagit", Out: out, ArchiveID: a.Config().ArchiveID, Exporter: g.who(), ExportedAt: g.now().UTC(),
			OsmarcVersion: archive.Version, JournalHead: export.JournalHead{Seq: head.Seq, Hash: head.Hash},
			Versions: export.VersionsAll, Media: true, Selection: sel,
			Extra: func(ctx context.Context, create func(string) (io.WriteCloser, error)) error {
				f, err := create("transfer.json")
				if err != nil {
					return err
				}
				enc := json.NewEncoder(f)
				enc.SetEscapeHTML(false)
				enc.SetIndent("", "  ")
				err = enc.Encode(map[string]any{"format": "osmarc transfer 1", "plan": p, "schedules": schedules})
				if cerr := f.Close(); err == nil {
					err = cerr
				}
				if err != nil {
					return err
				}
				if f, err = create("transfer.jsonl"); err != nil {
					return err
				}
				enc = json.NewEncoder(f)
				enc.SetEscapeHTML(false)
				for _, it := range items {
					if err = enc.Encode(struct {
						retention.TransferItem
						Schedule string `json:"schedule"`
					}{it, it.Schedule.ID}); err != nil {
						break
					}
				}
				if cerr := f.Close(); err == nil {
					err = cerr
				}
				return err
			},
		}, nil)
		if err != nil {
			return nil, err
		}
		files := 0
		if _, n, ok := strings.Cut(m.PayloadOxum, "."); ok {
			files, _ = strconv.Atoi(n)
		}
		return &retention.TransferPackage{Format: "bagit", Dir: m.Path, Items: m.Items, Files: files, Bytes: m.Bytes, TagManifestSHA256: m.SHA256}, nil
	}
}

// recordsView is what osmarc show says of an item's records management.
type recordsView struct {
	Class      string   `json:"class,omitempty"`
	Source     string   `json:"source,omitempty"` // person, rule, default
	Rule       string   `json:"rule,omitempty"`
	Schedule   string   `json:"schedule,omitempty"`
	Exemptions []string `json:"exemptions,omitempty"`
	// DispositionDate is when the item may be disposed of; Permanent and
	// Pending (the event the date waits for) say why there is none.
	DispositionDate *time.Time `json:"disposition_date,omitempty"`
	Permanent       bool       `json:"permanent,omitempty"`
	Pending         string     `json:"pending,omitempty"`
	Holds           []string   `json:"holds,omitempty"`
	TransferredBy   string     `json:"transferred_by_plan,omitempty"`
	// Error says why the classification could not be told (no index).
	Error string `json:"error,omitempty"`
}

// showRecords tells an item's classification, schedule, disposition date,
// holds and transfer, as well as can be told; it never fails osmarc show.
func showRecords(ctx context.Context, g *globalOptions, a *archive.Archive, key string) *recordsView {
	r, closeIndex, err := recordsFor(g, a, true)
	if err != nil {
		return &recordsView{Error: err.Error()}
	}
	defer closeIndex()
	v := &recordsView{}
	if ex, err := r.Explain(ctx, key); err != nil {
		v.Error = oneLine(err.Error())
	} else {
		as := ex.Assignment
		v.Class, v.Source, v.Rule, v.Schedule, v.Exemptions = as.Class, as.Source, as.Rule, ex.Schedule, as.Exemptions
		if d := ex.Disposition; d != nil {
			v.Permanent, v.Pending = d.Permanent, d.Pending
			if !d.Date.IsZero() {
				t := d.Date
				v.DispositionDate = &t
			}
		}
	}
	if hs, err := r.HoldsOn(ctx, key); err == nil {
		v.Holds = hs
	}
	if p, ok, err := r.Transferred(key); err == nil && ok {
		v.TransferredBy = p.ID
	}
	return v
}

func printRecordsView(w io.Writer, v *recordsView) {
	if v == nil {
		return
	}
	fmt.Fprintln(w, "\nRecords management")
	if v.Error != "" {
		fmt.Fprintf(w, "  classification unknown: %s\n", v.Error)
	} else {
		from := map[string]string{retention.SourcePerson: "classified by a person", retention.SourceRule: "by rule " + v.Rule, retention.SourceDefault: "no rule matches: the default"}[v.Source]
		fmt.Fprintf(w, "  class %s (%s)", v.Class, from)
		if len(v.Exemptions) > 0 {
			fmt.Fprintf(w, "  exemptions %s", strings.Join(v.Exemptions, ", "))
		}
		fmt.Fprintln(w)
		switch {
		case v.Schedule == "":
			fmt.Fprintln(w, "  schedule none (its account has none)")
		case v.Permanent:
			fmt.Fprintf(w, "  schedule %s: permanent\n", v.Schedule)
		case v.Pending != "":
			fmt.Fprintf(w, "  schedule %s: no disposition date until %s\n", v.Schedule, v.Pending)
		case v.DispositionDate != nil:
			fmt.Fprintf(w, "  schedule %s: eligible for disposition from %s\n", v.Schedule, v.DispositionDate.Format(time.DateOnly))
		}
	}
	if len(v.Holds) > 0 {
		fmt.Fprintf(w, "  held by %s: it cannot be disposed of\n", strings.Join(v.Holds, ", "))
	}
	if v.TransferredBy != "" {
		fmt.Fprintf(w, "  transferred to the receiving archive by plan %s\n", v.TransferredBy)
	}
}
