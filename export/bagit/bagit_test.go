package bagit

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// checkBag reads a bag as an independent reader would: every manifest line
// names a file whose SHA-256 matches, every payload file is listed, the
// tag manifest covers the tag files, and Payload-Oxum adds up.
func checkBag(t *testing.T, dir string) map[string]string {
	t.Helper()
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	if got := read("bagit.txt"); got != "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n" {
		t.Fatalf("bagit.txt = %q", got)
	}
	sum := func(p string) string {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		h := sha256.New()
		io.Copy(h, f)
		return hex.EncodeToString(h.Sum(nil))
	}
	listed := map[string]string{}
	for _, m := range []string{"manifest-sha256.txt", "tagmanifest-sha256.txt"} {
		sc := bufio.NewScanner(strings.NewReader(read(m)))
		for sc.Scan() {
			hexsum, p, ok := strings.Cut(sc.Text(), " ")
			p = strings.TrimLeft(p, " ")
			if !ok || len(hexsum) != 64 {
				t.Fatalf("%s: bad line %q", m, sc.Text())
			}
			p = strings.NewReplacer("%0D", "\r", "%0A", "\n", "%25", "%").Replace(p)
			if got := sum(filepath.Join(dir, filepath.FromSlash(p))); got != hexsum {
				t.Fatalf("%s: %s has sha256 %s, manifest says %s", m, p, got, hexsum)
			}
			listed[p] = hexsum
		}
	}
	var octets, files int64
	filepath.WalkDir(filepath.Join(dir, "data"), func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if _, ok := listed[filepath.ToSlash(rel)]; !ok {
			t.Errorf("payload file %s is not in the manifest", rel)
		}
		fi, _ := d.Info()
		octets += fi.Size()
		files++
		return nil
	})
	for _, tag := range []string{"bagit.txt", "bag-info.txt", "manifest-sha256.txt"} {
		if _, ok := listed[tag]; !ok {
			t.Errorf("tag manifest does not cover %s", tag)
		}
	}
	var oxum string
	for _, l := range strings.Split(read("bag-info.txt"), "\n") {
		if v, ok := strings.CutPrefix(l, "Payload-Oxum: "); ok {
			oxum = v
		}
	}
	if want := strconv.FormatInt(octets, 10) + "." + strconv.FormatInt(files, 10); oxum != want {
		t.Errorf("Payload-Oxum %q, want %q", oxum, want)
	}
	return listed
}

func writeFile(t *testing.T, w *Writer, name, content string) {
	t.Helper()
	f, err := w.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	// Several writes, to exercise streaming.
	for _, part := range strings.SplitAfter(content, "\n") {
		if _, err := io.WriteString(f, part); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestWriteBag(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "prod")
	w, err := Create(dir)
	if err != nil {
		t.Fatal(err)
	}
	w.AddInfo("External-Identifier", "REQ-2026-0001")
	w.AddInfo("Internal-Sender-Description", "line one\nline two")
	writeFile(t, w, "items.jsonl", "{\"a\":1}\n{\"b\":2}\n")
	writeFile(t, w, "logs/withholding.csv", "key,code\n")
	writeFile(t, w, "odd name 100%.txt", "x")
	writeFile(t, w, "empty.txt", "")
	res, err := w.Finish()
	if err != nil {
		t.Fatal(err)
	}
	if res.Files != 4 || res.Bytes != 26 || res.PayloadOxum != "26.4" {
		t.Errorf("result %+v", res)
	}
	listed := checkBag(t, dir)
	if _, ok := listed["data/odd name 100%.txt"]; !ok {
		t.Errorf("percent-encoded name not read back: %v", listed)
	}
	info, _ := os.ReadFile(filepath.Join(dir, "bag-info.txt"))
	if !strings.Contains(string(info), "Internal-Sender-Description: line one line two\n") {
		t.Errorf("bag-info.txt:\n%s", info)
	}
	// Nothing is left beside the bag.
	ents, _ := os.ReadDir(filepath.Dir(dir))
	if len(ents) != 1 {
		t.Errorf("left beside the bag: %v", ents)
	}
}

func TestNeverOverwrites(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "prod")
	os.Mkdir(dir, 0o750)
	os.WriteFile(filepath.Join(dir, "keep.txt"), []byte("mine"), 0o640)
	if _, err := Create(dir); !errors.Is(err, ErrExists) {
		t.Fatalf("Create on an existing directory: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "keep.txt")); string(b) != "mine" {
		t.Fatal("existing directory changed")
	}
	// An empty directory counts as existing too.
	empty := filepath.Join(t.TempDir(), "empty")
	os.Mkdir(empty, 0o750)
	if _, err := Create(empty); !errors.Is(err, ErrExists) {
		t.Fatalf("Create on an empty directory: %v", err)
	}
	// Something put into the reserved directory while the bag is built
	// makes Finish fail rather than replace it.
	dir2 := filepath.Join(t.TempDir(), "prod")
	w, err := Create(dir2)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, w, "a.txt", "a")
	os.WriteFile(filepath.Join(dir2, "intruder"), []byte("x"), 0o640)
	if _, err := w.Finish(); err == nil {
		t.Fatal("Finish replaced a directory someone wrote into")
	}
	if b, _ := os.ReadFile(filepath.Join(dir2, "intruder")); string(b) != "x" {
		t.Fatal("intruder's file lost")
	}
}

func TestAbortAndBadNames(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "prod")
	w, err := Create(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"", "/abs", "../up", "a/../b", "a//b", "a\\b", "nl\nx", " lead", "./x"} {
		if _, err := w.Create(bad); err == nil {
			t.Errorf("Create(%q) accepted", bad)
		}
	}
	writeFile(t, w, "a.txt", "a")
	if _, err := w.Create("a.txt"); err == nil {
		t.Error("same payload name twice accepted")
	}
	f, _ := w.Create("open.txt")
	if _, err := w.Finish(); err == nil {
		t.Error("Finish with a file still open")
	}
	f.Close()
	ents, _ := os.ReadDir(parent)
	if len(ents) != 0 {
		t.Errorf("a failed bag left %v", ents)
	}
	if err := w.AddInfo("Payload-Oxum", "1.1"); err == nil {
		t.Error("Payload-Oxum set by hand")
	}
	if err := w.AddInfo("Bad:Label", "x"); err == nil {
		t.Error("label with a colon accepted")
	}
}

// Files written in reserved batches are listed in the order the batches
// were reserved, however their goroutines finish; a file closed without a
// batch while batches are pending goes after them; the bag is valid.
func TestBatchesKeepTheirPlace(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "bag")
	w, err := Create(dir)
	if err != nil {
		t.Fatal(err)
	}
	const n = 200
	var batches []*Batch
	for range n {
		batches = append(batches, w.Reserve())
	}
	writeFile(t, w, "direct.txt", "direct")
	var wg sync.WaitGroup
	for i := n - 1; i >= 0; i-- { // the last reserved finish first
		wg.Add(1)
		go func() {
			defer wg.Done()
			b := batches[i]
			if err := b.WriteFile(fmt.Sprintf("b/%03d-a.txt", i), []byte(strconv.Itoa(i))); err != nil {
				t.Error(err)
			}
			f, err := b.Create(fmt.Sprintf("b/%03d-b.txt", i))
			if err != nil {
				t.Error(err)
				return
			}
			f.Write([]byte("b"))
			f.Close()
			b.Done()
		}()
		if i%50 == 0 {
			wg.Wait()
		}
	}
	wg.Wait()
	if _, err := w.Finish(); err != nil {
		t.Fatal(err)
	}
	checkBag(t, dir)
	var want []string
	for i := range n {
		want = append(want, fmt.Sprintf("data/b/%03d-a.txt", i), fmt.Sprintf("data/b/%03d-b.txt", i))
	}
	want = append(want, "data/direct.txt")
	for _, m := range []string{"manifest-sha256.txt", "manifest-sha512.txt"} {
		b, _ := os.ReadFile(filepath.Join(dir, m))
		var got []string
		for _, l := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
			_, p, _ := strings.Cut(l, "  ")
			got = append(got, p)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s lists\n%v\nwant\n%v", m, got, want)
		}
	}
}

// A batch never made done fails Finish, which removes the bag.
func TestBatchNotDone(t *testing.T) {
	parent := t.TempDir()
	w, err := Create(filepath.Join(parent, "bag"))
	if err != nil {
		t.Fatal(err)
	}
	b := w.Reserve()
	b.WriteFile("a.txt", []byte("a"))
	if _, err := w.Finish(); err == nil {
		t.Fatal("Finish with a batch not done")
	}
	if ents, _ := os.ReadDir(parent); len(ents) != 0 {
		t.Errorf("left %v", ents)
	}
}

// Flush part way leaves the bag as it would be without it: files written
// after it are in the bag and its manifests; Flush twice is harmless; a
// bag aborted after a Flush leaves nothing.
func TestFlush(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "bag")
	w, err := Create(dir)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, w, "before.txt", "before")
	w.Flush()
	w.Flush()
	writeFile(t, w, "after/after.txt", "after")
	res, err := w.Finish()
	if err != nil {
		t.Fatal(err)
	}
	if res.Files != 2 {
		t.Errorf("result %+v", res)
	}
	listed := checkBag(t, dir)
	if _, ok := listed["data/after/after.txt"]; !ok {
		t.Errorf("file written after Flush not listed: %v", listed)
	}

	w2, err := Create(filepath.Join(parent, "bag2"))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, w2, "a.txt", "a")
	w2.Flush()
	w2.Abort()
	if ents, _ := os.ReadDir(parent); len(ents) != 1 {
		t.Errorf("left beside the bag: %v", ents)
	}
}
