package request_test

import (
	"context"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/archivetest"
	"github.com/osmarc/osmarc/archive/request"
)

// A closed request is the request-closed cutoff event of its items; an
// item in a request still open has none (and is pending).
func TestCutoffs(t *testing.T) {
	ctx := context.Background()
	a, _, clock := archivetest.New(t)
	f, err := os.Open("../../testdata/items.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := a.Ingest(ctx, []archive.Source{{Name: "items.jsonl", R: f}}, archive.IngestOptions{}); err != nil {
		t.Fatal(err)
	}
	const post, comment, other = "facebook/3rd-brigade/101_2001", "facebook/3rd-brigade/101_2001_3001", "facebook/3rd-brigade/101_2002"
	p := request.DefaultPresets()
	open := func(keys ...string) *request.Request {
		t.Helper()
		d, _ := request.ParseDate("2024-03-01")
		r, err := request.Open(ctx, a, p, request.OpenParams{Requester: "Pat", Description: "parade", Received: d, Law: "us-foia", Today: clock.Now()})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := request.AddItems(ctx, a, r.ID, keys); err != nil {
			t.Fatal(err)
		}
		return r
	}
	r1 := open(post, comment)
	r2 := open(post, other)
	if _, err := request.RemoveItem(ctx, a, r2.ID, other, "not responsive"); err != nil {
		t.Fatal(err)
	}
	clock.Advance(24 * time.Hour)
	closed1, err := request.Close(ctx, a, r1.ID, "answered")
	if err != nil {
		t.Fatal(err)
	}
	c, err := request.LoadCutoffs(a)
	if err != nil {
		t.Fatal(err)
	}
	if at, ok := c.Closed(comment); !ok || !at.Equal(*closed1.ClosedAt) {
		t.Errorf("comment in a closed request: %v %v, want %v", at, ok, closed1.ClosedAt)
	}
	if at, ok := c.EventDate(post, request.CutoffEvent); ok || !slices.Equal(c.Open(post), []string{r2.ID}) {
		t.Errorf("post still in an open request: %v %v, open %v", at, ok, c.Open(post))
	}
	if _, ok := c.EventDate(comment, "account-deactivated"); ok {
		t.Error("another event answered")
	}
	if _, ok := c.Closed("x/Brigade3/1750000000000000001"); ok {
		t.Error("an item in no request has a request-closed date")
	}
	// The second request closes later: the post's cutoff is that day; the
	// item it removed was part of it too.
	clock.Advance(48 * time.Hour)
	closed2, err := request.Close(ctx, a, r2.ID, "answered")
	if err != nil {
		t.Fatal(err)
	}
	c, _ = request.LoadCutoffs(a)
	for _, k := range []string{post, other} {
		if at, ok := c.Closed(k); !ok || !at.Equal(*closed2.ClosedAt) || len(c.Open(k)) != 0 {
			t.Errorf("%s: %v %v, want %v", k, at, ok, closed2.ClosedAt)
		}
	}
}
