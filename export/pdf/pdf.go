// Package pdf writes an export as PDF: one PDF per thread (a post and
// every exported comment and reply on it, in the order they were made)
// in a directory, or, when the output path ends in ".pdf", one PDF for
// the whole selection.
//
// Every page carries the account and thread it is of, the export's time,
// exporter and journal head, and "page N of M"; every item shows its key,
// account, author, dates, removed-at-source and edited markers, each
// exported version's SHA-256 and capture time, where redactions were made,
// its text, and its media images (JPEG, PNG, GIF). An item that runs onto
// a new page has its key, dates, version digests and capture times
// repeated at the top of that page. The text is real, searchable text in
// the Go fonts (embedded, subset). A character the font cannot show, and
// any invisible bidirectional control, is written as [U+XXXX], so hostile
// text cannot hide or reorder what a page shows; long words are broken
// across lines.
//
// A directory export also holds index.csv (each PDF with its thread, item
// count, page count and SHA-256) and manifest-sha256.txt (every file's
// SHA-256, as sha256sum -c reads it).
//
// Items arrive in the selection's order, not thread by thread: each is
// spooled, in a temporary directory beside the output, to its thread's
// file, and Finish lays out each thread in turn, so memory holds one
// thread at a time (the single-PDF form holds the whole document).
package pdf

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/osmarc/osmarc/export"
)

// FormatName is the --format name.
const FormatName = "pdf"

// NewFormat returns the PDF format for an export registry.
func NewFormat() export.Format {
	return export.Format{
		Name:        FormatName,
		Description: "PDF: one per thread in a directory, or one for the whole selection when --out ends in .pdf",
		Dir:         true,
		New:         func() export.Writer { return &Writer{} },
	}
}

// Writer writes one PDF export; see the package doc.
type Writer struct {
	m       export.Meta
	single  bool
	spool   string
	threads map[string]*thread
	items   int
	vers    int
	done    bool
	begun   bool
}

type thread struct {
	key   string
	file  string
	items int
}

var _ export.Writer = (*Writer)(nil)

// Begin checks the output path and makes the spool directory.
func (w *Writer) Begin(ctx context.Context, m export.Meta) error {
	if err := export.CheckOut(m.Out, m.Force); err != nil {
		return err
	}
	w.m, w.threads = m, map[string]*thread{}
	w.single = strings.EqualFold(filepath.Ext(m.Out), ".pdf")
	sp, err := os.MkdirTemp(filepath.Dir(m.Out), "."+filepath.Base(m.Out)+".spool-")
	if err != nil {
		return fmt.Errorf("pdf: cannot write %s: %w", m.Out, err)
	}
	w.spool, w.begun = sp, true
	return nil
}

// Write spools the item to its thread's file.
func (w *Writer) Write(ctx context.Context, it *export.Item) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	tk := it.ThreadKey
	if tk == "" {
		tk = it.Key
	}
	th := w.threads[tk]
	if th == nil {
		sum := sha256.Sum256([]byte(tk))
		th = &thread{key: tk, file: filepath.Join(w.spool, hex.EncodeToString(sum[:16])+".jsonl")}
		w.threads[tk] = th
	}
	f, err := os.OpenFile(th.file, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("pdf: spool: %w", err)
	}
	bw := bufio.NewWriter(f)
	err = export.MarshalItemJSON(bw, it)
	if err == nil {
		err = bw.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("pdf: spool %s: %w", it.Key, err)
	}
	th.items++
	w.items++
	w.vers += len(it.Versions)
	return nil
}

// readThread reads a thread's items back, the root first, then the rest
// in the order they were made (by key when made at the same time).
func readThread(th *thread) ([]*export.Item, error) {
	f, err := os.Open(th.file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var items []*export.Item
	dec := json.NewDecoder(bufio.NewReaderSize(f, 256<<10))
	for {
		var it export.Item
		if err := dec.Decode(&it); err == io.EOF {
			break
		} else if err != nil {
			return nil, fmt.Errorf("spool of thread %s: %w", th.key, err)
		}
		items = append(items, &it)
	}
	sort.SliceStable(items, func(i, j int) bool {
		a, b := items[i], items[j]
		if (a.Key == th.key) != (b.Key == th.key) {
			return a.Key == th.key
		}
		if !a.CreatedAt.Equal(b.CreatedAt) {
			return a.CreatedAt.Before(b.CreatedAt)
		}
		return a.Key < b.Key
	})
	return items, nil
}

func (w *Writer) threadKeys() []string {
	keys := make([]string, 0, len(w.threads))
	for k := range w.threads {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func (w *Writer) heading(th *thread, first *export.Item) string {
	return fmt.Sprintf("%s/%s · thread %s", first.Platform, first.Account, th.key)
}

// Finish lays out the PDFs and moves the export into place.
func (w *Writer) Finish(ctx context.Context) (export.Manifest, error) {
	if w.done || !w.begun {
		return export.Manifest{}, errors.New("pdf: export not begun or already ended")
	}
	defer os.RemoveAll(w.spool)
	var man export.Manifest
	var err error
	if w.single {
		man, err = w.finishSingle(ctx)
	} else {
		man, err = w.finishDir(ctx)
	}
	if err != nil {
		return export.Manifest{}, err
	}
	w.done = true
	return man, nil
}

func (w *Writer) finishSingle(ctx context.Context) (export.Manifest, error) {
	pf, err := export.NewPendingFile(w.m.Out, w.m.Force)
	if err != nil {
		return export.Manifest{}, err
	}
	fail := func(err error) (export.Manifest, error) {
		pf.Abort()
		return export.Manifest{}, fmt.Errorf("pdf: write %s: %w", w.m.Out, err)
	}
	d := newDoc(ctx, &w.m, "osmarc export: "+w.m.Selection.String())
	for _, tk := range w.threadKeys() {
		th := w.threads[tk]
		items, err := readThread(th)
		if err != nil {
			return fail(err)
		}
		d.heading = w.heading(th, items[0])
		if d.f.PageNo() > 0 {
			d.f.AddPage()
		}
		for _, it := range items {
			if err := ctx.Err(); err != nil {
				return fail(err)
			}
			if err := d.item(it); err != nil {
				return fail(err)
			}
		}
	}
	if _, err := d.write(pf); err != nil {
		return fail(err)
	}
	f, err := pf.Commit()
	if err != nil {
		return export.Manifest{}, err
	}
	return export.Manifest{Format: FormatName, Path: f.Path, Items: w.items, Versions: w.vers, Files: []export.File{f},
		Bytes: f.Size, SHA256: f.SHA256, DigestOf: "the PDF file"}, nil
}

// fileName names a thread's PDF: its number in the export, then its key
// with anything but letters, digits, '.', '-' and '@' made '_' (the
// number keeps names unique).
func fileName(n int, key string) string {
	var b strings.Builder
	for _, r := range key {
		switch {
		case r < 0x80 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '@'):
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	s := b.String()
	if len(s) > 100 {
		s = s[:100]
	}
	return fmt.Sprintf("%05d_%s.pdf", n, s)
}

func (w *Writer) finishDir(ctx context.Context) (export.Manifest, error) {
	pd, err := export.NewPendingDir(w.m.Out, w.m.Force)
	if err != nil {
		return export.Manifest{}, err
	}
	fail := func(err error) (export.Manifest, error) {
		pd.Abort()
		return export.Manifest{}, fmt.Errorf("pdf: write %s: %w", w.m.Out, err)
	}
	// The manifest and index.csv are hashed and counted as they are
	// written.
	var total int64
	manFile, err := os.Create(filepath.Join(pd.Tmp, "manifest-sha256.txt"))
	if err != nil {
		return fail(err)
	}
	defer manFile.Close()
	manHash := sha256.New()
	manCount := &countWriter{w: io.MultiWriter(manFile, manHash)}
	sums := bufio.NewWriterSize(manCount, 64<<10)
	idxFile, err := os.Create(filepath.Join(pd.Tmp, "index.csv"))
	if err != nil {
		return fail(err)
	}
	defer idxFile.Close()
	idxHash := sha256.New()
	idxCount := &countWriter{w: io.MultiWriter(idxFile, idxHash)}
	idx := csv.NewWriter(idxCount)
	idx.Write([]string{"file", "thread_key", "account", "items", "pages", "sha256"})
	for n, tk := range w.threadKeys() {
		th := w.threads[tk]
		items, err := readThread(th)
		if err != nil {
			return fail(err)
		}
		d := newDoc(ctx, &w.m, "osmarc export: thread "+tk)
		d.heading = w.heading(th, items[0])
		for _, it := range items {
			if err := ctx.Err(); err != nil {
				return fail(err)
			}
			if err := d.item(it); err != nil {
				return fail(err)
			}
		}
		name := fileName(n+1, tk)
		f, err := os.OpenFile(filepath.Join(pd.Tmp, name), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
		if err != nil {
			return fail(err)
		}
		h := sha256.New()
		cw := &countWriter{w: io.MultiWriter(f, h)}
		pages, err := d.write(cw)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fail(fmt.Errorf("%s: %w", name, err))
		}
		sum := hex.EncodeToString(h.Sum(nil))
		fmt.Fprintf(sums, "%s  %s\n", sum, name)
		total += cw.n
		// A formula in a key is not run by a spreadsheet: keys are
		// escaped, so none begins with = + - @.
		idx.Write([]string{name, tk, items[0].Platform + "/" + items[0].Account, strconv.Itoa(len(items)), strconv.Itoa(pages), sum})
	}
	idx.Flush()
	if err := idx.Error(); err != nil {
		return fail(err)
	}
	if err := idxFile.Close(); err != nil {
		return fail(err)
	}
	idxSum, idxSize := hex.EncodeToString(idxHash.Sum(nil)), idxCount.n
	total += idxSize
	fmt.Fprintf(sums, "%s  %s\n", idxSum, "index.csv")
	if err := sums.Flush(); err != nil {
		return fail(err)
	}
	if err := manFile.Close(); err != nil {
		return fail(err)
	}
	manSum, manSize := hex.EncodeToString(manHash.Sum(nil)), manCount.n
	total += manSize
	if err := pd.Commit(); err != nil {
		return export.Manifest{}, err
	}
	return export.Manifest{
		Format: FormatName, Path: w.m.Out, Items: w.items, Versions: w.vers,
		Files: []export.File{
			{Path: filepath.Join(w.m.Out, "index.csv"), Size: idxSize, SHA256: idxSum},
			{Path: filepath.Join(w.m.Out, "manifest-sha256.txt"), Size: manSize, SHA256: manSum},
		},
		Bytes: total, SHA256: manSum, DigestOf: "manifest-sha256.txt, which lists the SHA-256 of every other file",
	}, nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// Abort removes the spool (a pending output is removed where it fails).
func (w *Writer) Abort() error {
	if w.done || !w.begun {
		return nil
	}
	w.done = true
	return os.RemoveAll(w.spool)
}
