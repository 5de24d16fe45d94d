// Package bagit writes and verifies BagIt 1.0 bags (RFC 8493).
//
// A Writer builds a bag: bagit.txt, the payload under data/, a payload
// manifest for SHA-256 and one for SHA-512 (every payload file in both),
// bag-info.txt (the caller's fields, then Payload-Oxum and Bag-Size), and
// tag manifests for SHA-256 and SHA-512 covering every tag file.
//
// A Writer streams: each payload file is hashed while it is written and
// its manifest lines are appended as it is closed, so memory does not
// grow with the number of files. Files written by several goroutines at
// once can still be listed in an order that does not depend on which
// finishes first: Reserve takes the next place in the manifests for a
// Batch of files, whose lines are written there once the batch is Done
// (a bounded number of places are held at once). Files are not synced one
// by one: Finish syncs the file system once, then each directory of the
// bag, before the bag takes its name (then the parent directory is
// synced), so a finished bag survives a crash whole; Flush may start the
// disk on it earlier. It never writes into a directory that exists: Create reserves
// the name by making it (empty), builds the bag in a hidden sibling
// directory, and Finish moves the complete bag into place in one rename,
// so the name shows no bag or a whole one. With Force an existing
// directory is replaced, but only by a complete bag, at Finish. Abort
// removes what was written.
//
// Verify checks any bag, osmarc's or another tool's, and names each
// problem.
package bagit

import (
	"bufio"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"unicode/utf8"

	"golang.org/x/sys/unix"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/export"
)

// Version is the BagIt version written.
const Version = "1.0"

// ErrExists: the bag's directory already exists; nothing was written.
var ErrExists = errors.New("already exists")

// Field is one line of bag-info.txt.
type Field struct {
	Label string
	Value string
}

// Writer builds one bag.
type Writer struct {
	final string
	tmp   string
	force bool
	info  []Field
	// The payload manifests, appended to as files close.
	m256, m512 *manifestFile
	// mu guards the manifests, counts and queue: payload files may be
	// written and closed from several goroutines at once.
	mu    sync.Mutex
	files int64
	bytes int64
	open  int
	done  bool
	// queue holds the reserved places in the manifests, oldest first;
	// the first is written out when its batch is done. room is signalled
	// when places are freed.
	queue []*Batch
	room  *sync.Cond
	// dirs are the directories made under data/, synced by Finish.
	dirs map[string]bool
	// flushed is closed when the background sync Flush started ends.
	flushed chan struct{}
}

// maxPending is how many places in the manifests (reserved batches and
// files waiting behind them) a Writer holds before Reserve waits.
const maxPending = 4096

// entry is a closed payload file's manifest lines to be.
type entry struct {
	name string
	s256 [sha256.Size]byte
	s512 [sha512.Size]byte
	n    int64
}

// Batch is a place in the manifests reserved for payload files written
// later, perhaps on another goroutine: its files' lines go where Reserve
// put the batch, in the order the batch's files were closed. One batch
// is used by one goroutine.
type Batch struct {
	w       *Writer
	entries []entry
	done    bool
}

// Result says what Finish wrote.
type Result struct {
	Dir string `json:"dir"`
	// PayloadOxum is "octets.files" of the payload, as bag-info.txt has it.
	PayloadOxum string `json:"payload_oxum"`
	Files       int    `json:"files"`
	Bytes       int64  `json:"bytes"`
	// BagSize is the payload's size for people ("12.4 MB").
	BagSize string `json:"bag_size"`
	// ManifestSHA256 and TagManifestSHA256 are the SHA-256 of the two
	// SHA-256 manifests: the tag manifest's digest identifies the whole
	// bag.
	ManifestSHA256    string `json:"manifest_sha256"`
	TagManifestSHA256 string `json:"tagmanifest_sha256"`
	// TagFiles are the tag files with their sizes and SHA-256.
	TagFiles []TagFile `json:"tag_files"`
}

// TagFile is one tag file of a finished bag.
type TagFile struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// Options change how a bag is created.
type Options struct {
	// Force replaces an existing directory, once the new bag is complete.
	Force bool
}

// Create starts a bag in dir, which must not exist (ErrExists); its parent
// must.
func Create(dir string) (*Writer, error) { return CreateWith(dir, Options{}) }

// CreateWith starts a bag in dir.
func CreateWith(dir string, o Options) (*Writer, error) {
	dir = filepath.Clean(dir)
	if !o.Force {
		if err := os.Mkdir(dir, 0o750); err != nil {
			if errors.Is(err, os.ErrExist) {
				return nil, fmt.Errorf("bagit: %s: %w (osmarc never writes into an existing directory)", dir, ErrExists)
			}
			return nil, fmt.Errorf("bagit: %w", err)
		}
	} else if _, err := os.Stat(filepath.Dir(dir)); err != nil {
		return nil, fmt.Errorf("bagit: %w", err)
	}
	tmp := export.TempSibling(dir, "incomplete")
	w := &Writer{final: dir, tmp: tmp, force: o.Force, dirs: map[string]bool{}}
	w.room = sync.NewCond(&w.mu)
	fail := func(err error) (*Writer, error) {
		w.Abort()
		return nil, fmt.Errorf("bagit: %w", err)
	}
	if err := os.MkdirAll(filepath.Join(tmp, "data"), 0o750); err != nil {
		return fail(err)
	}
	var err error
	if w.m256, err = createManifest(tmp, "manifest-sha256.txt"); err != nil {
		return fail(err)
	}
	if w.m512, err = createManifest(tmp, "manifest-sha512.txt"); err != nil {
		return fail(err)
	}
	return w, nil
}

// manifestFile is a payload manifest being appended to; it is hashed
// (SHA-256 and SHA-512, for the tag manifests) and counted as it is
// written, so Finish need not read it back.
type manifestFile struct {
	name       string
	f          *os.File
	bw         *bufio.Writer
	h256, h512 hash.Hash
	n          int64
}

func createManifest(dir, name string) (*manifestFile, error) {
	f, err := os.OpenFile(filepath.Join(dir, name), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return nil, err
	}
	m := &manifestFile{name: name, f: f, h256: sha256.New(), h512: sha512.New()}
	m.bw = bufio.NewWriterSize(writerFunc(m.write), 64<<10)
	return m, nil
}

func (m *manifestFile) write(p []byte) (int, error) {
	n, err := m.f.Write(p)
	m.h256.Write(p[:n])
	m.h512.Write(p[:n])
	m.n += int64(n)
	return n, err
}

// close flushes and closes the manifest and returns it as a tag file,
// with its SHA-512.
func (m *manifestFile) close() (TagFile, string, error) {
	err := m.bw.Flush()
	if cerr := m.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return TagFile{}, "", err
	}
	return TagFile{Name: m.name, Size: m.n, SHA256: hex.EncodeToString(m.h256.Sum(nil))}, hex.EncodeToString(m.h512.Sum(nil)), nil
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// Dir is where the bag will be.
func (w *Writer) Dir() string { return w.final }

// AddInfo adds a line to bag-info.txt. Labels may repeat; Payload-Oxum and
// Bag-Size are written by Finish. Line breaks in a value become spaces.
func (w *Writer) AddInfo(label, value string) error {
	label = strings.TrimSpace(label)
	if label == "" || strings.ContainsAny(label, ":\r\n") || !utf8.ValidString(label) {
		return fmt.Errorf("bagit: bag-info label %q: want a non-empty label without colons or line breaks", label)
	}
	if strings.EqualFold(label, "Payload-Oxum") || strings.EqualFold(label, "Bag-Size") {
		return fmt.Errorf("bagit: %s is computed", label)
	}
	value = strings.Join(strings.Fields(strings.ToValidUTF8(value, "\uFFFD")), " ")
	w.info = append(w.info, Field{label, value})
	return nil
}

// CheckName reports whether name is a payload path the writer takes: a
// relative slash-separated path of valid UTF-8, without empty, "." or
// ".." elements, backslashes or control characters.
func CheckName(name string) error {
	if name == "" || !utf8.ValidString(name) || strings.HasPrefix(name, "/") || strings.Contains(name, "\\") || strings.TrimSpace(name) != name {
		return fmt.Errorf("bagit: payload name %q is not a relative slash-separated path", name)
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("bagit: payload name %q has a control character", name)
		}
	}
	for _, el := range strings.Split(name, "/") {
		if el == "" || el == "." || el == ".." {
			return fmt.Errorf("bagit: payload name %q has an empty, . or .. element", name)
		}
	}
	return nil
}

// Create opens a new payload file at data/name. The file is hashed as it
// is written; its Close records it in the manifests. Names must be unique.
// Create and the files' Close may be called from several goroutines; one
// file is written by one goroutine.
func (w *Writer) Create(name string) (io.WriteCloser, error) { return w.create(name, nil) }

func (w *Writer) create(name string, b *Batch) (io.WriteCloser, error) {
	if w.done {
		return nil, errors.New("bagit: bag already finished")
	}
	if err := CheckName(name); err != nil {
		return nil, err
	}
	p := filepath.Join(w.tmp, "data", filepath.FromSlash(name))
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if errors.Is(err, os.ErrNotExist) {
		if err = w.mkdirs(filepath.Dir(p)); err == nil {
			f, err = os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
		}
	}
	if errors.Is(err, os.ErrExist) {
		return nil, fmt.Errorf("bagit: payload file %s written twice", name)
	}
	if err != nil {
		return nil, fmt.Errorf("bagit: %w", err)
	}
	w.mu.Lock()
	w.open++
	w.mu.Unlock()
	pf := &payloadFile{w: w, b: b, name: name, f: f, h256: sha256.New(), h512: sha512.New()}
	pf.bw = bufio.NewWriterSize(io.MultiWriter(f, pf.h256, pf.h512), 64<<10)
	return pf, nil
}

type payloadFile struct {
	w      *Writer
	b      *Batch
	name   string
	f      *os.File
	h256   hash.Hash
	h512   hash.Hash
	bw     *bufio.Writer
	n      int64
	closed bool
}

func (p *payloadFile) Write(b []byte) (int, error) {
	n, err := p.bw.Write(b)
	p.n += int64(n)
	if err != nil {
		return n, fmt.Errorf("bagit: write %s: %w", p.name, err)
	}
	return n, nil
}

// ReadFrom copies r into the file (io.Copy uses it).
func (p *payloadFile) ReadFrom(r io.Reader) (int64, error) {
	n, err := p.bw.ReadFrom(r)
	p.n += n
	return n, err
}

// sha256 is the SHA-256 of what was written so far (the file stays
// open).
func (p *payloadFile) sha256() (string, error) {
	if err := p.bw.Flush(); err != nil {
		return "", fmt.Errorf("bagit: write %s: %w", p.name, err)
	}
	return hex.EncodeToString(p.h256.Sum(nil)), nil
}

func (p *payloadFile) Close() error {
	if p.closed {
		return nil
	}
	p.closed = true
	err := p.bw.Flush()
	if cerr := p.f.Close(); err == nil {
		err = cerr
	}
	p.w.mu.Lock()
	p.w.open--
	p.w.mu.Unlock()
	if err != nil {
		return fmt.Errorf("bagit: write %s: %w", p.name, err)
	}
	e := entry{name: p.name, n: p.n}
	p.h256.Sum(e.s256[:0])
	p.h512.Sum(e.s512[:0])
	p.w.record(e, p.b)
	return nil
}

// record adds a closed payload file to the manifests and counts: to its
// batch when it has one, else at once (behind the places reserved, if
// any).
func (w *Writer) record(e entry, b *Batch) {
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case b != nil:
		b.entries = append(b.entries, e)
	case len(w.queue) == 0:
		w.writeEntry(&e)
	default:
		w.queue = append(w.queue, &Batch{w: w, entries: []entry{e}, done: true})
	}
}

// writeEntry writes a file's manifest lines; w.mu is held.
func (w *Writer) writeEntry(e *entry) {
	enc := encodePath(path.Join("data", e.name))
	var hx [2 * sha512.Size]byte
	hex.Encode(hx[:], e.s256[:])
	w.m256.bw.Write(hx[:2*sha256.Size])
	w.m256.bw.WriteString("  " + enc + "\n")
	hex.Encode(hx[:], e.s512[:])
	w.m512.bw.Write(hx[:])
	w.m512.bw.WriteString("  " + enc + "\n")
	w.files++
	w.bytes += e.n
}

// Reserve takes the next place in the manifests for a batch of files to
// be written, perhaps on another goroutine; their lines are written there
// once the batch is Done, whatever was closed meanwhile. It waits while
// too many places are held (so memory stays bounded): every batch
// reserved must be made Done, by a goroutine that does not wait for the
// caller of Reserve.
func (w *Writer) Reserve() *Batch {
	w.mu.Lock()
	defer w.mu.Unlock()
	for len(w.queue) >= maxPending {
		w.room.Wait()
	}
	b := &Batch{w: w}
	w.queue = append(w.queue, b)
	return b
}

// Create opens a payload file of the batch, as Writer.Create does.
func (b *Batch) Create(name string) (io.WriteCloser, error) { return b.w.create(name, b) }

// WriteFile writes a whole payload file of the batch, as Writer.WriteFile
// does.
func (b *Batch) WriteFile(name string, data []byte) error { return b.w.writeFile(name, data, b, nil) }

// writeFileSum is WriteFile of data whose SHA-256 the caller has.
func (b *Batch) writeFileSum(name string, data []byte, s256 *[sha256.Size]byte) error {
	return b.w.writeFile(name, data, b, s256)
}

// Done says the batch's files are all closed (or have failed: a file not
// closed is not listed). Its lines, and any after it that are ready, are
// written to the manifests. Done twice is a no-op.
func (b *Batch) Done() {
	w := b.w
	w.mu.Lock()
	defer w.mu.Unlock()
	if b.done {
		return
	}
	b.done = true
	i := 0
	for ; i < len(w.queue) && w.queue[i].done; i++ {
		for k := range w.queue[i].entries {
			w.writeEntry(&w.queue[i].entries[k])
		}
		w.queue[i] = nil
	}
	if i > 0 {
		w.queue = w.queue[i:]
		if len(w.queue) == 0 {
			w.queue = nil
		}
		w.room.Broadcast()
	}
}

// WriteFile writes a whole payload file at data/name, as Create, Write
// and Close would, in one write(2) with no buffer: the way to write the
// many small files of a large bag. It may be called from several
// goroutines at once.
func (w *Writer) WriteFile(name string, b []byte) error { return w.writeFile(name, b, nil, nil) }

// writeFile writes a payload file in batch (nil: listed at once); s256,
// when not nil, is b's SHA-256.
func (w *Writer) writeFile(name string, b []byte, batch *Batch, s256 *[sha256.Size]byte) error {
	if w.done {
		return errors.New("bagit: bag already finished")
	}
	if err := CheckName(name); err != nil {
		return err
	}
	p := filepath.Join(w.tmp, "data", filepath.FromSlash(name))
	const flags = unix.O_WRONLY | unix.O_CREAT | unix.O_EXCL | unix.O_CLOEXEC
	fd, err := unix.Open(p, flags, 0o640)
	if errors.Is(err, unix.ENOENT) {
		if err = w.mkdirs(filepath.Dir(p)); err == nil {
			fd, err = unix.Open(p, flags, 0o640)
		}
	}
	if errors.Is(err, unix.EEXIST) {
		return fmt.Errorf("bagit: payload file %s written twice", name)
	}
	if err != nil {
		return fmt.Errorf("bagit: write %s: %w", name, &os.PathError{Op: "open", Path: p, Err: err})
	}
	for rest := b; len(rest) > 0 && err == nil; {
		var n int
		n, err = unix.Write(fd, rest)
		if err == unix.EINTR {
			err = nil
		}
		rest = rest[max(n, 0):]
	}
	if cerr := unix.Close(fd); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("bagit: write %s: %w", name, &os.PathError{Op: "write", Path: p, Err: err})
	}
	e := entry{name: name, s512: sha512.Sum512(b), n: int64(len(b))}
	if s256 != nil {
		e.s256 = *s256
	} else {
		e.s256 = sha256.Sum256(b)
	}
	w.record(e, batch)
	return nil
}

// mkdirs makes a directory of the payload and its parents, and notes
// them for Finish to sync.
func (w *Writer) mkdirs(dir string) error {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	data := filepath.Join(w.tmp, "data")
	w.mu.Lock()
	defer w.mu.Unlock()
	for d := dir; len(d) > len(data) && !w.dirs[d]; d = filepath.Dir(d) {
		w.dirs[d] = true
	}
	return nil
}

// Flush starts writing what the bag holds so far to disk, in the
// background (one syncfs), so that the disk works while the caller goes
// on and Finish's sync, which it does not replace, waits less. Flush
// twice is a no-op. Call it from the goroutine that calls Finish.
func (w *Writer) Flush() {
	if w.flushed != nil || w.done {
		return
	}
	w.flushed = make(chan struct{})
	go func() {
		defer close(w.flushed)
		archive.SyncFS(w.tmp) // Finish's sync reports what fails
	}()
}

// sync makes the bag durable: one syncfs of its file system (much
// cheaper than an fsync per file), then an fsync of each of its
// directories, which Writer made and noted (no walk of the bag). A
// Flush still running is waited for first: this syncfs starts after
// every file of the bag was closed, and is the one that counts.
func (w *Writer) sync() error {
	if w.flushed != nil {
		<-w.flushed
	}
	if err := archive.SyncFS(w.tmp); err != nil {
		return err
	}
	archive.SyncDir(w.tmp)
	archive.SyncDir(filepath.Join(w.tmp, "data"))
	for d := range w.dirs {
		archive.SyncDir(d)
	}
	return nil
}

// encodePath writes a manifest path as RFC 8493 §2.1.3 asks: CR, LF and %
// percent-encoded.
func encodePath(p string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(p)
}

// writeTag writes a tag file into the bag and returns its SHA-256 and
// SHA-512.
func (w *Writer) writeTag(name, content string) (TagFile, string, error) {
	p := filepath.Join(w.tmp, name)
	if err := os.WriteFile(p, []byte(content), 0o640); err != nil {
		return TagFile{}, "", fmt.Errorf("bagit: write %s: %w", name, err)
	}
	s256 := sha256.Sum256([]byte(content))
	s512 := sha512.Sum512([]byte(content))
	return TagFile{Name: name, Size: int64(len(content)), SHA256: hex.EncodeToString(s256[:])}, hex.EncodeToString(s512[:]), nil
}

// HumanSize is a size for people, as Bag-Size has it ("12.4 MB").
func HumanSize(n int64) string {
	const unit = 1000
	if n < unit {
		return strconv.FormatInt(n, 10) + " bytes"
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %cB", float64(n)/float64(div), "kMGTPE"[exp])
}

// Finish writes the manifests and tag files and moves the bag into place.
// Every payload file must be closed. On error the bag is removed.
func (w *Writer) Finish() (Result, error) {
	if w.done {
		return Result{}, errors.New("bagit: bag already finished")
	}
	res, err := w.finish()
	if err != nil {
		w.Abort()
		return Result{}, err
	}
	w.done = true
	return res, nil
}

func (w *Writer) finish() (Result, error) {
	if w.open > 0 {
		return Result{}, fmt.Errorf("bagit: %d payload file(s) still open", w.open)
	}
	if len(w.queue) > 0 {
		return Result{}, errors.New("bagit: a batch of payload files is not done")
	}
	res := Result{Dir: w.final, Files: int(w.files), Bytes: w.bytes, PayloadOxum: strconv.FormatInt(w.bytes, 10) + "." + strconv.FormatInt(w.files, 10), BagSize: HumanSize(w.bytes)}
	var mans [2]TagFile
	var man512s [2]string
	for i, m := range []*manifestFile{w.m256, w.m512} {
		var err error
		if mans[i], man512s[i], err = m.close(); err != nil {
			return res, fmt.Errorf("bagit: write manifest: %w", err)
		}
	}
	var tags []TagFile
	sha512s := map[string]string{}
	bt, s5, err := w.writeTag("bagit.txt", "BagIt-Version: "+Version+"\nTag-File-Character-Encoding: UTF-8\n")
	if err != nil {
		return res, err
	}
	tags, sha512s[bt.Name] = append(tags, bt), s5
	var info strings.Builder
	for _, f := range w.info {
		info.WriteString(f.Label + ": " + f.Value + "\n")
	}
	info.WriteString("Payload-Oxum: " + res.PayloadOxum + "\n")
	info.WriteString("Bag-Size: " + res.BagSize + "\n")
	bi, s5, err := w.writeTag("bag-info.txt", info.String())
	if err != nil {
		return res, err
	}
	tags, sha512s[bi.Name] = append(tags, bi), s5
	for i, tf := range mans {
		tags, sha512s[tf.Name] = append(tags, tf), man512s[i]
	}
	res.ManifestSHA256 = mans[0].SHA256
	var t256, t512 strings.Builder
	for _, t := range tags {
		t256.WriteString(t.SHA256 + "  " + t.Name + "\n")
		t512.WriteString(sha512s[t.Name] + "  " + t.Name + "\n")
	}
	tm, _, err := w.writeTag("tagmanifest-sha256.txt", t256.String())
	if err != nil {
		return res, err
	}
	tm5, _, err := w.writeTag("tagmanifest-sha512.txt", t512.String())
	if err != nil {
		return res, err
	}
	res.TagManifestSHA256 = tm.SHA256
	res.TagFiles = append(tags, tm, tm5)
	if err := w.sync(); err != nil {
		return res, fmt.Errorf("bagit: sync: %w", err)
	}
	var old string
	if w.force {
		if _, err := os.Lstat(w.final); err == nil {
			old = export.TempSibling(w.final, "replaced")
			if err := os.Rename(w.final, old); err != nil {
				return res, fmt.Errorf("bagit: replace %s: %w", w.final, err)
			}
		}
	}
	// Without Force the reserved directory is empty: rename(2) replaces
	// it in one step, and fails if anything was put in it meanwhile.
	// (os.Rename refuses any directory as the target, so the system call
	// is made directly.)
	if err := syscall.Rename(w.tmp, w.final); err != nil {
		if old != "" {
			os.Rename(old, w.final)
		}
		return res, fmt.Errorf("bagit: move the bag into %s: %w", w.final, err)
	}
	archive.SyncDir(filepath.Dir(w.final))
	if old != "" {
		os.RemoveAll(old)
	}
	return res, nil
}

// Abort removes the bag being built and the reserved directory.
func (w *Writer) Abort() error {
	if w.done {
		return nil
	}
	w.done = true
	for _, m := range []*manifestFile{w.m256, w.m512} {
		if m != nil {
			m.f.Close()
		}
	}
	err := os.RemoveAll(w.tmp)
	if w.force {
		return err
	}
	// Remove the reservation only while it is still empty: it is ours.
	if rerr := os.Remove(w.final); rerr != nil && !errors.Is(rerr, os.ErrNotExist) && err == nil {
		err = rerr
	}
	return err
}
