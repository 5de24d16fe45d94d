package kit

import (
	"bufio"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/osmarc/osmarc/archive/collect"
)

func TestSourceFilesAndNames(t *testing.T) {
	fsys := fstest.MapFS{
		"export/b.json":                    {Data: []byte("{}")},
		"export/a.jsonl":                   {Data: []byte("{}")},
		"export/notes.txt":                 {Data: []byte("x")},
		"export/.hidden.json":              {Data: []byte("{}")},
		"export/.git/config.json":          {Data: []byte("{}")},
		"export/__MACOSX/._b.json":         {Data: []byte("{}")},
		"export/sub/c.json":                {Data: []byte("{}")},
		"export/sub/__MACOSX/._c.json.txt": {Data: []byte("x")},
	}
	src := collect.Source{Name: "export.zip", FS: fsys, Path: "export"}
	all, err := SourceFiles(src, nil)
	if want := []string{"export/a.jsonl", "export/b.json", "export/notes.txt", "export/sub/c.json"}; err != nil || !slices.Equal(all, want) {
		t.Errorf("SourceFiles = %v, %v; want %v (no hidden files, no resource forks)", all, err, want)
	}
	js, _ := Files(src, ".json", ".jsonl")
	if want := []string{"export/a.jsonl", "export/b.json", "export/sub/c.json"}; !slices.Equal(js, want) {
		t.Errorf("Files(.json, .jsonl) = %v", js)
	}
	if none, _ := Files(src); !slices.Equal(none, all) {
		t.Errorf("Files() = %v, want every file", none)
	}
	one := collect.Source{Name: "b.json", FS: fsys, Path: "export/b.json"}
	if f, _ := SourceFiles(one, func(string) bool { return false }); !slices.Equal(f, []string{"export/b.json"}) {
		t.Errorf("a file source is itself: %v", f)
	}
	if _, err := SourceFiles(collect.Source{Name: "gone", FS: fsys, Path: "nope"}, nil); err == nil || !strings.HasPrefix(err.Error(), "gone: ") {
		t.Errorf("missing source: %v", err)
	}
	for _, c := range []struct {
		src  collect.Source
		p    string
		want string
	}{
		{src, "export/sub/c.json", "export.zip/sub/c.json"},
		{one, "export/b.json", "b.json"},
		{collect.Source{Name: "dir/", FS: fsys, Path: "."}, "export/b.json", "dir/export/b.json"},
		{collect.Source{FS: fsys, Path: "export"}, "export/b.json", "b.json"},
	} {
		if got := FileName(c.src, c.p); got != c.want {
			t.Errorf("FileName(%+v, %q) = %q, want %q", c.src.Name, c.p, got, c.want)
		}
	}
}

func TestReadLongLine(t *testing.T) {
	br := bufio.NewReaderSize(strings.NewReader("short\n"+strings.Repeat("x", 100)+"\nlast"), 16)
	var got []string
	for {
		l, err := ReadLongLine(br, 20)
		if errors.Is(err, ErrLineTooLong) {
			got = append(got, "TOO LONG")
			continue
		}
		got = append(got, string(l))
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if want := []string{"short\n", "TOO LONG", "last"}; !slices.Equal(got, want) {
		t.Errorf("lines %q, want %q", got, want)
	}
}
