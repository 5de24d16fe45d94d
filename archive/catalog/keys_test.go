package catalog

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
)

// Keys lists every key once, in order, across chunks, within a prefix,
// and stops when asked.
func TestKeysAcrossChunks(t *testing.T) {
	c := open(t)
	c.ApplyEvent(Event{Seq: 1, Type: "x"})
	n := 2500
	if err := c.ApplyCapture(Event{Seq: 2, Type: "capture.recorded"}, &Capture{ID: "c1"}, entries(n, "v"), nil); err != nil {
		t.Fatal(err)
	}
	keys := func(prefix string) []string {
		var out []string
		for k, err := range c.Keys(prefix) {
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, k)
		}
		return out
	}
	all := keys("")
	if len(all) != n {
		t.Fatalf("%d keys, want %d", len(all), n)
	}
	for i, k := range all {
		if want := fmt.Sprintf("x/acct/%05d", i); k != want {
			t.Fatalf("key %d = %s, want %s", i, k, want)
		}
	}
	if got := keys("x/acct/01"); len(got) != 1000 || got[0] != "x/acct/01000" || got[999] != "x/acct/01999" {
		t.Fatalf("prefix x/acct/01: %d keys, %v … %v", len(got), got[:1], got[len(got)-1:])
	}
	if got := keys("y/"); len(got) != 0 {
		t.Fatalf("prefix y/: %v", got)
	}
	k := 0
	for range c.Keys("") {
		if k++; k == 5 {
			break
		}
	}
	if k != 5 {
		t.Fatalf("stopped after %d", k)
	}
}

// ItemSightings reads what Item and Sightings read.
func TestItemSightingsIsItemAndSightings(t *testing.T) {
	c := open(t)
	c.ApplyEvent(Event{Seq: 1, Type: "x"})
	if err := c.ApplyCapture(Event{Seq: 2, Type: "capture.recorded"}, &Capture{ID: "c1"}, entries(20, "v1"), nil); err != nil {
		t.Fatal(err)
	}
	if err := c.ApplyCapture(Event{Seq: 3, Type: "capture.recorded"}, &Capture{ID: "c2"}, entries(10, "v2"), nil); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"x/acct/00003", "x/acct/00015"} {
		it, sg, err := c.ItemSightings(key)
		if err != nil {
			t.Fatal(err)
		}
		wantIt, err := c.Item(key)
		if err != nil {
			t.Fatal(err)
		}
		wantSg, err := c.Sightings(key)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(it, wantIt) || !reflect.DeepEqual(sg, wantSg) || len(sg) == 0 {
			t.Errorf("%s: got %+v %+v\nwant %+v %+v", key, it, sg, wantIt, wantSg)
		}
	}
	if _, _, err := c.ItemSightings("x/acct/99999"); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing item: %v", err)
	}
}
