package archive_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/archivetest"
	"github.com/osmarc/osmarc/archive/diskstore"
	"github.com/osmarc/osmarc/archive/journal"
)

var update = flag.Bool("update", false, "rewrite the archive fixtures and golden files under testdata")

const fixtures = "../testdata/archives"

// damages turn a copy of the good archive's store into a damaged one. Each
// names what it does to the store directory.
var damages = []struct {
	name   string
	damage func(t *testing.T, dir string)
}{
	{"good", func(t *testing.T, dir string) {}},
	{"missing-blob", func(t *testing.T, dir string) {
		os.Remove(blobPath(t, dir, "facebook/3rd-brigade/101_2001", 0))
	}},
	{"flipped-byte", func(t *testing.T, dir string) {
		p := blobPath(t, dir, "facebook/3rd-brigade/101_2001_3001", 0)
		b, _ := os.ReadFile(p)
		b[len(b)/2] ^= 0x01
		os.WriteFile(p, b, 0o640)
	}},
	{"cut-manifest", func(t *testing.T, dir string) {
		p := manifests(t, dir)[0]
		b, _ := os.ReadFile(p)
		os.WriteFile(p, b[:len(b)/2], 0o640)
	}},
	{"altered-manifest", func(t *testing.T, dir string) {
		// Change what a capture says it saw and recompute the footer's own
		// hash: only the journal's record of the manifest's digest can
		// tell.
		p := manifests(t, dir)[0]
		b, _ := os.ReadFile(p)
		lines := bytes.SplitAfter(b, []byte("\n"))
		lines[2] = bytes.Replace(lines[2], []byte(`"likes":12`), []byte(`"likes":99`), 1)
		body := bytes.Join(lines[:len(lines)-2], nil)
		var footer map[string]any
		json.Unmarshal(lines[len(lines)-2], &footer)
		footer["sha256"] = journal.Hash(body)
		fb, _ := json.Marshal(footer)
		os.WriteFile(p, append(append(body, fb...), '\n'), 0o640)
	}},
	{"journal-changed", func(t *testing.T, dir string) {
		p := filepath.Join(dir, filepath.FromSlash(journal.Key(2)))
		b, _ := os.ReadFile(p)
		os.WriteFile(p, bytes.Replace(b, []byte("records.officer@"), []byte("someone.else@"), 1), 0o640)
	}},
	{"journal-removed", func(t *testing.T, dir string) {
		os.Remove(filepath.Join(dir, filepath.FromSlash(journal.Key(3))))
	}},
	{"journal-reordered", func(t *testing.T, dir string) {
		p3 := filepath.Join(dir, filepath.FromSlash(journal.Key(3)))
		p4 := filepath.Join(dir, filepath.FromSlash(journal.Key(4)))
		b3, _ := os.ReadFile(p3)
		b4, _ := os.ReadFile(p4)
		os.WriteFile(p3, b4, 0o640)
		os.WriteFile(p4, b3, 0o640)
	}},
	{"unreferenced", func(t *testing.T, dir string) {
		// What a capture killed before its manifest leaves: blobs and a
		// manifest nothing names. Not damage.
		s, _ := diskstore.Open(dir)
		defer s.Close()
		b := []byte(`{"orphan":true}`)
		archive.PutBytes(ctx, s, archive.BlobKey(archive.Sum(b)), b)
		archive.PutBytes(ctx, s, "captures/2026/03/01/orphan.jsonl", []byte("{}\n"))
		// Something another tool left under the same prefix.
		archive.PutBytes(ctx, s, "README.txt", []byte("not osmarc's"))
	}},
}

func blobPath(t *testing.T, storeDir, key string, version int) string {
	t.Helper()
	// Read the digest from the manifests rather than a catalog: the
	// fixture is only a store.
	for _, m := range manifests(t, storeDir) {
		f, _ := os.Open(m)
		for ml, err := range archive.ReadManifest(f, m) {
			if err == nil && ml.Item != nil && ml.Item.Key == key {
				if version == 0 {
					f.Close()
					return filepath.Join(storeDir, filepath.FromSlash(archive.BlobKey(ml.Item.Version)))
				}
				version--
			}
		}
		f.Close()
	}
	t.Fatalf("no version %d of %s", version, key)
	return ""
}

func manifests(t *testing.T, storeDir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(filepath.Join(storeDir, "captures"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			out = append(out, p)
		}
		return nil
	})
	if len(out) == 0 {
		t.Fatal("no manifests")
	}
	return out
}

// buildGood makes the good fixture: two captures, one with an edit.
func buildGood(t *testing.T, storeDir string) {
	clock := archivetest.NewClock(archivetest.Start)
	a, _, err := archive.Init(ctx, archivetest.Options(t.TempDir(), clock, archivetest.DiskOpener(storeDir)), "file://"+storeDir)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	ingestFile(t, a, "../testdata/items.jsonl")
	ingestFile(t, a, "../testdata/items-edited.jsonl")
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(to, rel), 0o750)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(to, rel), b, 0o640)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// golden is what the fixtures' verify golden files hold.
type golden struct {
	OK           bool              `json:"ok"`
	Problems     []archive.Problem `json:"problems"`
	Unreferenced []string          `json:"unreferenced"`
}

func TestDamagedArchiveFixtures(t *testing.T) {
	if *update {
		good := filepath.Join(fixtures, "good")
		os.RemoveAll(fixtures)
		buildGood(t, good)
		for _, d := range damages[1:] {
			dir := filepath.Join(fixtures, d.name)
			copyDir(t, good, dir)
			d.damage(t, dir)
		}
	}
	for _, d := range damages {
		t.Run(d.name, func(t *testing.T) {
			dir := t.TempDir()
			copyDir(t, filepath.Join(fixtures, d.name), dir)
			s, err := diskstore.Open(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			rep, err := archive.VerifyStore(ctx, s, nil, archive.VerifyOptions{Deep: true})
			if err != nil {
				t.Fatal(err)
			}
			got := golden{OK: rep.OK, Problems: rep.Problems}
			for _, u := range rep.Unreferenced {
				got.Unreferenced = append(got.Unreferenced, u.Key)
			}
			gb, _ := json.MarshalIndent(got, "", "  ")
			gb = append(gb, '\n')
			path := filepath.Join(fixtures, d.name+".verify.json")
			if *update {
				os.WriteFile(path, gb, 0o640)
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(gb, want) {
				t.Fatalf("verify of %s:\n%s\nwant\n%s", d.name, gb, want)
			}
			// What each damage must produce, beyond the golden file.
			switch d.name {
			case "good":
				if !rep.OK || len(rep.Unreferenced) != 0 {
					t.Fatal("the good archive does not verify clean")
				}
			case "unreferenced":
				if !rep.OK || len(rep.Unreferenced) != 3 {
					t.Fatalf("unreferenced objects: ok=%v %v", rep.OK, rep.Unreferenced)
				}
			default:
				if rep.OK {
					t.Fatalf("%s verifies clean", d.name)
				}
			}
			for _, p := range rep.Problems {
				if p.Kind == "missing-blob" || p.Kind == "corrupt-blob" {
					if p.ItemCount == 0 || len(p.Items) == 0 {
						t.Errorf("%s does not name the items it affects", p)
					}
				}
			}
			if d.name == "journal-changed" && !strings.Contains(rep.Problems[0].Message, "event 2 was changed") {
				t.Errorf("first problem = %s", rep.Problems[0])
			}
		})
	}
}

func TestVerifyNamesRemovedOrChangedNewestEvent(t *testing.T) {
	// The newest event has no successor to chain it; the catalog's record
	// of the head is the witness.
	const last = 8 // created, store, capture, 4 accounts registered, capture
	for _, tc := range []struct {
		name   string
		damage func(store *diskstore.Store, dir string)
		want   string
	}{
		{"removed", func(s *diskstore.Store, dir string) {
			s.Delete(ctx, journal.Key(last))
		}, "event 8 was removed"},
		{"changed", func(s *diskstore.Store, dir string) {
			p := filepath.Join(dir, filepath.FromSlash(journal.Key(last)))
			b, _ := os.ReadFile(p)
			os.WriteFile(p, bytes.Replace(b, []byte("records.officer@"), []byte("someone.else@"), 1), 0o640)
		}, "event 8 was changed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			storeDir := t.TempDir()
			clock := archivetest.NewClock(archivetest.Start)
			a, _, err := archive.Init(ctx, archivetest.Options(t.TempDir(), clock, archivetest.DiskOpener(storeDir)), "file://"+storeDir)
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			ingestFile(t, a, "../testdata/items.jsonl")
			ingestFile(t, a, "../testdata/items-edited.jsonl")
			if st := stats(t, a); st.Events != last {
				t.Fatalf("%d events, want %d", st.Events, last)
			}
			tc.damage(a.Store().(*diskstore.Store), storeDir)
			rep, err := a.Verify(ctx, archive.VerifyOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if rep.OK || !strings.Contains(rep.Problems[0].Message, tc.want) {
				t.Fatalf("problems = %v, want %q", rep.Problems, tc.want)
			}
		})
	}
}

func TestVerifyMemoryStoreCorruption(t *testing.T) {
	a, store, _ := archivetest.New(t)
	ingestFile(t, a, "../testdata/items.jsonl")
	d, _ := a.Show(ctx, "x/Brigade3/1750000000000000042")
	store.Corrupt(archive.BlobKey(mustDigest(t, d.Versions[0].Digest)), []byte("tampered"))
	shallow, _ := a.Verify(ctx, archive.VerifyOptions{})
	if !shallow.OK {
		t.Fatalf("a shallow verify re-hashes blobs: %v", shallow.Problems)
	}
	deep, _ := a.Verify(ctx, archive.VerifyOptions{Deep: true})
	if deep.OK || len(deep.Problems) != 1 || deep.Problems[0].Kind != "corrupt-blob" || deep.Problems[0].Items[0] != "x/Brigade3/1750000000000000042" {
		t.Fatalf("deep verify = %+v", deep.Problems)
	}
	// show says the content is unreadable rather than showing it.
	d, _ = a.Show(ctx, "x/Brigade3/1750000000000000042")
	if d.Versions[0].Error == "" || d.Versions[0].Item != nil {
		t.Fatalf("show of a corrupt version: %+v", d.Versions[0])
	}
}
