package index

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/archivetest"
)

// counting is the index as a capture's stager, counting what it staged.
type counting struct {
	*Index
	staged int
}

func (c *counting) Stage(ctx context.Context, capture string, batch []archive.IndexUpdate) ([]uint64, error) {
	c.staged += len(batch)
	return c.Index.Stage(ctx, capture, batch)
}

// liveArchive is an archive whose captures keep an index up to date, as
// a capturing command's do, through a counting stager.
func liveArchive(t *testing.T) (*archive.Archive, *counting) {
	t.Helper()
	a, _, _ := archivetest.New(t)
	live, err := Open(filepath.Join(t.TempDir(), DirName))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { live.Close() })
	live.SetVersionReader(a)
	st := &counting{Index: live}
	a.SetIndexer(st)
	return a, st
}

// contents is everything an index holds, by item key: each field's terms
// (the bookkeeping field of staging aside) and the stored values. The
// pairs of the latest text depend on the batch the item was indexed in
// (pairRule), so in their place are the text's pairs, each as the index
// finds it: by its term, or by a word of it left out of pairs
// (coveredPairs).
func contents(t *testing.T, ix *Index) map[string]string {
	t.Helper()
	e, done, err := ix.engine()
	if err != nil {
		t.Fatal(err)
	}
	defer done()
	r := e.snap
	fields, err := r.Fields()
	if err != nil {
		t.Fatal(err)
	}
	key := map[[2]uint32]string{}
	out := map[string][]string{}
	text := map[string]string{}
	pairs, rare := map[string]map[string]bool{}, map[string]map[string]bool{}
	for i, s := range e.segs {
		it := s.all().Iterator()
		for it.HasNext() {
			d := it.Next()
			f, err := e.stored(i, d, nil)
			if err != nil {
				t.Fatal(err)
			}
			k := first(f["_id"])
			key[[2]uint32{uint32(i), d}] = k
			text[k] = first(f[fText])
			for _, name := range slices.Sorted(maps.Keys(f)) {
				out[k] = append(out[k], fmt.Sprintf("stored %s=%q", name, f[name]))
			}
		}
	}
	for _, field := range fields {
		if field == fStaged || field == "_id" {
			continue
		}
		fd, err := r.FieldDict(field)
		terms, err := dictTerms(fd, err, 1<<30, field)
		if err != nil {
			t.Fatal(err)
		}
		for _, term := range terms {
			b, err := e.term(field, term)
			if err != nil {
				t.Fatal(err)
			}
			for i, bm := range b {
				if bm == nil {
					continue
				}
				it := bm.Iterator()
				for it.HasNext() {
					k := key[[2]uint32{uint32(i), it.Next()}]
					set := pairs
					switch field {
					case fTextRare:
						set = rare
					case fTextBi:
					default:
						out[k] = append(out[k], fmt.Sprintf("term %s:%q", field, term))
						continue
					}
					if set[k] == nil {
						set[k] = map[string]bool{}
					}
					set[k][term] = true
				}
			}
		}
	}
	for k, txt := range text {
		out[k] = append(out[k], coveredPairs(txt, pairs[k], rare[k])...)
	}
	flat := map[string]string{}
	for k, v := range out {
		slices.Sort(v)
		flat[k] = strings.Join(v, "\n")
	}
	return flat
}

// coveredPairs are the pairs of adjacent plain words of text, each found
// by its term (pairs) or by one of its words left out of pairs (rare),
// else MISSING; and any term of either field that text does not make,
// as EXTRA.
func coveredPairs(text string, pairs, rare map[string]bool) []string {
	var out []string
	toks := analyse(AnalyserPlain, text)
	made := map[string]bool{}
	for _, w := range toks {
		made["rare "+w] = true
	}
	for i := 0; i+1 < len(toks); i++ {
		p := toks[i] + " " + toks[i+1]
		made["pair "+p] = true
		if pairs[p] || rare[toks[i]] || rare[toks[i+1]] {
			out = append(out, fmt.Sprintf("pair %q", p))
		} else {
			out = append(out, fmt.Sprintf("pair %q MISSING", p))
		}
	}
	for p := range pairs {
		if !made["pair "+p] {
			out = append(out, fmt.Sprintf("pair term %q EXTRA", p))
		}
	}
	for w := range rare {
		if !made["rare "+w] {
			out = append(out, fmt.Sprintf("rare term %q EXTRA", w))
		}
	}
	return out
}

// A capture stages its new items while it reads them; what the index
// holds once it is committed is exactly what a reindex from the catalog
// makes: items seen twice in the capture, edited within it, edited from an
// earlier capture, and items already archived included.
func TestStagedCaptureIndexesWhatReindexDoes(t *testing.T) {
	ctx := context.Background()
	a, st := liveArchive(t)
	live := st.Index

	var corpus bytes.Buffer
	if _, err := archivetest.WriteCorpus(&corpus, 2600, 3); err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(corpus.String(), "\n")
	lines = lines[:len(lines)-1] // what follows the last newline: nothing
	ingest := func(ls ...string) {
		t.Helper()
		res, err := a.Ingest(ctx, []archive.Source{{Name: "corpus.jsonl", R: strings.NewReader(strings.Join(ls, ""))}}, archive.IngestOptions{})
		if err != nil || res.Errors != 0 {
			t.Fatalf("ingest: %+v %v", res, err)
		}
	}
	// An earlier capture holds some of the items.
	ingest(lines[:300]...)
	before := st.staged
	var in []string
	in = append(in, lines[200:]...)      // 100 already archived, 2,300 new
	in = append(in, lines[1500:1510]...) // seen twice, unchanged
	for _, l := range lines[700:705] {   // seen twice, edited in between
		in = append(in, strings.Replace(l, `"text":"`, `"text":"Corrected: `, 1))
	}
	for _, l := range lines[250:255] { // archived before, edited now
		in = append(in, strings.Replace(l, `"text":"`, `"text":"Amended: `, 1))
	}
	ingest(in...)
	if staged := st.staged - before; staged < 2300 {
		t.Fatalf("the capture staged %d items, want its 2,300 new ones at least", staged)
	}
	if list, _ := live.Staged(); len(list) != 0 {
		t.Errorf("captures still hidden after commit: %v", list)
	}

	rebuilt, err := Open(filepath.Join(t.TempDir(), DirName))
	if err != nil {
		t.Fatal(err)
	}
	defer rebuilt.Close()
	if err := rebuilt.Reindex(ctx, a, nil); err != nil {
		t.Fatal(err)
	}
	got, want := contents(t, live), contents(t, rebuilt)
	if len(got) != len(want) || len(want) != 2600 {
		t.Errorf("the live index holds %d items, the reindexed one %d, want 2600", len(got), len(want))
	}
	bad := 0
	for k, w := range want {
		if strings.Contains(w, "MISSING") || strings.Contains(w, "EXTRA") || strings.Contains(got[k], "MISSING") || strings.Contains(got[k], "EXTRA") {
			t.Errorf("item %s: a pair of its text is not found, or a term is not of its text:\n%s\n%s", k, got[k], w)
		}
		if got[k] != w {
			if bad++; bad <= 3 {
				t.Errorf("item %s as indexed by the capture:\n%s\nas reindexed:\n%s", k, got[k], w)
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d item(s) differ", bad)
	}
	for q, n := range map[string]uint64{"corrected": 5, "amended": 5} {
		if res, err := live.Search(ctx, Request{Query: q, Limit: 10}); err != nil || res.Total != n {
			t.Errorf("%s: %v, want %d hits", q, err, n)
		}
	}
}

// corpusItems are n items of the synthetic corpus, as a collector hands
// them to a capture.
func corpusItems(t *testing.T, n int, seed uint64) []archive.Item {
	t.Helper()
	var corpus bytes.Buffer
	if _, err := archivetest.WriteCorpus(&corpus, n, seed); err != nil {
		t.Fatal(err)
	}
	var out []archive.Item
	for l := range strings.Lines(corpus.String()) {
		var it archive.Item
		if err := json.Unmarshal([]byte(l), &it); err != nil {
			t.Fatal(err)
		}
		out = append(out, it)
	}
	return out
}

// A capture abandoned after it staged items (a collector failed) takes
// them out of the index, and leaves nothing pending.
func TestAbandonedCaptureTakesOutWhatItStaged(t *testing.T) {
	ctx := context.Background()
	a, st := liveArchive(t)
	live := st.Index
	items := corpusItems(t, 2500, 5)
	w, err := a.BeginCapture(ctx, archive.CaptureOptions{Collector: "test"})
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		if err := w.AddItem(ctx, it, archive.ItemOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	// Staging runs beside the capture: wait until it has staged some.
	deadline := time.Now().Add(10 * time.Second)
	for {
		r, done, err := live.snapshot()
		if err != nil {
			t.Fatal(err)
		}
		n, _ := r.DocCount()
		done()
		if n > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if list, _ := live.Staged(); len(list) != 1 || list[0] != w.ID() {
		t.Fatalf("staged captures while the capture runs: %v", list)
	}
	if n, _ := live.Count(); n != 0 {
		t.Errorf("a search counts %d items of a capture not recorded", n)
	}
	w.Abort()
	r, done, err := live.snapshot()
	if err != nil {
		t.Fatal(err)
	}
	n, _ := r.DocCount()
	done()
	if n != 0 {
		t.Errorf("%d staged documents left after the capture was abandoned", n)
	}
	if list, _ := live.Staged(); len(list) != 0 {
		t.Errorf("staged captures after abandoning: %v", list)
	}
	if p, _ := a.IndexPending(); len(p) != 0 {
		t.Errorf("index-pending after abandoning: %v", p)
	}
}

// A process that died while its capture staged items left them in the
// index, hidden, and the capture's id in the index-pending file: the next
// writer's RepairIndex takes them out, keeping an item the catalog holds.
func TestRepairTakesOutWhatADeadCaptureStaged(t *testing.T) {
	ctx := context.Background()
	a, st := liveArchive(t)
	live := st.Index
	items := corpusItems(t, 20, 6)
	w, err := a.BeginCapture(ctx, archive.CaptureOptions{Collector: "test"})
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range items[:10] {
		if err := w.AddItem(ctx, it, archive.ItemOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	// What the dead capture had staged: five items the catalog holds (a
	// text of its own), and ten it does not.
	var batch []archive.IndexUpdate
	for i, it := range items {
		if i < 10 && i%2 == 1 {
			continue
		}
		u := update(it.ID, "Orphaned words.")
		u.Item.Key, u.Item.Platform, u.Item.Account = it.Key(), it.Platform, it.Account
		u.Latest.Platform, u.Latest.Account = it.Platform, it.Account
		batch = append(batch, u)
	}
	if _, err := live.Stage(ctx, "dead-capture", batch); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(a.Dir(), "index-pending"), []byte("dead-capture\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	if res, _ := live.Search(ctx, Request{Query: "orphaned"}); res.Total != 0 {
		t.Errorf("a search finds %d items of the dead capture", res.Total)
	}
	n, err := a.RepairIndex(ctx)
	if err != nil || n != 0 {
		t.Fatalf("repair: %d %v", n, err)
	}
	if res, _ := live.Search(ctx, Request{Query: "orphaned"}); res.Total != 0 {
		t.Errorf("after repair a search finds %d items of the dead capture", res.Total)
	}
	if c, _ := live.Count(); c != 10 {
		t.Errorf("after repair the index counts %d items, want the 10 recorded", c)
	}
	if list, _ := live.Staged(); len(list) != 0 {
		t.Errorf("staged after repair: %v", list)
	}
	if p, _ := a.IndexPending(); len(p) != 0 {
		t.Errorf("index-pending after repair: %v", p)
	}
}
