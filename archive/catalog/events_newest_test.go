package catalog

import (
	"fmt"
	"testing"
)

func TestEventsNewestPagesBackwards(t *testing.T) {
	c := open(t)
	n := newestChunk*2 + 7
	for i := 1; i <= n; i++ {
		if err := c.ApplyEvent(Event{Seq: uint64(i), Type: "note.added", Time: t0, Hash: fmt.Sprint("h", i)}); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		before     uint64
		first, cnt int
	}{
		{0, n, n},                 // every event, newest first
		{uint64(n + 50), n, n},    // past the head: the same
		{uint64(n), n - 1, n - 1}, // below the head
		{newestChunk + 1, newestChunk, newestChunk}, // a chunk boundary
		{2, 1, 1},
		{1, 0, 0},
	} {
		var got []uint64
		for ev, err := range c.EventsNewest(tc.before) {
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, ev.Seq)
		}
		if len(got) != tc.cnt {
			t.Fatalf("before %d: %d events, want %d", tc.before, len(got), tc.cnt)
		}
		for i, s := range got {
			if s != uint64(tc.first-i) {
				t.Fatalf("before %d: event %d is %d, want %d", tc.before, i, s, tc.first-i)
			}
		}
	}
	// Stopping early stops reading.
	k := 0
	for range c.EventsNewest(0) {
		k++
		if k == 3 {
			break
		}
	}
	if k != 3 {
		t.Fatal("early stop")
	}
}
