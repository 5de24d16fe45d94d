// Package mastodon captures Mastodon accounts: a live collector over the
// REST API and two importers, one of saved API responses (mastodon-api)
// and one of an account export's outbox.json (mastodon-outbox).
//
// The collector lists the account's statuses (GET
// /api/v1/accounts/:id/statuses, paged with the Link header), reads each
// status's replies (GET /api/v1/statuses/:id/context, descendants) and,
// for an edited status, its edit history (GET
// /api/v1/statuses/:id/history), each entry of which becomes a version,
// oldest first. Every response is kept byte for byte and every item names
// its response and JSON pointer.
//
// By default a run is incremental: it pages back to a week before the
// newest status the last run saw, so recent posts' new replies and edits
// are caught; a full run (Job.Full) lists everything and, when every page
// read cleanly, says the listing was complete, so statuses and replies
// no longer there are marked removed at source.
package mastodon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/collect"
	"github.com/osmarc/osmarc/archive/collect/internal/kit"
)

// Platform is the platform name Mastodon accounts are registered under.
const Platform = "mastodon"

// Lookback is how far before the newest status seen an incremental run
// reads again, for new replies and edits.
const Lookback = 7 * 24 * time.Hour

// PageSize is the statuses asked for per page (the API's maximum).
const PageSize = 40

// Collector is the Mastodon live collector.
type Collector struct{}

var _ collect.Collector = Collector{}

// New returns the Mastodon collector.
func New() collect.Collector { return Collector{} }

func (Collector) Platform() string { return Platform }
func (Collector) Version() string  { return "1" }

// State is what a run records for the next.
type State struct {
	NewestID string    `json:"newest_id,omitempty"`
	NewestAt time.Time `json:"newest_at,omitzero"`
}

type run struct {
	job    *collect.Job
	base   string
	header http.Header
	media  *kit.Media
	seen   map[string]bool
	bad    int
	sink   *countingSink
}

// countingSink counts Bad reports, so the run knows whether it may call
// the listing complete and move its state on.
type countingSink struct {
	collect.Sink
	bad int
}

func (c *countingSink) Bad(e *archive.InputError) { c.bad++; c.Sink.Bad(e) }

// Collect implements collect.Collector.
func (Collector) Collect(ctx context.Context, job *collect.Job) error {
	base, err := baseURL(job)
	if err != nil {
		return err
	}
	cs := &countingSink{Sink: job.Sink}
	j := *job
	j.Sink = cs
	r := &run{job: &j, base: base, header: kit.Bearer(job.Secret), seen: map[string]bool{}, sink: cs}
	r.media = kit.NewMedia(r.job)
	var prev State
	if len(job.State) > 0 {
		if err := json.Unmarshal(job.State, &prev); err != nil {
			prev = State{} // unreadable state: list everything
		}
	}
	id := job.Account.ID
	if id == "" {
		if id, err = r.lookup(ctx); err != nil {
			return err
		}
	}
	var cutoff time.Time
	if !job.Full && !prev.NewestAt.IsZero() {
		cutoff = prev.NewestAt.Add(-Lookback)
	}
	next := State{NewestID: prev.NewestID, NewestAt: prev.NewestAt}
	q := url.Values{"limit": {fmt.Sprint(PageSize)}}
	for n := 1; ; n++ {
		u := r.base + "/api/v1/accounts/" + url.PathEscape(id) + "/statuses?" + q.Encode()
		page, err := kit.Fetch(ctx, r.job, u, r.header, n)
		if err != nil {
			return fmt.Errorf("mastodon: list statuses of %s (page %d): %w", job.Account.Key, n, err)
		}
		var raws []json.RawMessage
		oldest := time.Time{}
		parsed := true
		if err := kit.UnmarshalPage(page.Body, &raws); err != nil {
			page.Bad(r.sink, "statuses", err)
			parsed = false
		}
		for i, raw := range raws {
			var s Status
			if err := json.Unmarshal(raw, &s); err != nil {
				page.Bad(r.sink, kit.Pointer(i), err)
				continue
			}
			if t, err := time.Parse(time.RFC3339Nano, s.CreatedAt); err == nil {
				if oldest.IsZero() || t.Before(oldest) {
					oldest = t
				}
				if kit.CompareIDs(string(s.ID), next.NewestID) > 0 {
					next.NewestID, next.NewestAt = string(s.ID), t.UTC()
				}
			}
			if err := r.status(ctx, &s, page, kit.Pointer(i), true); err != nil {
				return err
			}
		}
		maxID := nextMaxID(page.Resp.Header)
		if maxID == "" || (parsed && len(raws) == 0) {
			break
		}
		if !cutoff.IsZero() && !oldest.IsZero() && oldest.Before(cutoff) {
			break
		}
		if maxID == q.Get("max_id") {
			page.Bad(r.sink, "paging", errors.New("the next page link points at the same page"))
			break
		}
		q.Set("max_id", maxID)
	}
	if cs.bad > 0 {
		return nil // what was read is kept; the capture is incomplete and the state stays
	}
	if job.Full {
		cs.Complete(archive.Scope{Account: job.Account.Key})
	}
	if next.NewestID != "" {
		b, _ := json.Marshal(next)
		cs.SetState(b)
	}
	return nil
}

// status records one status (with its earlier versions and, for the
// account's own, its replies).
func (r *run) status(ctx context.Context, s *Status, page *kit.Page, pointer string, own bool) error {
	if s.ID == "" || r.seen[string(s.ID)] {
		return nil
	}
	r.seen[string(s.ID)] = true
	acct := r.job.Account.Handle
	if s.Reblog == nil && s.EditedAt != nil && *s.EditedAt != "" {
		if err := r.history(ctx, s); err != nil {
			return err
		}
	}
	it := StatusItem(s, acct)
	if err := r.media.Fetch(ctx, it.Media, nil); err != nil {
		return err
	}
	if err := kit.Add(ctx, r.sink, it, page.Opts(pointer, Metrics(s))); err != nil {
		return err
	}
	if !own || s.Reblog != nil {
		return nil
	}
	if !r.job.Full && s.RepliesCount.known && s.RepliesCount.n == 0 {
		return nil
	}
	return r.context(ctx, s)
}

func (r *run) history(ctx context.Context, s *Status) error {
	u := r.base + "/api/v1/statuses/" + url.PathEscape(string(s.ID)) + "/history"
	page, err := kit.Fetch(ctx, r.job, u, r.header, 1)
	if errors.Is(err, collect.ErrNotFound) {
		return nil // an older server without edit history, or the status is gone
	}
	if err != nil {
		return fmt.Errorf("mastodon: edit history of status %s: %w", s.ID, err)
	}
	var raws []json.RawMessage
	if err := kit.UnmarshalPage(page.Body, &raws); err != nil {
		page.Bad(r.sink, "edit history", err)
		return nil
	}
	edits := make([]StatusEdit, 0, len(raws))
	for i, raw := range raws {
		var e StatusEdit
		if err := json.Unmarshal(raw, &e); err != nil {
			page.Bad(r.sink, kit.Pointer(i), err)
			return nil
		}
		edits = append(edits, e)
	}
	for i, it := range EditItems(s, edits, r.job.Account.Handle) {
		if err := r.media.Fetch(ctx, it.Media, nil); err != nil {
			return err
		}
		// The i-th earlier version is the i-th history entry.
		if err := kit.Add(ctx, r.sink, it, page.Opts(kit.Pointer(i), nil)); err != nil {
			return err
		}
	}
	return nil
}

func (r *run) context(ctx context.Context, s *Status) error {
	u := r.base + "/api/v1/statuses/" + url.PathEscape(string(s.ID)) + "/context"
	page, err := kit.Fetch(ctx, r.job, u, r.header, 1)
	if errors.Is(err, collect.ErrNotFound) {
		return nil // deleted since it was listed
	}
	if err != nil {
		return fmt.Errorf("mastodon: replies to status %s: %w", s.ID, err)
	}
	var c Context
	if err := kit.UnmarshalPage(page.Body, &c); err != nil {
		page.Bad(r.sink, "context", err)
		return nil
	}
	for i, raw := range c.Descendants {
		var d Status
		if err := json.Unmarshal(raw, &d); err != nil {
			page.Bad(r.sink, kit.Pointer("descendants", i), err)
			continue
		}
		if err := r.status(ctx, &d, page, kit.Pointer("descendants", i), false); err != nil {
			return err
		}
	}
	return nil
}

func (r *run) lookup(ctx context.Context) (string, error) {
	acct := strings.TrimPrefix(r.job.Account.Handle, "@")
	u := r.base + "/api/v1/accounts/lookup?" + url.Values{"acct": {acct}}.Encode()
	page, err := kit.Fetch(ctx, r.job, u, r.header, 1)
	if err != nil {
		return "", fmt.Errorf("mastodon: look up account %s (or register its id with account update --id): %w", acct, err)
	}
	var a Account
	if err := kit.UnmarshalPage(page.Body, &a); err != nil || a.ID == "" {
		page.Bad(r.sink, "account lookup", err)
		return "", fmt.Errorf("mastodon: look up account %s: %w", acct, collect.ErrMalformed)
	}
	return string(a.ID), nil
}

// baseURL is the account's instance: its base URL, or https:// and the
// host of a handle written name@host.
func baseURL(job *collect.Job) (string, error) {
	if b := strings.TrimRight(job.BaseURL(""), "/"); b != "" {
		return b, nil
	}
	h := strings.TrimPrefix(job.Account.Handle, "@")
	if _, host, ok := strings.Cut(h, "@"); ok && host != "" && !strings.ContainsAny(host, "/@ ") {
		return "https://" + host, nil
	}
	return "", fmt.Errorf("mastodon: account %s has no base URL; set the instance with account update --base-url https://instance.example", job.Account.Key)
}

// nextMaxID reads max_id from the Link header's rel="next" (the next,
// older page). The link's own host is not followed: requests stay on the
// account's instance, with its token.
func nextMaxID(h http.Header) string {
	for _, l := range ParseLinks(h.Values("Link")) {
		if l.Rel == "next" {
			if u, err := url.Parse(l.URL); err == nil {
				return u.Query().Get("max_id")
			}
		}
	}
	return ""
}

// Link is one entry of a Link header.
type Link struct{ URL, Rel string }

// ParseLinks reads Link headers (RFC 8288): <url>; rel="next", <url>; rel="prev".
func ParseLinks(values []string) []Link {
	var out []Link
	for _, v := range values {
		for v != "" {
			i := strings.IndexByte(v, '<')
			if i < 0 {
				break
			}
			j := strings.IndexByte(v[i:], '>')
			if j < 0 {
				break
			}
			l := Link{URL: v[i+1 : i+j]}
			v = v[i+j+1:]
			params := v
			if k := strings.IndexByte(v, '<'); k >= 0 {
				params = v[:k]
			}
			for _, p := range strings.Split(params, ";") {
				k, val, ok := strings.Cut(strings.TrimSpace(p), "=")
				if ok && strings.EqualFold(strings.TrimSpace(k), "rel") {
					l.Rel = strings.Trim(strings.TrimRight(strings.TrimSpace(val), ","), `"`)
				}
			}
			out = append(out, l)
		}
	}
	return out
}
