package jsonimport

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/collect"
)

func stream(t *testing.T, doc string) ([]Element, error) {
	t.Helper()
	var out []Element
	err := Stream(strings.NewReader(doc), func(e Element) error {
		e.Raw = append(json.RawMessage(nil), e.Raw...)
		out = append(out, e)
		return nil
	})
	return out, err
}

func TestStream(t *testing.T) {
	doc := "[\n  {\"a\": 1},\n  {\"b\":\n    [2, 3]\n  },\n\n  \"x\"\n]\n"
	els, err := stream(t, doc)
	if err != nil {
		t.Fatal(err)
	}
	if len(els) != 3 || els[0].Line != 2 || els[1].Line != 3 || els[2].Line != 7 {
		t.Fatalf("elements %+v", els)
	}
	if string(els[1].Raw) != "{\"b\":\n    [2, 3]\n  }" || els[1].Pointer() != "/1" {
		t.Errorf("element kept as written: %q %s", els[1].Raw, els[1].Pointer())
	}
	obj := "{\"meta\": {\"x\": [1]},\n \"comments_v2\": [\n {\"c\": 1},\n {\"c\": 2}],\n \"n\": 3, \"other/list\": [true]}"
	els, err = stream(t, obj)
	if err != nil {
		t.Fatal(err)
	}
	if len(els) != 3 || els[0].Key != "comments_v2" || els[1].Line != 4 || els[1].Pointer() != "/comments_v2/1" || els[2].Pointer() != "/other~1list/0" {
		t.Fatalf("elements %+v", els)
	}
}

func TestStreamBad(t *testing.T) {
	for _, tc := range []struct {
		doc  string
		line int
		want string
	}{
		{"[\n{\"a\":1},\n{\"a\":", 3, "truncated"},
		{"[\n{\"a\":1},\n{\"a\" 2}]", 3, "malformed"},
		{"", 1, "empty"},
		{"42", 1, "want a JSON array or object"},
		{"{\"posts\": [1, 2,\n", 1, "truncated"},
	} {
		_, err := stream(t, tc.doc)
		var se *SyntaxError
		if !errors.As(err, &se) || se.Line != tc.line || !strings.Contains(se.Error(), tc.want) {
			t.Errorf("%q: %v (line %d), want line %d and %q", tc.doc, err, se.Line, tc.line, tc.want)
		}
	}
}

// A large array streams in little memory.
func TestStreamFlat(t *testing.T) {
	const n = 200000
	r := io.MultiReader(strings.NewReader("["), &repeater{n: n, s: `{"timestamp": 1700000000, "data": [{"post": "` + strings.Repeat("x", 500) + `"}]}`}, strings.NewReader("]"))
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	before := ms.HeapAlloc
	count, peak := 0, uint64(0)
	err := Stream(r, func(e Element) error {
		count++
		if count%20000 == 0 {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapAlloc)
		}
		return nil
	})
	if err != nil || count != n {
		t.Fatalf("%d elements, %v", count, err)
	}
	if peak > before+32<<20 {
		t.Errorf("heap grew by %d MiB streaming %d MiB", (peak-before)>>20, n*540>>20)
	}
}

type repeater struct {
	n   int
	s   string
	buf []byte
}

func (r *repeater) Read(p []byte) (int, error) {
	if len(r.buf) == 0 {
		if r.n == 0 {
			return 0, io.EOF
		}
		r.n--
		r.buf = []byte(r.s)
		if r.n > 0 {
			r.buf = append(r.buf, ",\n"...)
		}
	}
	k := copy(p, r.buf)
	r.buf = r.buf[k:]
	return k, nil
}

func TestChunker(t *testing.T) {
	sink := collect.NewMemorySink()
	c := &Chunker{Sink: sink, Source: "posts.json", MaxElements: 2}
	ctx := context.Background()
	for i := range 5 {
		e := Element{Index: i, Line: i + 2, Raw: json.RawMessage(fmt.Sprintf(`{"n": %d, "sub": [{"id": "s%d"}]}`, i, i))}
		it := archive.Item{Platform: "facebook", Account: "a", ID: fmt.Sprint(i), Kind: "post", CreatedAt: "2024-01-01T00:00:00Z"}
		sub := it
		sub.ID, sub.Kind = "s"+fmt.Sprint(i), "comment"
		if err := c.Add(ctx, e, []Entry{{Item: it}, {Item: sub, Path: "/sub/0"}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if len(sink.Raws) != 3 || len(sink.Items) != 10 {
		t.Fatalf("%d raws, %d items", len(sink.Raws), len(sink.Items))
	}
	for i, o := range sink.Opts {
		var v []map[string]any
		if err := json.Unmarshal(sink.Raws[*o.Raw], &v); err != nil {
			t.Fatalf("chunk is not a JSON array: %v", err)
		}
		var idx int
		fmt.Sscanf(o.RawPath, "/%d", &idx)
		el := v[idx]
		want := sink.Items[i].ID
		if strings.HasSuffix(o.RawPath, "/sub/0") {
			el = el["sub"].([]any)[0].(map[string]any)
			if el["id"] != want {
				t.Errorf("%s: %s is %v", want, o.RawPath, el)
			}
		} else if fmt.Sprint(el["n"]) != want {
			t.Errorf("%s: %s is %v", want, o.RawPath, el)
		}
		if o.Source != "posts.json" || o.Line == 0 {
			t.Errorf("options %+v", o)
		}
	}
}

func TestResponses(t *testing.T) {
	fsys := fstest.MapFS{
		"dir/a.jsonl":  {Data: []byte("{\"data\":[]}\n\n{\"data\":[1]}\n{\"data\":[\n[{\"id\":\"x\"},{\"id\":\"y\"}]\n")},
		"dir/b.json":   {Data: []byte("{\n  \"id\": \"1\"\n}\n")},
		"dir/c.json":   {Data: []byte("{\n  \"id\": \"1\"\n")},
		"dir/.hidden":  {Data: []byte("{}")},
		"dir/notes.md": {Data: []byte("# notes")},
	}
	src := collect.Source{Name: "saved", FS: fsys, Path: "dir"}
	files, err := Files(src, IsSavedName)
	if err != nil || strings.Join(files, ",") != "dir/a.jsonl,dir/b.json,dir/c.json" {
		t.Fatalf("files %v, %v", files, err)
	}
	sink := collect.NewMemorySink()
	var got []string
	for _, p := range files {
		err := Responses(context.Background(), src, p, sink, func(r Response) error {
			got = append(got, fmt.Sprintf("%s:%d%s=%s", r.Source, r.Line, r.Prefix, r.Body))
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	want := []string{`saved/a.jsonl:1={"data":[]}`, `saved/a.jsonl:3={"data":[1]}`, `saved/a.jsonl:5/0={"id":"x"}`, `saved/a.jsonl:5/1={"id":"y"}`, "saved/b.json:0={\n  \"id\": \"1\"\n}"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("responses\n%q\nwant\n%q", got, want)
	}
	if len(sink.Bads) != 2 || sink.Bads[0].Error() != "saved/a.jsonl:4: truncated JSON: the response ends inside a value" || !strings.HasPrefix(sink.Bads[1].Error(), "saved/c.json: truncated") {
		t.Errorf("bads %v", sink.Bads)
	}
	if len(sink.Raws) != 4 {
		t.Errorf("%d raws, want one per good line or file", len(sink.Raws))
	}
}

func TestIDs(t *testing.T) {
	var ids IDs
	got := []string{ids.Next("dyi-post", 5), ids.Next("dyi-post", 6), ids.Next("dyi-post", 5), ids.Next("dyi-comment", 5)}
	if strings.Join(got, " ") != "dyi-post-5 dyi-post-6 dyi-post-5-2 dyi-comment-5" {
		t.Errorf("ids %v", got)
	}
}

func TestMedia(t *testing.T) {
	fsys := fstest.MapFS{
		"export/posts/media/a.jpg":       {Data: []byte("\xff\xd8\xff\xe0 jpeg")},
		"export/posts/your_posts_1.json": {Data: []byte("[]")},
	}
	src := collect.Source{Name: "export", FS: fsys, Path: "export"}
	sink := collect.NewMemorySink()
	d, err := Media(context.Background(), sink, src, "export/posts/your_posts_1.json", "posts/media/a.jpg")
	if err != nil || d != archive.Sum([]byte("\xff\xd8\xff\xe0 jpeg")).String() || len(sink.Media) != 1 {
		t.Fatalf("digest %q, %v", d, err)
	}
	// One file of the export given: its folder is the root.
	one := collect.Source{Name: "your_posts_1.json", FS: fstest.MapFS{"your_posts_1.json": fsys["export/posts/your_posts_1.json"], "media/a.jpg": fsys["export/posts/media/a.jpg"]}, Path: "your_posts_1.json"}
	if d2, err := Media(context.Background(), sink, one, "your_posts_1.json", "posts/media/a.jpg"); d2 != d || err != nil {
		t.Errorf("single file: %q %v", d2, err)
	}
	if d, err := Media(context.Background(), sink, src, "export/posts/your_posts_1.json", "posts/media/missing.jpg"); d != "" || err != nil {
		t.Errorf("missing file: %q %v", d, err)
	}
	if d, err := Media(context.Background(), sink, src, "export/posts/your_posts_1.json", "../../../etc/passwd"); d != "" || err != nil {
		t.Errorf("outside the export: %q %v", d, err)
	}
}
