package feed

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/collect"
	"github.com/osmarc/osmarc/archive/collect/internal/kit"
)

// Collector reads an account's feed: its base URL, or its handle when
// that is a URL.
type Collector struct{}

var _ collect.Collector = Collector{}

// New returns the feed collector.
func New() collect.Collector { return Collector{} }

func (Collector) Platform() string { return Platform }
func (Collector) Version() string  { return "1" }

// State remembers when undated entries were first seen, so their time
// (and so their version) stays the same from run to run. Only entries
// still in the feed are kept, so it stays as small as the feed.
type State struct {
	FirstSeen map[string]time.Time `json:"first_seen,omitempty"`
}

// FeedURL is the feed an account names.
func FeedURL(acct archive.Account) (string, error) {
	if acct.BaseURL != "" {
		return acct.BaseURL, nil
	}
	h := strings.TrimSpace(acct.Handle)
	if strings.HasPrefix(h, "https://") || strings.HasPrefix(h, "http://") {
		return h, nil
	}
	return "", fmt.Errorf("feed: account %s names no feed; set its URL with account update --base-url https://site.example/feed", acct.Key)
}

// Collect implements collect.Collector: one request, the whole feed.
func (Collector) Collect(ctx context.Context, job *collect.Job) error {
	u, err := FeedURL(job.Account)
	if err != nil {
		return err
	}
	h := kit.Bearer(job.Secret)
	h.Set("Accept", "application/rss+xml, application/atom+xml, application/feed+json, application/json;q=0.9, application/xml;q=0.9, text/xml;q=0.8, */*;q=0.5")
	page, err := kit.Fetch(ctx, job, u, h, 1)
	if err != nil {
		return fmt.Errorf("feed: %s: %w", job.Account.Key, err)
	}
	f, err := Parse(page.Body)
	if err != nil {
		job.Sink.Bad(&archive.InputError{Source: u, Err: fmt.Errorf("not a feed gofeed can read: %v: %w", err, collect.ErrMalformed)})
		return fmt.Errorf("feed: %s: %w", job.Account.Key, collect.ErrMalformed)
	}
	var prev State
	if len(job.State) > 0 {
		json.Unmarshal(job.State, &prev)
	}
	now := kit.Now(job)
	next := State{FirstSeen: map[string]time.Time{}}
	firstSeen := func(id string) time.Time {
		t, ok := prev.FirstSeen[id]
		if !ok {
			t = now.Truncate(time.Second)
		}
		next.FirstSeen[id] = t
		return t
	}
	entries := Entries(f, job.Account.Handle, firstSeen)
	cs := &countingSink{Sink: job.Sink}
	j := *job
	j.Sink = cs
	media := kit.NewMedia(&j)
	for _, e := range entries {
		if err := media.Fetch(ctx, e.Item.Media, notAFile); err != nil {
			return err
		}
		if err := kit.Add(ctx, cs, e.Item, page.Opts(e.Path, nil)); err != nil {
			return err
		}
	}
	if cs.bad > 0 {
		return nil // kept; not complete; the state stays
	}
	if job.Full {
		if since, ok := Window(entries); ok {
			job.Sink.Complete(archive.Scope{Account: job.Account.Key, Since: since})
		} else if job.Log != nil {
			job.Log.Info("feed: not a complete listing: an entry has no date, so the feed's window is unknown", "account", job.Account.Key)
		}
	}
	b, _ := json.Marshal(next)
	job.Sink.SetState(b)
	return nil
}

type countingSink struct {
	collect.Sink
	bad int
}

func (c *countingSink) Bad(e *archive.InputError) { c.bad++; c.Sink.Bad(e) }

// notAFile: media whose type says it is not an image, video or sound
// (a PDF attachment, YouTube's player URL) are named, not downloaded.
func notAFile(m archive.Media) bool {
	return m.Type != "image" && m.Type != "video" && m.Type != "audio"
}
