// Command osmarc-bench measures osmarc's throughput and memory beside the
// limits of the same machine, measured in the same run, and prints both:
// a table, or with -json one object.
//
// It generates a reproducible corpus (seeded), builds osmarc, and runs
// `osmarc ingest` as a separate process so its peak memory is its own:
//
//   - ingest 100k items into the disk store (and 20k, to show memory is
//     flat in the corpus size);
//   - ingest 20k items into a real S3-compatible server (versitygw) on
//     127.0.0.1;
//   - the limits for the same bytes: plain SHA-256; the same blobs written
//     as plain files in the same layout with one syncfs per 1,000 files;
//     one 1 KiB PUT per item to the same server at the same concurrency.
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"golang.org/x/sys/unix"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/archivetest"
	"github.com/osmarc/osmarc/archive/s3store"
	"github.com/osmarc/osmarc/archive/s3store/s3test"
)

type options struct {
	diskItems   int
	smallItems  int
	s3Items     int
	concurrency int
	seed        uint64
	json        bool
	keep        bool
	// dispositionItems sizes the disposition benchmark (0 skips it).
	dispositionItems int
	// classifyItems sizes the classification benchmark (0 skips it).
	classifyItems int
	// xItems sizes the X archive import benchmark (0 skips it).
	xItems int
	osmarc string
	// search runs only the search benchmark (search.go), of searchItems
	// items and searchReps runs of each query.
	search      bool
	searchItems int
	searchReps  int
	// export exports the ingested archives (export.go).
	export bool
	// web runs only the web benchmark (webload.go): webClients clients
	// load the search API of osmarc serve over webItems items for
	// webDuration.
	web         bool
	webItems    int
	webClients  int
	webDuration time.Duration
	// webData, when set, is the data directory -web serves (an indexed
	// archive of webItems items, made there when it does not exist)
	// instead of one made in the working directory.
	webData string
}

type row struct {
	name, value, limit, verdict string
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == measureArg {
		os.Exit(measureChild(os.Args[2:]))
	}
	var o options
	flag.IntVar(&o.diskItems, "disk-items", 100_000, "items ingested into the disk store")
	flag.IntVar(&o.smallItems, "small-items", 20_000, "items of the smaller disk run (memory flatness)")
	flag.IntVar(&o.s3Items, "s3-items", 20_000, "items ingested into the S3 server")
	flag.IntVar(&o.concurrency, "concurrency", 16, "store writes in flight (osmarc's default)")
	flag.Uint64Var(&o.seed, "seed", 1, "corpus seed")
	flag.BoolVar(&o.json, "json", false, "print one JSON object")
	flag.IntVar(&o.dispositionItems, "disposition-items", 1_000_000, "items of the disposition benchmark (0 skips it)")
	flag.IntVar(&o.classifyItems, "classify-items", 100_000, "items of the classification benchmark: rule changes and a plan with rules, on the search index (0 skips it)")
	flag.IntVar(&o.xItems, "x-items", 100_000, "tweets of the X archive import benchmark (0 skips it)")
	flag.BoolVar(&o.keep, "keep", false, "keep the working directory")
	flag.StringVar(&o.osmarc, "osmarc", "", "osmarc binary (default: build one)")
	flag.BoolVar(&o.search, "search", false, "run only the search benchmark: index with bleve alone, through osmarc and in SQLite FTS5, then time the open-records queries")
	flag.IntVar(&o.searchItems, "search-items", 1_000_000, "items of the search benchmark (0 skips it in the full run)")
	flag.IntVar(&o.searchReps, "search-reps", 200, "runs of each query in the search benchmark")
	flag.BoolVar(&o.export, "export", true, "export the ingested archives with osmarc export (bagit, warc) beside a tar of their blobs")
	flag.BoolVar(&o.web, "web", false, "run only the web benchmark: osmarc serve's search API under load from this process")
	flag.IntVar(&o.webItems, "web-items", 1_000_000, "items of the web benchmark (0 skips it in the full run; the search benchmark's archive is reused when the sizes match)")
	flag.IntVar(&o.webClients, "web-clients", 16, "concurrent clients of the web benchmark")
	flag.DurationVar(&o.webDuration, "web-duration", 20*time.Second, "how long the web benchmark's clients run")
	flag.StringVar(&o.webData, "web-data", "", "data directory -web serves: an existing indexed archive to reuse (its bench user and a token are added to it), or where to make one (default: the working directory)")
	flag.Parse()
	if err := run(context.Background(), o); err != nil {
		fmt.Fprintln(os.Stderr, "osmarc-bench:", err)
		os.Exit(1)
	}
}

func logf(format string, args ...any) { fmt.Fprintf(os.Stderr, format+"\n", args...) }

func run(ctx context.Context, o options) error {
	work, err := os.MkdirTemp("", "osmarc-bench-")
	if err != nil {
		return err
	}
	if !o.keep {
		defer os.RemoveAll(work)
	}
	if o.osmarc == "" {
		o.osmarc = filepath.Join(work, "osmarc")
		logf("building osmarc")
		if out, err := exec.Command("go", "build", "-o", o.osmarc, "./cmd/osmarc").CombinedOutput(); err != nil {
			return fmt.Errorf("build osmarc: %v\n%s", err, out)
		}
	}
	if o.search {
		res, rows, err := benchSearch(ctx, work, o.osmarc, o.searchItems, o.searchReps, o.seed)
		if err != nil {
			return fmt.Errorf("search: %w", err)
		}
		return report(o, res, rows)
	}
	if o.web {
		data := o.webData
		if data == "" {
			data = filepath.Join(work, "web-data")
		}
		res, rows, err := benchWeb(ctx, work, o.osmarc, data, o.webItems, o.webClients, o.webDuration, o.seed)
		if err != nil {
			return fmt.Errorf("web: %w", err)
		}
		return report(o, res, rows)
	}
	res := map[string]any{"items_disk": o.diskItems, "items_s3": o.s3Items, "concurrency": o.concurrency, "seed": o.seed}
	var warnings []row
	if n, ok := cachedInodes(); ok {
		res["cached_inodes"] = n
		if n > manyCachedInodes {
			msg := "over 1M, creating files costs several times more: run sync; echo 2 > /proc/sys/vm/drop_caches (as root) first"
			logf("warning: the kernel holds %d cached inodes; %s", n, msg)
			warnings = append(warnings, row{"cached inodes (kernel)", fmt.Sprint(n), msg, "WARNING"})
		}
	}

	// The corpora.
	corpus := func(n int) (string, int64, error) {
		p := filepath.Join(work, fmt.Sprintf("corpus-%d.jsonl", n))
		size, err := writeCorpus(p, n, o.seed)
		return p, size, err
	}
	logf("generating corpora")
	big, bigSize, err := corpus(o.diskItems)
	if err != nil {
		return err
	}
	small, smallSize, err := corpus(o.smallItems)
	if err != nil {
		return err
	}
	s3c, s3Size, err := corpus(o.s3Items)
	if err != nil {
		return err
	}

	// Limits on disk and in the CPU, over the same bytes.
	logf("limit: plain SHA-256")
	shaMBs, err := rawSHA256(big)
	if err != nil {
		return err
	}
	res["raw_sha256_mb_per_s"] = round(shaMBs)
	logf("limit: plain files, %d writers, one syncfs per 1,000", o.concurrency)
	filesPerS, err := plainFiles(big, filepath.Join(work, "plain"), o.concurrency)
	if err != nil {
		return err
	}
	res["limit_files_items_per_s"] = round(filesPerS)

	// osmarc ingest into the disk store.
	env := append(os.Environ(), "OSMARC_ACTOR=bench@localhost")
	logf("osmarc ingest: %d items into the disk store", o.diskItems)
	diskRun, err := ingestRun(o.osmarc, filepath.Join(work, "disk-big"), nil, big, env)
	if err != nil {
		return err
	}
	res["ingest_disk_items_per_s"] = round(float64(o.diskItems) / diskRun.wall.Seconds())
	res["ingest_disk_mb_per_s"] = round(float64(bigSize) / 1e6 / diskRun.wall.Seconds())
	res["ingest_disk_seconds"] = round(diskRun.wall.Seconds())
	res["peak_rss_mb"] = round(diskRun.rssMB)
	res["peak_anon_mb"] = round(diskRun.anonMB)
	logf("osmarc ingest: %d items into the disk store (memory at a smaller size)", o.smallItems)
	smallRun, err := ingestRun(o.osmarc, filepath.Join(work, "disk-small"), nil, small, env)
	if err != nil {
		return err
	}
	res["peak_rss_mb_small"] = round(smallRun.rssMB)
	res["peak_anon_mb_small"] = round(smallRun.anonMB)
	res["ingest_disk_small_items_per_s"] = round(float64(o.smallItems) / smallRun.wall.Seconds())
	_ = smallSize

	// The S3 server: limit and osmarc ingest.
	bin, err := s3test.FindBinary()
	if err != nil {
		return err
	}
	logf("starting versitygw")
	srv, err := s3test.StartServer(ctx, bin, filepath.Join(work, "s3"))
	if err != nil {
		return err
	}
	defer srv.Stop()
	for _, kv := range srv.Env() {
		k, v, _ := cutEq(kv)
		os.Setenv(k, v)
	}
	os.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	if err := srv.NewBucket(ctx, "bench-limit"); err != nil {
		return err
	}
	if err := srv.NewBucket(ctx, "bench-ingest"); err != nil {
		return err
	}
	logf("limit: one 1 KiB PUT per item, %d in flight", o.concurrency)
	putsPerS, err := s3Limit(ctx, srv.URL("bench-limit", "limit"), o.s3Items, o.concurrency)
	if err != nil {
		return err
	}
	res["limit_s3_puts_per_s"] = round(putsPerS)
	logf("osmarc ingest: %d items into the S3 server", o.s3Items)
	s3Run, err := ingestRun(o.osmarc, filepath.Join(work, "s3-data"), []string{"--store", srv.URL("bench-ingest", "archive")}, s3c, append(env, srv.Env()...))
	if err != nil {
		return err
	}
	res["ingest_s3_items_per_s"] = round(float64(o.s3Items) / s3Run.wall.Seconds())
	res["ingest_s3_mb_per_s"] = round(float64(s3Size) / 1e6 / s3Run.wall.Seconds())
	res["ingest_s3_peak_rss_mb"] = round(s3Run.rssMB)

	var extra []row
	// The X import runs before the benchmarks that delete files (export
	// removes its bags; disposition destroys about 100k blobs): ext4
	// without a journal, as on this project's machines, will not reuse an
	// inode freed in the last minute (six, while its inode table block is
	// dirty) and searches past each one for every file it creates, which
	// made a capture measured right after a disposition several times
	// slower in system time than one on a fresh disk.
	if o.xItems > 0 {
		xres, xrows, err := benchXImport(o.osmarc, work, o.xItems, o.xItems/5, o.seed, env, filesPerS)
		if err != nil {
			return fmt.Errorf("x-archive import: %w", err)
		}
		for k, v := range xres {
			res[k] = v
		}
		extra = append(extra, xrows...)
	}
	if o.export {
		eres, erows, err := benchExport(o.osmarc, work, filepath.Join(work, "disk-big"), filepath.Join(work, "disk-small"), o.diskItems, o.smallItems, env)
		if err != nil {
			return fmt.Errorf("export: %w", err)
		}
		for k, v := range eres {
			res[k] = v
		}
		extra = append(extra, erows...)
	}
	if o.dispositionItems > 0 {
		dres, drows, err := benchDisposition(ctx, work, o.dispositionItems, o.seed)
		if err != nil {
			return fmt.Errorf("disposition: %w", err)
		}
		for k, v := range dres {
			res[k] = v
		}
		extra = append(extra, drows...)
	}
	if o.classifyItems > 0 {
		cres, crows, err := benchClassification(ctx, work, o.classifyItems, o.seed)
		if err != nil {
			return fmt.Errorf("classification: %w", err)
		}
		for k, v := range cres {
			res[k] = v
		}
		extra = append(extra, crows...)
	}
	if o.searchItems > 0 {
		sres, srows, err := benchSearch(ctx, work, o.osmarc, o.searchItems, o.searchReps, o.seed)
		if err != nil {
			return fmt.Errorf("search: %w", err)
		}
		for k, v := range sres {
			res[k] = v
		}
		extra = append(extra, srows...)
	}
	if o.webItems > 0 {
		data := filepath.Join(work, "web-data")
		if o.searchItems == o.webItems {
			data = filepath.Join(work, "search-data")
		}
		wres, wrows, err := benchWeb(ctx, work, o.osmarc, data, o.webItems, o.webClients, o.webDuration, o.seed)
		if err != nil {
			return fmt.Errorf("web: %w", err)
		}
		for k, v := range wres {
			res[k] = v
		}
		extra = append(extra, wrows...)
	}
	if o.json {
		enc := json.NewEncoder(os.Stdout)
		return enc.Encode(res)
	}
	f := func(k string) float64 { return res[k].(float64) }
	pct := func(a, b float64) string { return fmt.Sprintf("%.0f%% of limit", 100*a/b) }
	verdict := func(ok bool) string {
		if ok {
			return "meets target"
		}
		return "MISSES target"
	}
	rows := []row{
		{"raw SHA-256 (same bytes)", fmt.Sprintf("%.0f MB/s", f("raw_sha256_mb_per_s")), "", ""},
		{fmt.Sprintf("plain files ×%d, syncfs per 1,000", o.concurrency), fmt.Sprintf("%.0f items/s", f("limit_files_items_per_s")), "", ""},
		{fmt.Sprintf("ingest %dk → disk", o.diskItems/1000), fmt.Sprintf("%.0f items/s, %.1f MB/s", f("ingest_disk_items_per_s"), f("ingest_disk_mb_per_s")),
			pct(f("ingest_disk_items_per_s"), f("limit_files_items_per_s")) + "; target ≥ 5,000/s and ≥ 50%",
			verdict(f("ingest_disk_items_per_s") >= 5000 && f("ingest_disk_items_per_s") >= 0.5*f("limit_files_items_per_s"))},
		{fmt.Sprintf("S3 PUT 1 KiB ×%d in flight", o.concurrency), fmt.Sprintf("%.0f PUTs/s", f("limit_s3_puts_per_s")), "", ""},
		{fmt.Sprintf("ingest %dk → S3", o.s3Items/1000), fmt.Sprintf("%.0f items/s, %.1f MB/s", f("ingest_s3_items_per_s"), f("ingest_s3_mb_per_s")),
			pct(f("ingest_s3_items_per_s"), f("limit_s3_puts_per_s")) + "; target ≥ 50%",
			verdict(f("ingest_s3_items_per_s") >= 0.5*f("limit_s3_puts_per_s"))},
		{fmt.Sprintf("peak RSS, %dk items", o.diskItems/1000), fmt.Sprintf("%.0f MB", f("peak_rss_mb")),
			fmt.Sprintf("%.0f MB at %dk; target ≤ 300 MB", f("peak_rss_mb_small"), o.smallItems/1000),
			verdict(f("peak_rss_mb") <= 300)},
		{fmt.Sprintf("peak heap (RssAnon), %dk items", o.diskItems/1000), fmt.Sprintf("%.0f MB", f("peak_anon_mb")),
			fmt.Sprintf("%.0f MB at %dk; flat (within 25%%)", f("peak_anon_mb_small"), o.smallItems/1000),
			verdict(f("peak_anon_mb") <= 1.25*f("peak_anon_mb_small")+10)},
	}
	rows = append(rows, extra...)
	return report(o, nil, append(warnings, rows...))
}

// manyCachedInodes is where cached inodes start to slow the creation of
// files: with the 4.8 million that 1M-item archives left on this
// project's machine, an import spent 27 s in the kernel instead of 5–6.
const manyCachedInodes = 1_000_000

// cachedInodes is how many inodes the kernel holds in memory (the first
// number of /proc/sys/fs/inode-nr), if it says.
func cachedInodes() (int64, bool) {
	b, err := os.ReadFile("/proc/sys/fs/inode-nr")
	if err != nil {
		return 0, false
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0, false
	}
	n, err := strconv.ParseInt(f[0], 10, 64)
	return n, err == nil
}

// report prints the rows as a table, or with -json res as one object.
func report(o options, res map[string]any, rows []row) error {
	if o.json {
		return json.NewEncoder(os.Stdout).Encode(res)
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "MEASURE\tRESULT\tBESIDE\tVERDICT")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.name, r.value, r.limit, r.verdict)
	}
	return tw.Flush()
}

func cutEq(s string) (string, string, bool) {
	for i := range s {
		if s[i] == '=' {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

// writeCorpus writes the synthetic corpus of n items to path and returns
// its size.
func writeCorpus(path string, n int, seed uint64) (int64, error) {
	f, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	size, err := archivetest.WriteCorpus(f, n, seed)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return size, err
}

// ingestFile ingests a corpus file into a.
func ingestFile(ctx context.Context, a *archive.Archive, path string) error {
	in, err := os.Open(path)
	if err != nil {
		return err
	}
	defer in.Close()
	_, err = a.Ingest(ctx, []archive.Source{{Name: path, R: in}}, archive.IngestOptions{})
	return err
}

func round(f float64) float64 { return float64(int64(f*10+0.5)) / 10 }

type runResult struct {
	wall   time.Duration
	rssMB  float64 // peak resident set of the process alone (its rusage), file-backed pages included
	anonMB float64 // peak anonymous memory: the heap and stacks, sampled
	fileMB float64 // peak file-backed resident memory (the catalog's mmap), sampled

	// cpu is the process's user and system CPU time (its rusage), sys
	// the system part of it.
	cpu, sys time.Duration
}

// ingestRun inits an archive and times `osmarc ingest` as its own process.
func ingestRun(bin, dir string, storeArgs []string, corpus string, env []string) (runResult, error) {
	initCmd := exec.Command(bin, append([]string{"init", "--data", dir}, storeArgs...)...)
	initCmd.Env = env
	if out, err := initCmd.CombinedOutput(); err != nil {
		return runResult{}, fmt.Errorf("init: %v: %s", err, out)
	}
	return timeProcess(env, bin, "ingest", "--quiet", "--data", dir, corpus)
}

// rawSHA256 hashes every line of the corpus on its own, as blobs are.
func rawSHA256(corpus string) (float64, error) {
	b, err := os.ReadFile(corpus)
	if err != nil {
		return 0, err
	}
	start := time.Now()
	var n int64
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			i = len(b) - 1
		}
		line := b[:i+1]
		sha256.Sum256(line)
		n += int64(len(line))
		b = b[i+1:]
	}
	return float64(n) / 1e6 / time.Since(start).Seconds(), nil
}

// plainFiles writes every line of the corpus as a file named by its
// SHA-256 in the store's layout, conc writers at a time, with one syncfs per
// 1,000 files: the least a content-addressed store on this disk can do.
func plainFiles(corpus, dir string, conc int) (float64, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return 0, err
	}
	root, err := os.Open(dir)
	if err != nil {
		return 0, err
	}
	defer root.Close()
	f, err := os.Open(corpus)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 1<<20)
	lines := make(chan []byte, 256)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	written := 0
	start := time.Now()
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for line := range lines {
				p := filepath.Join(dir, filepath.FromSlash(archive.BlobKey(archive.Sum(line))))
				err := os.MkdirAll(filepath.Dir(p), 0o750)
				if err == nil {
					err = os.WriteFile(p, line, 0o640)
				}
				mu.Lock()
				written++
				if err == nil && written%1000 == 0 {
					err = unix.Syncfs(int(root.Fd()))
				}
				if err != nil && firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
			}
		}()
	}
	for {
		line, err := br.ReadBytes('\n')
		if len(line) > 0 {
			lines <- line
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			close(lines)
			wg.Wait()
			return 0, err
		}
	}
	close(lines)
	wg.Wait()
	if firstErr != nil {
		return 0, firstErr
	}
	if err := unix.Syncfs(int(root.Fd())); err != nil {
		return 0, err
	}
	return float64(written) / time.Since(start).Seconds(), nil
}

// s3Limit puts n objects of 1 KiB, conc at a time, under blob keys: one
// PUT per item, through osmarc's S3 client (one request each, the digest
// computed once and checked by the service).
func s3Limit(ctx context.Context, url string, n, conc int) (float64, error) {
	s, err := s3store.Open(ctx, url)
	if err != nil {
		return 0, err
	}
	defer s.Close()
	var wg sync.WaitGroup
	jobs := make(chan int)
	errs := make(chan error, conc)
	start := time.Now()
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b := make([]byte, 1024)
			for i := range jobs {
				copy(b, fmt.Sprintf("limit object %d", i))
				if err := archive.PutBytes(ctx, s, archive.BlobKey(archive.Sum(b)), b); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	for i := range n {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	el := time.Since(start)
	select {
	case err := <-errs:
		return 0, err
	default:
	}
	return float64(n) / el.Seconds(), nil
}
