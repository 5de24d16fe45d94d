package catalog

import (
	"errors"
	"fmt"
	"slices"
	"testing"
)

func TestRequestEventsAreFiledByRequest(t *testing.T) {
	c := open(t)
	seq := uint64(0)
	apply := func(typ, data string) error {
		seq++
		return c.ApplyEvent(Event{Seq: seq, Type: typ, Data: []byte(data), Hash: fmt.Sprint("h", seq)})
	}
	for _, e := range [][2]string{
		{"archive.created", `{}`},
		{"request.opened", `{"request":"REQ-2026-0001"}`},
		{"request.opened", `{"request":"REQ-2026-0010"}`},
		{"account.added", `{"account":{"key":"x/a"}}`},
		{"request.items_added", `{"request":"REQ-2026-0001","keys":["x/a/1"]}`},
		{"search.run", `{"query":"parade"}`},
		{"request.closed", `{"request":"REQ-2026-0001"}`},
	} {
		if err := apply(e[0], e[1]); err != nil {
			t.Fatal(err)
		}
	}
	ids, err := c.RequestIDs()
	if err != nil || !slices.Equal(ids, []string{"REQ-2026-0001", "REQ-2026-0010"}) {
		t.Fatalf("RequestIDs = %v, %v", ids, err)
	}
	evs, err := c.RequestEvents("REQ-2026-0001")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range evs {
		got = append(got, fmt.Sprint(e.Seq, e.Type))
	}
	if want := []string{"2request.opened", "5request.items_added", "7request.closed"}; !slices.Equal(got, want) {
		t.Fatalf("events = %v, want %v", got, want)
	}
	if _, err := c.RequestEvents("REQ-2026-0002"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown request: %v", err)
	}
	// A request event that names no request is refused, and changes nothing.
	if err := apply("request.opened", `{"id":"x"}`); err == nil {
		t.Fatal("request event without a request was applied")
	}
	if h, _ := c.Head(); h.Seq != 7 {
		t.Fatalf("head moved to %d", h.Seq)
	}
}
