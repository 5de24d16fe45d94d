// Package bagit writes BagIt 1.0 bags (RFC 8493): a directory holding
// bagit.txt, the payload under data/, manifest-sha256.txt listing every
// payload file's SHA-256, bag-info.txt, and tagmanifest-sha256.txt listing
// the SHA-256 of each of those tag files.
//
// A Writer streams: each payload file is hashed while it is written, and
// only the digests stay in memory. It never writes into a directory that
// exists: Create reserves the name by making it (empty), builds the bag in
// a hidden sibling directory, and Finish moves the complete bag into
// place in one rename, so the name shows no bag or a whole one. Abort
// removes both.
package bagit

import (
	"bufio"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"unicode/utf8"
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
	info  []Field
	files map[string]string // payload path (under data/) → hex SHA-256
	bytes int64
	open  int
	done  bool
}

// Result says what Finish wrote.
type Result struct {
	Dir string `json:"dir"`
	// PayloadOxum is "octets.files" of the payload, as bag-info.txt has it.
	PayloadOxum string `json:"payload_oxum"`
	Files       int    `json:"files"`
	Bytes       int64  `json:"bytes"`
	// ManifestSHA256 and TagManifestSHA256 are the SHA-256 of the two
	// manifests: the tag manifest's digest identifies the whole bag.
	ManifestSHA256    string `json:"manifest_sha256"`
	TagManifestSHA256 string `json:"tagmanifest_sha256"`
}

// Create starts a bag in dir, which must not exist (ErrExists); its parent
// must.
func Create(dir string) (*Writer, error) {
	dir = filepath.Clean(dir)
	if err := os.Mkdir(dir, 0o750); err != nil {
		if errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("bagit: %s: %w (osmarc never writes into an existing directory)", dir, ErrExists)
		}
		return nil, fmt.Errorf("bagit: %w", err)
	}
	var rnd [6]byte
	rand.Read(rnd[:])
	tmp := filepath.Join(filepath.Dir(dir), "."+filepath.Base(dir)+".tmp-"+hex.EncodeToString(rnd[:]))
	if err := os.MkdirAll(filepath.Join(tmp, "data"), 0o750); err != nil {
		os.Remove(dir)
		return nil, fmt.Errorf("bagit: %w", err)
	}
	return &Writer{final: dir, tmp: tmp, files: map[string]string{}}, nil
}

// Dir is where the bag will be.
func (w *Writer) Dir() string { return w.final }

// AddInfo adds a line to bag-info.txt. Labels may repeat; Payload-Oxum is
// written by Finish. Line breaks in a value become spaces.
func (w *Writer) AddInfo(label, value string) error {
	label = strings.TrimSpace(label)
	if label == "" || strings.ContainsAny(label, ":\r\n") || !utf8.ValidString(label) {
		return fmt.Errorf("bagit: bag-info label %q: want a non-empty label without colons or line breaks", label)
	}
	if strings.EqualFold(label, "Payload-Oxum") {
		return fmt.Errorf("bagit: Payload-Oxum is computed")
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
// is written; its Close records it in the manifest. Names must be unique.
func (w *Writer) Create(name string) (io.WriteCloser, error) {
	if w.done {
		return nil, errors.New("bagit: bag already finished")
	}
	if err := CheckName(name); err != nil {
		return nil, err
	}
	if _, dup := w.files[name]; dup {
		return nil, fmt.Errorf("bagit: payload file %s written twice", name)
	}
	p := filepath.Join(w.tmp, "data", filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
		return nil, fmt.Errorf("bagit: %w", err)
	}
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return nil, fmt.Errorf("bagit: %w", err)
	}
	w.files[name] = "" // taken; the digest comes at Close
	w.open++
	h := sha256.New()
	bw := bufio.NewWriterSize(io.MultiWriter(f, h), 64<<10)
	return &payloadFile{w: w, name: name, f: f, h: h, bw: bw}, nil
}

type payloadFile struct {
	w      *Writer
	name   string
	f      *os.File
	h      hash.Hash
	bw     *bufio.Writer
	n      int64
	closed bool
}

func (p *payloadFile) Write(b []byte) (int, error) {
	n, err := p.bw.Write(b)
	p.n += int64(n)
	return n, err
}

func (p *payloadFile) Close() error {
	if p.closed {
		return nil
	}
	p.closed = true
	p.w.open--
	err := p.bw.Flush()
	if err == nil {
		err = p.f.Sync()
	}
	if cerr := p.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("bagit: write %s: %w", p.name, err)
	}
	p.w.files[p.name] = hex.EncodeToString(p.h.Sum(nil))
	p.w.bytes += p.n
	return nil
}

// encodePath writes a manifest path as RFC 8493 §2.1.3 asks: CR, LF and %
// percent-encoded.
func encodePath(p string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(p)
}

// writeTag writes a tag file into the bag and returns its SHA-256.
func (w *Writer) writeTag(name, content string) (string, error) {
	p := filepath.Join(w.tmp, name)
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return "", fmt.Errorf("bagit: %w", err)
	}
	_, err = io.WriteString(f, content)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", fmt.Errorf("bagit: write %s: %w", name, err)
	}
	sum := sha256.Sum256([]byte(content))
	return hex.EncodeToString(sum[:]), nil
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
	names := make([]string, 0, len(w.files))
	for n, sum := range w.files {
		if sum == "" {
			return Result{}, fmt.Errorf("bagit: payload file %s was not closed cleanly", n)
		}
		names = append(names, n)
	}
	sort.Strings(names)
	res := Result{Dir: w.final, Files: len(names), Bytes: w.bytes, PayloadOxum: strconv.FormatInt(w.bytes, 10) + "." + strconv.Itoa(len(names))}

	tags := map[string]string{}
	var err error
	if tags["bagit.txt"], err = w.writeTag("bagit.txt", "BagIt-Version: "+Version+"\nTag-File-Character-Encoding: UTF-8\n"); err != nil {
		return res, err
	}
	var m strings.Builder
	for _, n := range names {
		m.WriteString(w.files[n] + "  " + encodePath(path.Join("data", n)) + "\n")
	}
	if tags["manifest-sha256.txt"], err = w.writeTag("manifest-sha256.txt", m.String()); err != nil {
		return res, err
	}
	res.ManifestSHA256 = tags["manifest-sha256.txt"]
	var info strings.Builder
	for _, f := range w.info {
		info.WriteString(f.Label + ": " + f.Value + "\n")
	}
	info.WriteString("Payload-Oxum: " + res.PayloadOxum + "\n")
	if tags["bag-info.txt"], err = w.writeTag("bag-info.txt", info.String()); err != nil {
		return res, err
	}
	var tm strings.Builder
	for _, n := range []string{"bag-info.txt", "bagit.txt", "manifest-sha256.txt"} {
		tm.WriteString(tags[n] + "  " + n + "\n")
	}
	if res.TagManifestSHA256, err = w.writeTag("tagmanifest-sha256.txt", tm.String()); err != nil {
		return res, err
	}
	if err := syncTree(w.tmp); err != nil {
		return res, err
	}
	// The reserved directory is empty: rename(2) replaces it in one step,
	// and fails if anything was put in it meanwhile. (os.Rename refuses any
	// directory as the target, so the system call is made directly.)
	if err := syscall.Rename(w.tmp, w.final); err != nil {
		return res, fmt.Errorf("bagit: move the bag into %s: %w", w.final, err)
	}
	syncDir(filepath.Dir(w.final))
	return res, nil
}

// Abort removes the bag being built and the reserved directory.
func (w *Writer) Abort() error {
	if w.done {
		return nil
	}
	w.done = true
	err := os.RemoveAll(w.tmp)
	// Remove the reservation only while it is still empty: it is ours.
	if rerr := os.Remove(w.final); rerr != nil && !errors.Is(rerr, os.ErrNotExist) && err == nil {
		err = rerr
	}
	return err
}

// syncTree makes the directories of the bag durable (the files were
// synced as they were closed).
func syncTree(root string) error {
	return filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			syncDir(p)
		}
		return nil
	})
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}
