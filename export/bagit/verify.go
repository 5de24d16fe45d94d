package bagit

import (
	"bufio"
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Problem is one thing wrong with a bag: the file it is about (relative
// to the bag, slash-separated) and what is wrong.
type Problem struct {
	Path    string `json:"path"`
	Problem string `json:"problem"`
}

func (p Problem) String() string {
	if p.Path == "" {
		return p.Problem
	}
	return p.Path + ": " + p.Problem
}

// Report is what Verify found.
type Report struct {
	Dir     string `json:"dir"`
	Version string `json:"bagit_version"`
	// Algorithms are the payload manifests' algorithms.
	Algorithms []string `json:"algorithms"`
	// Files and Bytes are the payload files found under data/.
	Files int   `json:"files"`
	Bytes int64 `json:"bytes"`
	// Info are bag-info.txt's fields, in order.
	Info     []Field   `json:"info,omitempty"`
	Problems []Problem `json:"problems"`
}

// Valid reports whether the bag has no problem.
func (r *Report) Valid() bool { return len(r.Problems) == 0 }

func (r *Report) add(p, format string, a ...any) {
	r.Problems = append(r.Problems, Problem{Path: p, Problem: fmt.Sprintf(format, a...)})
}

var hashes = map[string]func() hash.Hash{"md5": md5.New, "sha1": sha1.New, "sha256": sha256.New, "sha512": sha512.New}

var reManifest = regexp.MustCompile(`^(tag)?manifest-([a-z0-9]+)\.txt$`)

// Verify checks the bag in dir as RFC 8493 requires of a valid bag: the
// bag declaration; every payload manifest's lines (well formed, inside
// data/, naming a file whose digest matches); every payload file listed
// in every payload manifest; every tag manifest's files; Payload-Oxum;
// fetch.txt's files present. It reads every file once. The error is for
// a bag that cannot be read at all; every other fault is a Problem.
// progress, if set, is told of each payload file hashed.
func Verify(ctx context.Context, dir string, progress func(files int)) (*Report, error) {
	r := &Report{Dir: dir, Problems: []Problem{}}
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("bagit: verify: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("bagit: verify: %s is not a directory (unpack a serialised bag first)", dir)
	}
	r.checkDeclaration(dir)
	if st, err := os.Stat(filepath.Join(dir, "data")); err != nil || !st.IsDir() {
		r.add("data", "the payload directory is missing")
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("bagit: verify: %w", err)
	}
	payload := map[string]map[string]string{} // path → algorithm → digest
	tagLists := map[string]map[string]string{}
	var tagAlgs []string
	for _, e := range ents {
		m := reManifest.FindStringSubmatch(e.Name())
		if m == nil || e.IsDir() {
			continue
		}
		alg := m[2]
		if _, ok := hashes[alg]; !ok {
			r.add(e.Name(), "algorithm %q is not one this verifier knows (md5, sha1, sha256, sha512): not checked", alg)
			continue
		}
		lines := r.readManifest(dir, e.Name(), m[1] == "tag")
		if m[1] == "tag" {
			tagLists[alg] = lines
			tagAlgs = append(tagAlgs, alg)
			continue
		}
		r.Algorithms = append(r.Algorithms, alg)
		for p, d := range lines {
			if payload[p] == nil {
				payload[p] = map[string]string{}
			}
			payload[p][alg] = d
		}
	}
	sort.Strings(r.Algorithms)
	if len(r.Algorithms) == 0 {
		r.add("", "no payload manifest (manifest-<algorithm>.txt)")
	}
	fetched := r.readFetch(dir)

	// The payload: every file hashed once with every algorithm.
	seen := map[string]bool{}
	err = filepath.WalkDir(filepath.Join(dir, "data"), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if os.IsNotExist(err) {
				return nil
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			return nil
		}
		if !d.Type().IsRegular() {
			r.add(rel, "is not a regular file (a link or device)")
			return nil
		}
		seen[rel] = true
		want := payload[rel]
		algs := make([]string, 0, len(r.Algorithms))
		for _, alg := range r.Algorithms {
			if _, ok := want[alg]; !ok {
				r.add(rel, "is not listed in manifest-%s.txt", alg)
				continue
			}
			algs = append(algs, alg)
		}
		got, n, err := digestFile(p, algs)
		if err != nil {
			r.add(rel, "cannot be read: %v", err)
			return nil
		}
		r.Files++
		r.Bytes += n
		for _, alg := range algs {
			if got[alg] != want[alg] {
				r.add(rel, "%s is %s, manifest-%s.txt says %s", alg, got[alg], alg, want[alg])
			}
		}
		if progress != nil {
			progress(r.Files)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("bagit: verify: %w", err)
	}
	missing := make([]string, 0)
	for p := range payload {
		if !seen[p] {
			missing = append(missing, p)
		}
	}
	sort.Strings(missing)
	for _, p := range missing {
		if fetched[p] {
			r.add(p, "is listed in fetch.txt but not fetched: the bag is incomplete")
			continue
		}
		r.add(p, "is listed in the manifest but missing")
	}

	// Tag manifests.
	sort.Strings(tagAlgs)
	for _, alg := range tagAlgs {
		names := make([]string, 0, len(tagLists[alg]))
		for p := range tagLists[alg] {
			names = append(names, p)
		}
		sort.Strings(names)
		for _, p := range names {
			got, _, err := digestFile(filepath.Join(dir, filepath.FromSlash(p)), []string{alg})
			if err != nil {
				r.add(p, "is listed in tagmanifest-%s.txt but cannot be read: %v", alg, errText(err))
				continue
			}
			if got[alg] != tagLists[alg][p] {
				r.add(p, "%s is %s, tagmanifest-%s.txt says %s", alg, got[alg], alg, tagLists[alg][p])
			}
		}
	}
	r.checkOxum()
	return r, nil
}

func errText(err error) string {
	if os.IsNotExist(err) {
		return "it is missing"
	}
	return err.Error()
}

func digestFile(p string, algs []string) (map[string]string, int64, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	ws := make([]io.Writer, 0, len(algs))
	hs := make([]hash.Hash, len(algs))
	for i, alg := range algs {
		hs[i] = hashes[alg]()
		ws = append(ws, hs[i])
	}
	n, err := io.Copy(io.MultiWriter(ws...), f)
	if err != nil {
		return nil, n, err
	}
	out := map[string]string{}
	for i, alg := range algs {
		out[alg] = hex.EncodeToString(hs[i].Sum(nil))
	}
	return out, n, nil
}

var reDeclVersion = regexp.MustCompile(`^BagIt-Version: ([0-9]+)\.([0-9]+)$`)

func (r *Report) checkDeclaration(dir string) {
	b, err := os.ReadFile(filepath.Join(dir, "bagit.txt"))
	if err != nil {
		r.add("bagit.txt", "the bag declaration is missing: %v", errText(err))
		return
	}
	if bytes.HasPrefix(b, []byte("\xef\xbb\xbf")) {
		r.add("bagit.txt", "begins with a byte-order mark, which RFC 8493 §2.1.1 forbids")
		b = b[3:]
	}
	lines := strings.Split(strings.TrimRight(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n"), "\n")
	if len(lines) != 2 {
		r.add("bagit.txt", "has %d line(s); the declaration is exactly two: BagIt-Version and Tag-File-Character-Encoding", len(lines))
	}
	if m := reDeclVersion.FindStringSubmatch(lines[0]); m == nil {
		r.add("bagit.txt", "line 1 is %q, not \"BagIt-Version: M.N\"", lines[0])
	} else {
		r.Version = m[1] + "." + m[2]
	}
	if len(lines) < 2 || !strings.HasPrefix(lines[1], "Tag-File-Character-Encoding: ") {
		r.add("bagit.txt", "line 2 is not \"Tag-File-Character-Encoding: ENCODING\"")
	} else if enc := strings.TrimPrefix(lines[1], "Tag-File-Character-Encoding: "); !strings.EqualFold(enc, "UTF-8") {
		r.add("bagit.txt", "tag files are declared %s; this verifier reads UTF-8 only", enc)
	}
}

// readManifest reads a manifest's lines as path → digest, naming each
// malformed line.
func (r *Report) readManifest(dir, name string, tag bool) map[string]string {
	out := map[string]string{}
	f, err := os.Open(filepath.Join(dir, name))
	if err != nil {
		r.add(name, "cannot be read: %v", err)
		return out
	}
	defer f.Close()
	alg := reManifest.FindStringSubmatch(name)[2]
	size := hashes[alg]().Size() * 2
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSuffix(sc.Text(), "\r")
		if line == "" {
			continue
		}
		sum, p, ok := strings.Cut(line, " ")
		if !ok {
			sum, p, ok = strings.Cut(line, "\t")
		}
		p = strings.TrimLeft(p, " \t")
		if !ok || p == "" {
			r.add(name, "line %d is not \"DIGEST PATH\"", n)
			continue
		}
		sum = strings.ToLower(sum)
		if _, err := hex.DecodeString(sum); err != nil || len(sum) != size {
			r.add(name, "line %d: %q is not a %s digest", n, sum, alg)
			continue
		}
		p = decodePath(p)
		if !utf8.ValidString(p) || strings.HasPrefix(p, "/") || path.Clean(p) != p || p == ".." || strings.HasPrefix(p, "../") {
			r.add(name, "line %d: path %q is not a relative path inside the bag", n, p)
			continue
		}
		if !tag && !strings.HasPrefix(p, "data/") {
			r.add(name, "line %d: %s is outside data/ (a payload manifest lists payload files only)", n, p)
			continue
		}
		if _, dup := out[p]; dup {
			r.add(name, "line %d: %s is listed twice", n, p)
			continue
		}
		out[p] = sum
	}
	if err := sc.Err(); err != nil {
		r.add(name, "cannot be read: %v", err)
	}
	return out
}

func decodePath(p string) string {
	return strings.NewReplacer("%0D", "\r", "%0d", "\r", "%0A", "\n", "%0a", "\n", "%25", "%").Replace(p)
}

// readFetch reads fetch.txt's paths, when there is one.
func (r *Report) readFetch(dir string) map[string]bool {
	out := map[string]bool{}
	b, err := os.ReadFile(filepath.Join(dir, "fetch.txt"))
	if err != nil {
		return out
	}
	for i, line := range strings.Split(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		f := strings.Fields(line)
		if len(f) < 3 {
			r.add("fetch.txt", "line %d is not \"URL LENGTH PATH\"", i+1)
			continue
		}
		out[decodePath(strings.Join(f[2:], " "))] = true
	}
	return out
}

// checkOxum reads bag-info.txt and checks Payload-Oxum against what was
// found.
func (r *Report) checkOxum() {
	b, err := os.ReadFile(filepath.Join(r.Dir, "bag-info.txt"))
	if err != nil {
		return // optional
	}
	lines := strings.Split(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n")
	for i, line := range lines {
		if line == "" {
			continue
		}
		if line[0] == ' ' || line[0] == '\t' {
			if len(r.Info) == 0 {
				r.add("bag-info.txt", "line %d continues no field", i+1)
				continue
			}
			r.Info[len(r.Info)-1].Value += " " + strings.TrimSpace(line)
			continue
		}
		label, value, ok := strings.Cut(line, ":")
		if !ok {
			r.add("bag-info.txt", "line %d is not \"Label: value\"", i+1)
			continue
		}
		r.Info = append(r.Info, Field{Label: strings.TrimSpace(label), Value: strings.TrimSpace(value)})
	}
	for _, f := range r.Info {
		if !strings.EqualFold(f.Label, "Payload-Oxum") {
			continue
		}
		octets, files, ok := strings.Cut(f.Value, ".")
		o, err1 := strconv.ParseInt(octets, 10, 64)
		n, err2 := strconv.Atoi(files)
		if !ok || err1 != nil || err2 != nil {
			r.add("bag-info.txt", "Payload-Oxum %q is not OCTETS.FILES", f.Value)
			continue
		}
		if o != r.Bytes || n != r.Files {
			r.add("bag-info.txt", "Payload-Oxum says %d byte(s) in %d file(s); the payload holds %d byte(s) in %d file(s)", o, n, r.Bytes, r.Files)
		}
	}
}
