package warc

import (
	"fmt"
	"testing"
)

// A capture's places are found by item and response: lines and JSON
// pointers, the last place of an item seen twice in a response, and
// nothing for an item or response the capture did not record.
func TestCapturePlaces(t *testing.T) {
	ci := &captureInfo{}
	for i := range 5000 {
		ci.add(fmt.Sprintf("x/acct/%d", i), "raw-a", RawPlace{Line: i + 1})
	}
	ci.add("x/acct/7", "raw-b", RawPlace{Path: "/data/3"})
	ci.add("x/acct/8", "raw-b", RawPlace{Path: "/data/4"})
	ci.add("x/acct/8", "raw-b", RawPlace{Path: "/data/5"})
	ci.add("x/acct/9", "raw-c", RawPlace{Line: 3, Path: "/x"})
	ci.sort()
	for i := range 5000 {
		if p, ok := ci.place(fmt.Sprintf("x/acct/%d", i), "raw-a"); !ok || p != (RawPlace{Line: i + 1}) {
			t.Fatalf("item %d: %+v %v", i, p, ok)
		}
	}
	if p, ok := ci.place("x/acct/7", "raw-b"); !ok || p != (RawPlace{Path: "/data/3"}) {
		t.Errorf("x/acct/7 in raw-b: %+v %v", p, ok)
	}
	if p, ok := ci.place("x/acct/8", "raw-b"); !ok || p != (RawPlace{Path: "/data/5"}) {
		t.Errorf("x/acct/8 in raw-b: %+v %v, want its last place", p, ok)
	}
	if p, ok := ci.place("x/acct/9", "raw-c"); !ok || p != (RawPlace{Line: 3, Path: "/x"}) {
		t.Errorf("x/acct/9 in raw-c: %+v %v", p, ok)
	}
	for _, c := range [][2]string{{"x/acct/9", "raw-b"}, {"x/acct/5000", "raw-a"}, {"x/acct/1", "raw-c"}} {
		if p, ok := ci.place(c[0], c[1]); ok {
			t.Errorf("%s in %s: %+v, want none", c[0], c[1], p)
		}
	}
	if len(ci.places) != 5003 {
		t.Errorf("%d places, want 5003", len(ci.places))
	}
}
