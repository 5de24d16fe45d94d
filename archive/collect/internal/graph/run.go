package graph

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/collect"
)

// Run is one run of a Graph API collector (Facebook Pages, Instagram) over
// one account: its client, a sink that counts bad records, and the handle
// its items are recorded under. Facebook and Instagram list their objects
// and the comments on them alike; what differs is the objects.
type Run struct {
	Job     *collect.Job
	G       *Client
	Sink    *Tracker
	Account string
}

// NewRun starts a run of job.
func NewRun(job *collect.Job) *Run {
	return &Run{Job: job, G: NewClient(job), Sink: &Tracker{Sink: job.Sink}, Account: job.Account.Handle}
}

// Page keeps a fetched page byte for byte; ok is false when it is not a
// list page (reported as bad, and the listing goes on).
func (r *Run) Page(ctx context.Context, f *Fetched) (d archive.Digest, ok bool, err error) {
	d, err = r.Sink.PutRaw(ctx, f.Body, f.URL, "", "application/json")
	if err != nil {
		return d, false, err
	}
	if f.Err != nil {
		r.Sink.Bad(&archive.InputError{Source: f.URL, Err: fmt.Errorf("%w: %v", collect.ErrMalformed, f.Err)})
		return d, false, nil
	}
	return d, true, nil
}

// Add downloads the item's media (urls, see Client.Media) and records it
// as found at ptr in the raw page.
func (r *Run) Add(ctx context.Context, it archive.Item, urls []string, raw archive.Digest, ptr, source string, m json.RawMessage) error {
	if err := r.G.Media(ctx, r.Job, r.Sink, &it, urls); err != nil {
		return err
	}
	return Add(ctx, r.Sink, it, archive.ItemOptions{Raw: &raw, RawPath: ptr, Source: source, Metrics: m})
}

// Settle turns the end of a listing that is not the whole run's (the
// comments of one object) into what the run does next: a malformed page
// was reported where it was read, and an object gone since it was listed
// is reported here, and the run goes on; other errors end it.
func (r *Run) Settle(err error, what, path string) error {
	switch {
	case err == nil, errors.Is(err, collect.ErrMalformed):
		return nil
	case errors.Is(err, collect.ErrNotFound):
		r.Sink.Bad(&archive.InputError{Source: r.G.Shown(path, nil), Err: fmt.Errorf("%s: %v", what, err)})
		return nil
	}
	return fmt.Errorf("%s: %w", what, err)
}

// Each calls fn with each element of a list page's data that decodes as a
// T; one that does not is reported as bad ("data[i]: …") and skipped.
func Each[T any](r *Run, f *Fetched, fn func(i int, v *T) error) error {
	for i, raw := range f.Page.Data {
		v := new(T)
		if err := json.Unmarshal(raw, v); err != nil {
			r.Sink.Bad(&archive.InputError{Source: f.URL, Err: fmt.Errorf("data[%d]: %v", i, Describe(err))})
			continue
		}
		if err := fn(i, v); err != nil {
			return err
		}
	}
	return nil
}

// Window is the incremental window of a listing of an account's objects,
// newest first. A run remembers the newest object's time; the next lists
// only objects since then, less a lookback (for late edits and objects
// the platform dates late), unless it is a full run.
type Window struct {
	since, newest time.Time
}

// windowState is what a run remembers.
type windowState struct {
	Newest time.Time `json:"newest,omitzero"`
}

// NewWindow reads the state of the last run and, unless full, asks q for
// objects since then less lookback.
func NewWindow(state json.RawMessage, full bool, lookback time.Duration, q url.Values) *Window {
	var st windowState
	if len(state) > 0 {
		_ = json.Unmarshal(state, &st) // a state the collector cannot read means a first run
	}
	w := &Window{newest: st.Newest}
	if !full && !st.Newest.IsZero() {
		w.since = st.Newest.Add(-lookback)
		q.Set("since", strconv.FormatInt(w.since.Unix(), 10))
	}
	return w
}

// Keep says whether an object created then is in the window (a pinned
// object, or an API that ignored since, may be older), and remembers the
// newest it kept.
func (w *Window) Keep(created time.Time) bool {
	if !w.since.IsZero() && created.Before(w.since) {
		return false
	}
	if created.After(w.newest) {
		w.newest = created
	}
	return true
}

// Finish records where the run got to and, when it was a full run that
// read every page without a bad record, that it listed key completely.
func (w *Window) Finish(r *Run, key string) {
	if !w.newest.IsZero() {
		b, _ := json.Marshal(windowState{Newest: w.newest.UTC()})
		r.Job.Sink.SetState(b)
	}
	if r.Job.Full && r.Sink.Bads == 0 {
		r.Job.Sink.Complete(archive.Scope{Account: key})
	}
}
