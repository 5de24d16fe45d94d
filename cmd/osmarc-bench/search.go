package main

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/blevesearch/bleve/v2"
	_ "modernc.org/sqlite" // the FTS5 peer, pure Go

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/archivetest"
	"github.com/osmarc/osmarc/archive/catalog"
	"github.com/osmarc/osmarc/index"
)

// The search benchmark (-search). One corpus of n items is indexed three
// ways in the same run:
//
//   - bleve alone: bleve's own API (a batch of 1,000 Index calls) given
//     each item's fields and osmarc's mapping, so it indexes what osmarc
//     does, and nothing of osmarc's runs;
//   - through osmarc: `osmarc ingest` into an archive on the disk store,
//     which stores, catalogues and indexes each capture (timed, and
//     compared with bleve alone though it does more), then `osmarc
//     reindex`, which reads every item from the catalog and its versions
//     from the store and builds the index anew, merged into one segment
//     (the indexing rate the target is about);
//   - SQLite FTS5 (modernc.org/sqlite), the peer: a table of the items'
//     fields and an FTS5 table of their text (porter, unicode61 without
//     diacritics), with indexes on account and date.
//
// Then six open-records queries run reps times each, in osmarc (on the
// reindexed index, merged into one segment, and on bleve alone's, left in
// the tiered segments that captures leave) and in FTS5; each query asks
// for its first 20 hits and the total, and the fifth for facet counts too.

// rareWord is put into every rareEvery-th item's text: the corpus's own
// vocabulary has no rare words. midWord goes into every midEvery-th
// item's text, among its words (at a place its number chooses): in 0.5% of
// the items, it is rare in every batch the index is given (under 1 in 100
// of a batch's items), so its pairs are not indexed (index's pairRule) and
// a phrase of it is found by reading the text of the items that hold both
// words, as the phrases of most words of real text are.
const (
	rareWord  = "quartermaster"
	rareEvery = 10_007
	midWord   = "sentry"
	midEvery  = 200
)

type searchClass struct {
	name string
	req  index.Request
	// fts is the peer's statements for the same page, total and facets.
	fts []ftsStmt
}

type ftsStmt struct {
	sql  string
	args []any
}

func searchClasses() []searchClass {
	from, to := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2024, 4, 1, 0, 0, 0, 0, time.UTC)
	page := func(match, extra, order string, args ...any) ftsStmt {
		// The page's hits with what osmarc's carry: fields and a snippet.
		return ftsStmt{`SELECT items.key, items.platform, items.account, items.kind, items.created, snippet(fts, 0, '«', '»', '…', 24) FROM fts JOIN items ON items.id = fts.rowid WHERE fts MATCH ?` + extra + ` ORDER BY ` + order + ` LIMIT 20`, append([]any{match}, args...)}
	}
	count := func(match, extra string, args ...any) ftsStmt {
		return ftsStmt{`SELECT count(*) FROM fts JOIN items ON items.id = fts.rowid WHERE fts MATCH ?` + extra, append([]any{match}, args...)}
	}
	facet := func(match, col string) ftsStmt {
		return ftsStmt{`SELECT ` + col + `, count(*) FROM fts JOIN items ON items.id = fts.rowid WHERE fts MATCH ? GROUP BY 1`, []any{match}}
	}
	const window = ` AND items.account = ? AND items.created >= ? AND items.created < ?`
	return []searchClass{
		{"one rare word", index.Request{Query: rareWord},
			[]ftsStmt{page(rareWord, "", "rank"), count(rareWord, "")}},
		{"two words AND", index.Request{Query: "+parade +brigade"},
			[]ftsStmt{page("parade AND brigade", "", "rank"), count("parade AND brigade", "")}},
		{"a phrase", index.Request{Query: `"road closure"`},
			[]ftsStmt{page(`"road closure"`, "", "rank"), count(`"road closure"`, "")}},
		{"word + account + dates", index.Request{Query: "parade", Accounts: []string{"3rd-brigade"}, From: from, To: to},
			[]ftsStmt{page("parade", window, "rank", "3rd-brigade", from.Format(time.RFC3339), to.Format(time.RFC3339)),
				count("parade", window, "3rd-brigade", from.Format(time.RFC3339), to.Format(time.RFC3339))}},
		{"common word, newest, facets", index.Request{Query: "parade", Sort: index.SortNewest, Facets: true},
			[]ftsStmt{page("parade", "", "items.created DESC"), count("parade", ""),
				facet("parade", "platform"), facet("parade", "account"), facet("parade", "kind"),
				facet("parade", "substr(created, 1, 4)"), facet("parade", "class")}},
		{"a phrase of a word in 0.5%", index.Request{Query: `"` + midWord + ` road"`},
			[]ftsStmt{page(`"`+midWord+` road"`, "", "rank"), count(`"`+midWord+` road"`, "")}},
	}
}

// searchCorpus writes the corpus with the rare and the middling word in
// it.
func searchCorpus(path string, n int, seed uint64) error {
	tmp := path + ".tmp"
	defer os.Remove(tmp)
	if _, err := writeCorpus(tmp, n, seed); err != nil {
		return err
	}
	in, err := os.Open(tmp)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(out, 1<<20)
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for i := 0; sc.Scan(); i++ {
		line := sc.Bytes()
		if i%rareEvery == 0 || i%midEvery == 1 {
			var it archivetest.CorpusItem
			if err := json.Unmarshal(line, &it); err != nil {
				return err
			}
			if i%rareEvery == 0 {
				it.Text += " " + rareWord
			}
			if i%midEvery == 1 {
				ws := strings.Fields(it.Text)
				at := (i / midEvery) % (len(ws) + 1)
				it.Text = strings.Join(slices.Insert(ws, at, midWord), " ")
			}
			if line, err = json.Marshal(it); err != nil {
				return err
			}
		}
		w.Write(line)
		w.WriteByte('\n')
	}
	if err := sc.Err(); err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return out.Close()
}

// eachDoc reads the corpus and calls fn with each item's index document,
// as osmarc would build it from a one-version item.
func eachDoc(path string, fn func(index.Doc) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		it, _, err := archive.ParseItemLine(sc.Bytes())
		if err != nil {
			return err
		}
		ci := catalog.Item{Key: it.Key(), Platform: it.Platform, Account: it.Account, ID: it.ID, Kind: it.Kind,
			CreatedAt: it.Created(), Versions: []catalog.Version{{}}}
		if err := fn(index.NewDoc(ci, &it, nil)); err != nil {
			return err
		}
	}
	return sc.Err()
}

// bleveAlone indexes the corpus with bleve's own API and osmarc's mapping.
func bleveAlone(path, dir string) (time.Duration, error) {
	start := time.Now()
	b, err := bleve.New(dir, index.Mapping())
	if err != nil {
		return 0, err
	}
	batch := b.NewBatch()
	err = eachDoc(path, func(d index.Doc) error {
		if err := batch.Index(d.Key, d.Fields()); err != nil {
			return err
		}
		if batch.Size() >= index.BatchSize {
			if err := b.Batch(batch); err != nil {
				return err
			}
			batch = b.NewBatch()
		}
		return nil
	})
	if err == nil && batch.Size() > 0 {
		err = b.Batch(batch)
	}
	if cerr := b.Close(); err == nil {
		err = cerr
	}
	return time.Since(start), err
}

// ftsIndex loads the corpus into SQLite FTS5.
func ftsIndex(path, dbPath string) (*sql.DB, time.Duration, error) {
	start := time.Now()
	db, err := sql.Open("sqlite", dbPath)
	if err != nil {
		return nil, 0, err
	}
	db.SetMaxOpenConns(1)
	for _, s := range []string{
		`PRAGMA journal_mode=WAL`, `PRAGMA synchronous=NORMAL`,
		`CREATE TABLE items (id INTEGER PRIMARY KEY, key TEXT, platform TEXT, account TEXT, kind TEXT, created TEXT, class TEXT, text TEXT)`,
		`CREATE VIRTUAL TABLE fts USING fts5(text, content='items', content_rowid='id', tokenize='porter unicode61 remove_diacritics 2')`,
	} {
		if _, err := db.Exec(s); err != nil {
			return nil, 0, fmt.Errorf("fts5: %s: %w", s, err)
		}
	}
	tx, err := db.Begin()
	if err != nil {
		return nil, 0, err
	}
	ins, _ := tx.Prepare(`INSERT INTO items (id, key, platform, account, kind, created, class, text) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
	insF, _ := tx.Prepare(`INSERT INTO fts (rowid, text) VALUES (?, ?)`)
	id := 0
	err = eachDoc(path, func(d index.Doc) error {
		id++
		if _, err := ins.Exec(id, d.Key, d.Platform, d.Account, d.Kind, d.CreatedAt.UTC().Format(time.RFC3339), index.Unclassified, d.Text); err != nil {
			return err
		}
		if _, err := insF.Exec(id, d.Text); err != nil {
			return err
		}
		if id%10_000 == 0 {
			if err := tx.Commit(); err != nil {
				return err
			}
			if tx, err = db.Begin(); err != nil {
				return err
			}
			ins, _ = tx.Prepare(`INSERT INTO items (id, key, platform, account, kind, created, class, text) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
			insF, _ = tx.Prepare(`INSERT INTO fts (rowid, text) VALUES (?, ?)`)
		}
		return nil
	})
	if err != nil {
		tx.Rollback()
		return nil, 0, err
	}
	if err := tx.Commit(); err != nil {
		return nil, 0, err
	}
	for _, s := range []string{`CREATE INDEX items_account_created ON items (account, created)`, `CREATE INDEX items_created ON items (created)`,
		`INSERT INTO fts (fts) VALUES ('optimize')`} {
		if _, err := db.Exec(s); err != nil {
			return nil, 0, fmt.Errorf("fts5: %s: %w", s, err)
		}
	}
	return db, time.Since(start), nil
}

// maxQueryTime bounds the time spent on one class of query in one
// engine: a slow peer stops after it (and at least minRuns runs).
const (
	maxQueryTime = 2 * time.Minute
	minRuns      = 3
)

// latencies runs fn reps times after a few warm-up runs and returns p50
// and p99 in milliseconds, and how many runs they are of.
func latencies(reps int, fn func() error) (p50, p99 float64, runs int, err error) {
	// Three warm-up runs, or one when a run takes seconds (FTS5 on a
	// common word at 1M takes minutes: its warm-up is its first run).
	for i := range 3 {
		start := time.Now()
		if err := fn(); err != nil {
			return 0, 0, 0, err
		}
		if i == 0 && time.Since(start) > time.Second {
			break
		}
	}
	ds := make([]float64, 0, reps)
	began := time.Now()
	for range reps {
		start := time.Now()
		if err := fn(); err != nil {
			return 0, 0, 0, err
		}
		ds = append(ds, float64(time.Since(start).Microseconds())/1000)
		// Past maxQueryTime three runs are enough: only a query slower
		// than the others by orders of magnitude (the peer's) gets there
		// before reps; the row prints how many runs it had.
		if time.Since(began) > maxQueryTime && len(ds) >= minRuns {
			break
		}
	}
	sort.Float64s(ds)
	return ds[len(ds)/2], ds[min(len(ds)-1, len(ds)*99/100)], len(ds), nil
}

// searchReuse names the working directory of an earlier -search -keep run
// whose indexes -search times again, without indexing (for work on the
// queries; it prints no indexing figures).
var searchReuse = flag.String("search-reuse", "", "time the queries again on the indexes an earlier -search -keep run left in DIR (no indexing)")

func benchSearch(ctx context.Context, work, bin string, n, reps int, seed uint64) (map[string]any, []row, error) {
	res := map[string]any{"search_items": n, "search_reps": reps}
	var rows []row
	data, aloneDir, dbPath := filepath.Join(work, "search-data"), filepath.Join(work, "bleve-alone"), filepath.Join(work, "fts5.db")
	if *searchReuse != "" {
		data, aloneDir, dbPath = filepath.Join(*searchReuse, "search-data"), filepath.Join(*searchReuse, "bleve-alone"), filepath.Join(*searchReuse, "fts5.db")
		res["search_reused"] = *searchReuse
		rows = append(rows, row{"indexes reused from " + *searchReuse, "not indexed in this run", "", ""})
	} else {
		var err error
		if rows, err = searchIndexing(ctx, work, bin, n, seed, res, data, aloneDir, dbPath); err != nil {
			return nil, nil, err
		}
	}
	db, err := sql.Open("sqlite", dbPath)
	if err != nil {
		return nil, nil, err
	}
	db.SetMaxOpenConns(1)
	defer db.Close()
	var docs int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM items`).Scan(&docs); err != nil {
		return nil, nil, fmt.Errorf("fts5: %w", err)
	}
	res["fts5_items"] = docs
	return searchQueries(ctx, reps, res, rows, data, aloneDir, db)
}

// searchIndexing generates the corpus and indexes it the three ways,
// adding the rates to res and returning the rows that print them.
func searchIndexing(ctx context.Context, work, bin string, n int, seed uint64, res map[string]any, data, aloneDir, dbPath string) ([]row, error) {
	corpus := filepath.Join(work, fmt.Sprintf("search-%d.jsonl", n))
	logf("search: generating %d items", n)
	if err := searchCorpus(corpus, n, seed); err != nil {
		return nil, err
	}
	rate := func(d time.Duration) float64 { return round(float64(n) / d.Seconds()) }

	logf("search: bleve alone indexing %d items", n)
	cpu0 := selfCPU()
	took, err := bleveAlone(corpus, aloneDir)
	if err != nil {
		return nil, fmt.Errorf("bleve alone: %w", err)
	}
	aloneCPU := selfCPU() - cpu0
	res["index_bleve_alone_items_per_s"] = rate(took)

	env := append(os.Environ(), "OSMARC_ACTOR=bench@localhost")
	// CPU seconds per 1,000 items beside each rate: on a shared machine
	// the wall clock also measures the neighbours.
	cpuPer1k := func(d time.Duration) float64 { return float64(d.Milliseconds()) / float64(n) }
	res["index_bleve_alone_cpu_s_per_1k"] = cpuPer1k(aloneCPU)
	osm := func(args ...string) (time.Duration, time.Duration, error) {
		cmd := exec.CommandContext(ctx, bin, append(args, "--quiet", "--data", data)...)
		cmd.Env = env
		start := time.Now()
		out, err := cmd.CombinedOutput()
		if err != nil {
			return 0, 0, fmt.Errorf("osmarc %s: %v: %s", strings.Join(args, " "), err, out)
		}
		return time.Since(start), cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime(), nil
	}
	if _, _, err := osm("init"); err != nil {
		return nil, err
	}
	logf("search: osmarc ingest %d items (store, catalog and search index)", n)
	took, cpu, err := osm("ingest", corpus)
	if err != nil {
		return nil, err
	}
	res["ingest_items_per_s"] = rate(took)
	res["ingest_cpu_s_per_1k"] = cpuPer1k(cpu)
	res["ingest_vs_bleve"] = round(100*res["ingest_items_per_s"].(float64)/res["index_bleve_alone_items_per_s"].(float64)) / 100
	logf("search: osmarc reindex")
	if took, cpu, err = osm("reindex"); err != nil {
		return nil, err
	}
	res["index_osmarc_items_per_s"] = rate(took)
	res["index_osmarc_cpu_s_per_1k"] = cpuPer1k(cpu)
	res["index_osmarc_vs_bleve"] = round(100*res["index_osmarc_items_per_s"].(float64)/res["index_bleve_alone_items_per_s"].(float64)) / 100

	logf("search: SQLite FTS5 indexing %d items", n)
	cpu0 = selfCPU()
	db, took, err := ftsIndex(corpus, dbPath)
	if err != nil {
		return nil, err
	}
	db.Close()
	res["index_fts5_items_per_s"] = rate(took)
	res["index_fts5_cpu_s_per_1k"] = cpuPer1k(selfCPU() - cpu0)

	cpuText := func(k string) string { return fmt.Sprintf("%.2f CPU s per 1k items", res[k]) }
	return []row{
		{fmt.Sprintf("index %dk: bleve alone (same fields)", n/1000), fmt.Sprintf("%.0f items/s", res["index_bleve_alone_items_per_s"]), cpuText("index_bleve_alone_cpu_s_per_1k"), ""},
		{fmt.Sprintf("index %dk: osmarc reindex", n/1000), fmt.Sprintf("%.0f items/s", res["index_osmarc_items_per_s"]),
			fmt.Sprintf("%.2f× bleve alone; target ≥ 0.7×; %s", res["index_osmarc_vs_bleve"], cpuText("index_osmarc_cpu_s_per_1k")), verdictOf(res["index_osmarc_vs_bleve"].(float64) >= 0.7)},
		{fmt.Sprintf("ingest %dk (store, catalog and index)", n/1000), fmt.Sprintf("%.0f items/s", res["ingest_items_per_s"]),
			fmt.Sprintf("%.2f× bleve alone; %s", res["ingest_vs_bleve"], cpuText("ingest_cpu_s_per_1k")), ""},
		{fmt.Sprintf("index %dk: SQLite FTS5", n/1000), fmt.Sprintf("%.0f items/s", res["index_fts5_items_per_s"]), cpuText("index_fts5_cpu_s_per_1k"), ""},
	}, nil
}

// searchQueries times the query classes on osmarc's index, bleve alone's
// and FTS5, adding to res and rows.
func searchQueries(ctx context.Context, reps int, res map[string]any, rows []row, data, aloneDir string, db *sql.DB) (map[string]any, []row, error) {
	merged, err := index.OpenReadOnly(filepath.Join(data, index.DirName))
	if err != nil {
		return nil, nil, err
	}
	defer merged.Close()
	tiered, err := index.OpenReadOnly(aloneDir)
	if err != nil {
		return nil, nil, err
	}
	defer tiered.Close()

	for i, c := range searchClasses() {
		logf("search: query %q ×%d", c.name, reps)
		key := fmt.Sprintf("q%d", i+1)
		var total uint64
		run := func(ix *index.Index) func() error {
			return func() error {
				req := c.req
				r, err := ix.Search(ctx, req)
				if err == nil {
					total = r.Total
				}
				return err
			}
		}
		p50, p99, _, err := latencies(reps, run(merged))
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", c.name, err)
		}
		tp50, tp99, _, err := latencies(reps, run(tiered))
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", c.name, err)
		}
		var ftsTotal int64
		fp50, fp99, fruns, err := latencies(reps, func() error {
			for j, s := range c.fts {
				rs, err := db.QueryContext(ctx, s.sql, s.args...)
				if err != nil {
					return err
				}
				for rs.Next() {
					if j == 1 {
						rs.Scan(&ftsTotal)
					}
				}
				if err := rs.Close(); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return nil, nil, fmt.Errorf("fts5 %s: %w", c.name, err)
		}
		for k, v := range map[string]float64{"p50_ms": p50, "p99_ms": p99, "tiered_p50_ms": tp50, "tiered_p99_ms": tp99, "fts5_p50_ms": fp50, "fts5_p99_ms": fp99} {
			res[key+"_"+k] = v
		}
		res[key+"_name"], res[key+"_hits"], res[key+"_fts5_hits"], res[key+"_fts5_runs"] = c.name, total, ftsTotal, fruns
		ok := p50 <= 10 && p99 <= 50 && p50 <= fp50 && p99 <= fp99
		rows = append(rows, row{
			fmt.Sprintf("%s (%d hits)", c.name, total),
			fmt.Sprintf("p50 %.1f ms, p99 %.1f ms", p50, p99),
			fmt.Sprintf("FTS5 %.1f / %.1f ms (%d hits, %d runs): ×%.1f / ×%.1f; unmerged %.1f / %.1f; target ≤ 10 / 50 ms", fp50, fp99, ftsTotal, fruns, fp50/max(p50, 0.01), fp99/max(p99, 0.01), tp50, tp99),
			verdictOf(ok),
		})
	}
	return res, rows, nil
}

// selfCPU is the CPU time this process has used, user and system.
func selfCPU() time.Duration {
	u, s := archivetest.CPU()
	return u + s
}

func verdictOf(ok bool) string {
	if ok {
		return "meets target"
	}
	return "MISSES target"
}
