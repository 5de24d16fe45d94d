package x

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/archivetest"
	"github.com/osmarc/osmarc/archive/collect"
)

// importSynthetic imports a synthetic archive of n tweets, words from
// vocab, into a new archive on the disk store and returns the items per
// second and the peak heap in use while it ran.
func importSynthetic(tb testing.TB, n int, vocab Vocabulary) (itemsPerSec float64, peakHeapMB float64, res archive.IngestResult) {
	tb.Helper()
	ctx := context.Background()
	work := tb.TempDir()
	src := filepath.Join(work, "export")
	if _, err := WriteSyntheticArchiveWith(src, n, 1, vocab); err != nil {
		tb.Fatal(err)
	}
	clock := archivetest.NewClock(archivetest.Start)
	opts := archivetest.Options(filepath.Join(work, "data"), clock, archivetest.DiskOpener(filepath.Join(work, "store")))
	opts.Concurrency = 16
	a, _, err := archive.Init(ctx, opts, "disk")
	if err != nil {
		tb.Fatal(err)
	}
	defer a.Close()
	runtime.GC()
	var peak uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var ms runtime.MemStats
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	start := time.Now()
	acct := archive.Account{Platform: Platform, Handle: SyntheticHandle, Key: archive.AccountKey(Platform, SyntheticHandle)}
	w, err := a.BeginCapture(ctx, archive.CaptureOptions{Collector: "import:x-archive", Account: acct.Key, Sources: []string{src}})
	if err != nil {
		tb.Fatal(err)
	}
	if err := NewArchiveImporter().Import(ctx, collect.Source{Name: src, FS: os.DirFS(src), Path: "."}, acct, collect.CaptureSink{CaptureWriter: w}); err != nil {
		w.Abort()
		tb.Fatal(err)
	}
	importDone := time.Since(start)
	res, err = w.Commit(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	el := time.Since(start)
	tb.Logf("%d tweets: import %.1fs, commit %.1fs", n, importDone.Seconds(), (el - importDone).Seconds())
	close(stop)
	wg.Wait()
	return float64(res.Items) / el.Seconds(), float64(peak) / (1 << 20), res
}

// vmHWM is the process's peak resident set, in MiB.
func vmHWM() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}

// BenchmarkImportArchive imports synthetic archives of 20k and 100k
// tweets into the disk store: items/s end to end (commit included) and
// the peak heap in use, which stays flat as the archive grows. Run with
// go test -run '^$' -bench ImportArchive -benchtime 1x ./archive/collect/x/
func BenchmarkImportArchive(b *testing.B) {
	for _, n := range []int{20_000, 100_000} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			for b.Loop() {
				rate, heap, res := importSynthetic(b, n, SmallVocabulary)
				if res.Items != int64(n) || res.Errors != 0 {
					b.Fatalf("imported %d items with %d errors, want %d and none", res.Items, res.Errors, n)
				}
				b.ReportMetric(rate, "items/s")
				b.ReportMetric(heap, "peak-heap-MiB")
				b.ReportMetric(vmHWM(), "peak-rss-MiB")
			}
		})
	}
}

// TestImportSyntheticArchive checks the synthetic archive, in both
// vocabularies, imports whole into a disk-store archive.
func TestImportSyntheticArchive(t *testing.T) {
	for _, vocab := range []Vocabulary{SmallVocabulary, ZipfVocabulary} {
		rate, heap, res := importSynthetic(t, 3000, vocab)
		if res.Items != 3000 || res.Errors != 0 || res.NewVersions != 3000 {
			t.Fatalf("vocabulary %d: imported %+v, want 3000 items and versions, no error", vocab, res)
		}
		t.Logf("3,000 tweets, vocabulary %d: %.0f items/s, peak heap %.0f MiB", vocab, rate, heap)
	}
}

// discardSink checks and hashes items as the capture writer does, and
// keeps nothing: it measures the importer without the store.
type discardSink struct{ items, bad int }

func (d *discardSink) PutRaw(ctx context.Context, body []byte, source, lines, mediaType string) (archive.Digest, error) {
	return archive.Sum(body), nil
}

func (d *discardSink) AddItem(ctx context.Context, it archive.Item, o archive.ItemOptions) error {
	if err := archive.NormaliseItem(&it); err != nil {
		return err
	}
	c, err := it.CanonicalJSON()
	archive.Sum(c)
	d.items++
	return err
}

func (d *discardSink) Bad(e *archive.InputError)                                    { d.bad++ }
func (d *discardSink) Complete(s archive.Scope)                                     {}
func (d *discardSink) SetState(state json.RawMessage)                               {}
func (d *discardSink) PutMediaFile(ctx context.Context, dl *collect.Download) error { return nil }

// BenchmarkImportArchiveReader is the importer alone (reading, decoding,
// normalising, hashing) over a 100k-tweet archive, without the store.
func BenchmarkImportArchiveReader(b *testing.B) {
	dir := b.TempDir()
	if _, err := WriteSyntheticArchive(dir, 100_000, 1); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		d := &discardSink{}
		start := time.Now()
		err := NewArchiveImporter().Import(context.Background(), collect.Source{Name: dir, FS: os.DirFS(dir), Path: "."}, archive.Account{Platform: Platform, Handle: SyntheticHandle}, d)
		if err != nil || d.items != 100_000 || d.bad != 0 {
			b.Fatalf("%d items, %d bad, %v", d.items, d.bad, err)
		}
		b.ReportMetric(float64(d.items)/time.Since(start).Seconds(), "items/s")
	}
}
