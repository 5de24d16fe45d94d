package kit

import (
	"context"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/osmarc/osmarc/archive/collect"
)

type got struct {
	values  []string
	element []bool
	lines   []int
}

func readAll(t *testing.T, data string) (got, *collect.MemorySink) {
	t.Helper()
	var g got
	sink := collect.NewMemorySink()
	err := ReadSaved(context.Background(), fstest.MapFS{"f": {Data: []byte(data)}}, "f", "f", sink, func(s *Saved) error {
		g.values = append(g.values, strings.TrimSpace(string(s.Value)))
		g.element = append(g.element, s.Element)
		g.lines = append(g.lines, s.Page.N)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return g, sink
}

func TestReadSavedLines(t *testing.T) {
	g, sink := readAll(t, "[1,2]\n\n{\"a\":1}\n{\"cut\n[3]")
	if strings.Join(g.values, " ") != `[1,2] {"a":1} [3]` || g.lines[2] != 5 {
		t.Errorf("%+v", g)
	}
	if len(sink.Bads) != 1 || sink.Bads[0].Line != 4 || len(sink.Raws) != 4 {
		t.Errorf("bads %v raws %d", sink.Bads, len(sink.Raws))
	}
}

func TestReadSavedDocument(t *testing.T) {
	doc := "[\n  {\"id\": 1},\n  {\"id\": 2}\n]\n"
	g, sink := readAll(t, doc)
	if len(g.values) != 1 || g.element[0] || len(sink.Raws) != 1 {
		t.Errorf("a small document is one value kept whole: %+v", g)
	}
	for _, raw := range sink.Raws {
		if string(raw) != doc {
			t.Error("not kept byte for byte")
		}
	}
	// A large one is streamed element by element.
	old := wholeFile
	wholeFile = 8
	defer func() { wholeFile = old }()
	g, sink = readAll(t, doc+"{\"x\": 3}\n[4, \n")
	if strings.Join(g.values, " ") != `{"id": 1} {"id": 2} {"x": 3} 4` || !g.element[0] || g.element[2] {
		t.Errorf("%+v", g)
	}
	if len(sink.Bads) != 1 || !strings.Contains(sink.Bads[0].Error(), "truncated") {
		t.Errorf("bads %v", sink.Bads)
	}
}
