package graph

import (
	"net/url"
	"testing"
	"time"
)

// TestWindow: a first or full run asks for everything; a later run asks
// since the last newest less the lookback, skips what is older, and
// remembers the newest it kept.
func TestWindow(t *testing.T) {
	t0 := time.Date(2024, 1, 15, 14, 0, 0, 0, time.UTC)
	q := url.Values{}
	w := NewWindow(nil, false, time.Hour, q)
	if q.Has("since") || !w.Keep(t0.Add(-1000*time.Hour)) {
		t.Fatal("a first run lists everything")
	}
	state := []byte(`{"newest":"2024-01-15T14:00:00Z"}`)
	q = url.Values{}
	NewWindow(state, true, time.Hour, q)
	if q.Has("since") {
		t.Error("a full run lists everything")
	}
	q = url.Values{}
	w = NewWindow(state, false, time.Hour, q)
	if q.Get("since") != "1705323600" {
		t.Errorf("since=%s, want the newest less an hour", q.Get("since"))
	}
	if w.Keep(t0.Add(-2 * time.Hour)) {
		t.Error("an object older than the window was kept")
	}
	if !w.Keep(t0.Add(-30*time.Minute)) || !w.Keep(t0.Add(time.Hour)) || !w.newest.Equal(t0.Add(time.Hour)) {
		t.Errorf("newest %v", w.newest)
	}
	q = url.Values{}
	if NewWindow([]byte(`{"newest":`), false, time.Hour, q); q.Has("since") {
		t.Error("an unreadable state is a first run")
	}
}
