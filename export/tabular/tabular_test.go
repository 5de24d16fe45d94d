package tabular_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/export"
	"github.com/osmarc/osmarc/export/exporttest"
	"github.com/osmarc/osmarc/export/tabular"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func run(t *testing.T, f *exporttest.Fixture, format export.Format, keys []string, versions, out string, excel, force bool) export.Manifest {
	t.Helper()
	src, err := export.NewSource(f.A, export.SourceOptions{Keys: export.KeyList(keys), Versions: versions})
	if err != nil {
		t.Fatal(err)
	}
	m, err := export.Run(context.Background(), src, format.New(), export.Meta{Format: format.Name, Out: out, Excel: excel, Force: force}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	p := filepath.Join(exporttest.TestdataDir(), "golden", name)
	if *update {
		os.MkdirAll(filepath.Dir(p), 0o750)
		if err := os.WriteFile(p, got, 0o640); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test -update to accept):\n%s", name, got)
	}
}

// CSV read back with encoding/csv: every selected item and version is a
// row, nothing else is; digests match the archive; formulas are
// neutralised; the text is otherwise exact.
func TestCSV(t *testing.T) {
	f := exporttest.Build(t)
	out := filepath.Join(t.TempDir(), "items.csv")
	sel := exporttest.Keys[:9] // facebook only
	m := run(t, f, tabular.CSV(), sel, export.VersionsAll, out, false, false)
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "items-all.csv", b)
	if m.Items != 9 || m.Versions != 10 || m.SHA256 != archive.Sum(b).String() {
		t.Errorf("manifest %+v", m)
	}
	rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(rows[0], ",") != strings.Join(tabular.Columns, ",") {
		t.Fatalf("header %v", rows[0])
	}
	col := map[string]int{}
	for i, c := range rows[0] {
		col[c] = i
	}
	seen := map[string]int{}
	for _, r := range rows[1:] {
		key := r[col["key"]]
		seen[key]++
		ci, err := f.A.Catalog().Item(key)
		if err != nil {
			t.Fatalf("row for %s, not in the archive: %v", key, err)
		}
		found := false
		for _, v := range ci.Versions {
			if v.Digest == r[col["version_digest"]] {
				found = true
				content, _ := f.A.Version(context.Background(), v.Digest)
				if tabular.Neutralise(content.Text) != r[col["text"]] {
					t.Errorf("%s text %q, archive %q", key, r[col["text"]], content.Text)
				}
			}
		}
		if !found {
			t.Errorf("%s: digest %s is not one of its versions", key, r[col["version_digest"]])
		}
		for _, c := range r {
			if c != "" && strings.ContainsRune("=+-@\t\r", rune(c[0])) {
				t.Errorf("%s: cell %q not neutralised", key, c)
			}
		}
	}
	if len(seen) != 9 || seen[archive.ItemKey("facebook", "3rd-brigade", "p1")] != 2 {
		t.Errorf("rows by key: %v", seen)
	}
	for _, k := range exporttest.Keys[9:] {
		if seen[k] > 0 {
			t.Errorf("unselected %s exported", k)
		}
	}
	var hostile []string
	for _, r := range rows[1:] {
		if r[col["key"]] == archive.ItemKey("facebook", "3rd-brigade", "c2") {
			hostile = r
		}
	}
	if !strings.HasPrefix(hostile[col["text"]], "'=HYPERLINK(") || hostile[col["author"]] != "'@attacker" {
		t.Errorf("formula not neutralised: %q", hostile)
	}
	// Overwriting is refused; --force replaces.
	src, _ := export.NewSource(f.A, export.SourceOptions{Keys: export.KeyList(sel)})
	if _, err := export.Run(context.Background(), src, tabular.CSV().New(), export.Meta{Format: "csv", Out: out}, nil); !errors.Is(err, export.ErrExists) {
		t.Errorf("overwrite: %v", err)
	}
	m2 := run(t, f, tabular.CSV(), sel[:1], export.VersionsLatest, out, true, true)
	b2, _ := os.ReadFile(out)
	if !bytes.HasPrefix(b2, []byte("\ufeffkey,")) || !bytes.Contains(b2, []byte("\r\n")) || m2.Items != 1 {
		t.Errorf("--excel --force: %q", b2[:20])
	}
	ents, _ := os.ReadDir(filepath.Dir(out))
	if len(ents) != 1 {
		t.Errorf("left beside the export: %v", ents)
	}
}

func TestJSONL(t *testing.T) {
	f := exporttest.Build(t)
	out := filepath.Join(t.TempDir(), "items.jsonl")
	m := run(t, f, tabular.JSONL(), exporttest.Keys, export.VersionsLatest, out, false, false)
	b, _ := os.ReadFile(out)
	golden(t, "items-latest.jsonl", b)
	sc := bufio.NewScanner(bytes.NewReader(b))
	n := 0
	for sc.Scan() {
		var r map[string]any
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		if r["key"] != exporttest.Keys[n] {
			t.Errorf("line %d is %v", n+1, r["key"])
		}
		n++
	}
	if n != 10 || m.Versions != 10 {
		t.Errorf("%d lines, manifest %+v", n, m)
	}
	if !bytes.Contains(b, []byte(`"text":"=HYPERLINK(`)) || !bytes.Contains(b, []byte(`"holds":[]`)) {
		t.Errorf("JSON Lines alters text or holds:\n%s", b)
	}
}

// An empty selection writes nothing.
func TestEmptySelection(t *testing.T) {
	f := exporttest.Build(t)
	out := filepath.Join(t.TempDir(), "none.csv")
	src, _ := export.NewSource(f.A, export.SourceOptions{Keys: export.KeyList(nil)})
	if _, err := export.Run(context.Background(), src, tabular.CSV().New(), export.Meta{Format: "csv", Out: out}, nil); !errors.Is(err, export.ErrEmpty) {
		t.Errorf("empty: %v", err)
	}
	if ents, _ := os.ReadDir(filepath.Dir(out)); len(ents) != 0 {
		t.Errorf("empty selection wrote %v", ents)
	}
}
