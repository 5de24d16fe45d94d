package index_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/archivetest"
	"github.com/osmarc/osmarc/archive/catalog"
	"github.com/osmarc/osmarc/index"
)

// BenchmarkIndexing measures what indexing costs per item: documents
// handed to the index a batch at a time, as a capture or a reindex does,
// then merged into one segment, as a reindex ends. It reports CPU time
// (user and system, of the whole process) per item beside the wall rate,
// since the machine is shared. Two corpora: the search benchmark's (a
// small vocabulary, every word common), and words drawn from a Zipf
// distribution over a large vocabulary, as real text is (most word pairs
// occur once).
//
//	go test ./index -run '^$' -bench Indexing -benchtime 1x
func BenchmarkIndexing(b *testing.B) {
	const n = 20000
	for _, c := range []struct {
		name string
		docs func() []index.Doc
	}{
		{"corpus", func() []index.Doc { return corpusDocs(b, n) }},
		{"zipf", func() []index.Doc { return zipfDocs(n) }},
	} {
		b.Run(c.name, func(b *testing.B) {
			docs := c.docs()
			b.ResetTimer()
			for range b.N {
				dir := filepath.Join(b.TempDir(), index.DirName)
				cpu0, wall0 := cpuTime(), time.Now()
				ix, err := index.Open(dir)
				if err != nil {
					b.Fatal(err)
				}
				if err := ix.IndexDocs(context.Background(), docs); err != nil {
					b.Fatal(err)
				}
				cpu1 := cpuTime()
				if err := ix.Compact(context.Background()); err != nil {
					b.Fatal(err)
				}
				if err := ix.Close(); err != nil {
					b.Fatal(err)
				}
				cpu2, wall := cpuTime(), time.Since(wall0)
				b.ReportMetric(float64((cpu1-cpu0).Microseconds())/1000/float64(len(docs)), "cpu-ms/item-batches")
				b.ReportMetric(float64((cpu2-cpu0).Microseconds())/1000/float64(len(docs)), "cpu-ms/item")
				b.ReportMetric(float64(len(docs))/wall.Seconds(), "items/s")
			}
		})
	}
}

func cpuTime() time.Duration {
	u, s := archivetest.CPU()
	return u + s
}

// corpusDocs are the documents of the search benchmark's corpus, as it
// builds them.
func corpusDocs(t testing.TB, n int) []index.Doc {
	var buf bytes.Buffer
	if _, err := archivetest.WriteCorpus(&buf, n, 1); err != nil {
		t.Fatal(err)
	}
	var docs []index.Doc
	sc := bufio.NewScanner(&buf)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		it, _, err := archive.ParseItemLine(sc.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		ci := catalog.Item{Key: it.Key(), Platform: it.Platform, Account: it.Account, ID: it.ID, Kind: it.Kind,
			CreatedAt: it.Created(), Versions: []catalog.Version{{}}}
		docs = append(docs, index.NewDoc(ci, &it, nil))
	}
	return docs
}

// zipfDocs are n documents of 5–60 words drawn from a vocabulary of
// 50,000 made-up words by Zipf's law.
func zipfDocs(n int) []index.Doc {
	r := rand.New(rand.NewPCG(7, 11))
	vocab := make([]string, 50000)
	for i := range vocab {
		var sb strings.Builder
		for range 3 + r.IntN(7) {
			sb.WriteByte(byte('a' + r.IntN(26)))
		}
		vocab[i] = sb.String()
	}
	z := rand.NewZipf(r, 1.1, 2, uint64(len(vocab)-1))
	base := time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC)
	docs := make([]index.Doc, n)
	for i := range docs {
		ws := make([]string, 5+r.IntN(56))
		for j := range ws {
			ws[j] = vocab[z.Uint64()]
		}
		d := index.Doc{Platform: "x", Account: "brigade3", ID: fmt.Sprint(i), Kind: "post", Lang: "en",
			Text: strings.Join(ws, " "), CreatedAt: base.Add(time.Duration(r.Int64N(8*365*24)) * time.Hour), Versions: 1}
		if r.IntN(10) == 0 {
			d.Lang = "fr"
		}
		d.Key = archive.ItemKey(d.Platform, d.Account, d.ID)
		docs[i] = d
	}
	return docs
}
