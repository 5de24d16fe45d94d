package request

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/catalog"
)

// Journal event types. Every one names its request in data.request.
const (
	EventOpened      = "request.opened"
	EventSearch      = "request.search"
	EventItemsAdded  = "request.items_added"
	EventItemRemoved = "request.item_removed"
	EventWithheld    = "request.withheld"
	EventRedacted    = "request.redacted"
	EventProduced    = "request.produced"
	EventClosed      = "request.closed"
	// EventSearchRun logs a search run outside any request (osmarc
	// search, the web pages): searches for records are records too.
	EventSearchRun = "search.run"
)

// Errors callers test with errors.Is.
var (
	// ErrUnknownRequest: no request has that id.
	ErrUnknownRequest = errors.New("unknown request")
	// ErrClosed: the request is closed and can no longer change.
	ErrClosed = errors.New("request is closed")
	// ErrNotInRequest: the item is not among the request's items.
	ErrNotInRequest = errors.New("item is not in the request")
)

// Statuses.
const (
	StatusOpen   = "open"
	StatusClosed = "closed"
)

// Request is an open-records request as its journal events make it.
type Request struct {
	ID          string    `json:"id"`
	Requester   string    `json:"requester"`
	Description string    `json:"description"`
	Received    string    `json:"received"`
	Due         string    `json:"due"`
	Law         *LawRef   `json:"law,omitempty"`
	Status      string    `json:"status"`
	OpenedAt    time.Time `json:"opened_at"`
	OpenedBy    string    `json:"opened_by"`

	ClosedAt    *time.Time `json:"closed_at,omitempty"`
	ClosedBy    string     `json:"closed_by,omitempty"`
	CloseReason string     `json:"close_reason,omitempty"`

	Searches    []SavedSearch `json:"searches"`
	Items       []ItemRef     `json:"items"`
	Removed     []Removal     `json:"removed"`
	Withheld    []Withholding `json:"withheld"`
	Redactions  []Redaction   `json:"redactions"`
	Productions []Production  `json:"productions"`
	// Events are the journal sequence numbers of the request's events.
	Events []uint64 `json:"events"`
}

// LawRef is what a request records of the law its due date came from, so
// the record stands whatever the presets say later.
type LawRef struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Citation string `json:"citation"`
	Days     int    `json:"days"`
	Count    string `json:"count"`
	Calendar string `json:"calendar,omitempty"`
	Target   bool   `json:"target,omitempty"`
}

// SavedSearch is a search run for a request: part of its scope.
type SavedSearch struct {
	N       int               `json:"n"`
	Query   string            `json:"query"`
	Filters map[string]string `json:"filters,omitempty"`
	RunAt   time.Time         `json:"run_at"`
	By      string            `json:"by"`
	Hits    int               `json:"hits"`
	// Keys are the items found, in the order the search gave them.
	Keys  []string `json:"keys,omitempty"`
	Event uint64   `json:"event"`
}

// ItemRef is an item chosen as responsive.
type ItemRef struct {
	Key     string    `json:"key"`
	AddedAt time.Time `json:"added_at"`
	AddedBy string    `json:"added_by"`
	// Search is the saved search it came from, 0 when named by hand.
	Search int `json:"search,omitempty"`
}

// Removal is an item taken out of a request.
type Removal struct {
	Key    string    `json:"key"`
	Reason string    `json:"reason"`
	At     time.Time `json:"at"`
	By     string    `json:"by"`
}

// Withholding is an item withheld under an exemption.
type Withholding struct {
	Key       string    `json:"key"`
	Exemption Exemption `json:"exemption"`
	Reason    string    `json:"reason"`
	At        time.Time `json:"at"`
	By        string    `json:"by"`
}

// Redaction actions.
const (
	ActionRedact = "redact"
	// ActionKeep marks text the detector flags as not personal
	// information of a private person (an office's public address): it
	// is not redacted.
	ActionKeep = "keep"
)

// Redaction is a person's decision about text: redact it (every
// occurrence, in every item produced) or keep it.
type Redaction struct {
	N      int    `json:"n"`
	Action string `json:"action"`
	// Key is the item the text was marked in ("" for a keep that holds
	// for the whole request).
	Key string `json:"key,omitempty"`
	// Field is where (text, author.name, …); "" means any field.
	Field string `json:"field,omitempty"`
	// Text is what is redacted or kept. For a span it is the text the
	// span covered in Version.
	Text string `json:"text"`
	// Span, when set, is [start, end) in characters of Field in Version.
	Span    *[2]int    `json:"span,omitempty"`
	Version string     `json:"version,omitempty"`
	Exempt  *Exemption `json:"exemption,omitempty"`
	Reason  string     `json:"reason"`
	At      time.Time  `json:"at"`
	By      string     `json:"by"`
}

// Production is one production of a request.
type Production struct {
	Out         string    `json:"out"`
	At          time.Time `json:"at"`
	By          string    `json:"by"`
	Produced    int       `json:"produced"`
	Withheld    int       `json:"withheld"`
	ThreadItems int       `json:"thread_items"`
	Redactions  int       `json:"redactions"`
	JournalSeq  uint64    `json:"journal_seq"`
	JournalHead string    `json:"journal_head"`
	PayloadOxum string    `json:"payload_oxum,omitempty"`
	TagManifest string    `json:"tagmanifest_sha256,omitempty"`
}

// event is the data of every request event; each type uses some fields.
type event struct {
	Request     string            `json:"request"`
	Requester   string            `json:"requester,omitempty"`
	Description string            `json:"description,omitempty"`
	Received    string            `json:"received,omitempty"`
	Due         string            `json:"due,omitempty"`
	Law         *LawRef           `json:"law,omitempty"`
	N           int               `json:"n,omitempty"`
	Query       *string           `json:"query,omitempty"`
	Filters     map[string]string `json:"filters,omitempty"`
	Hits        *int              `json:"hits,omitempty"`
	Keys        []string          `json:"keys,omitempty"`
	Key         string            `json:"key,omitempty"`
	Search      int               `json:"search,omitempty"`
	Exemption   *Exemption        `json:"exemption,omitempty"`
	Reason      string            `json:"reason,omitempty"`
	Redaction   *Redaction        `json:"redaction,omitempty"`
	Production  *Production       `json:"production,omitempty"`
	By          string            `json:"by,omitempty"`
}

// fold makes a request of its events.
func fold(id string, evs []catalog.Event) (*Request, error) {
	r := &Request{ID: id, Searches: []SavedSearch{}, Items: []ItemRef{}, Removed: []Removal{}, Withheld: []Withholding{},
		Redactions: []Redaction{}, Productions: []Production{}}
	opened := false
	for _, ev := range evs {
		var d event
		if err := json.Unmarshal(ev.Data, &d); err != nil {
			return nil, fmt.Errorf("request %s: event %d: %w", id, ev.Seq, err)
		}
		r.Events = append(r.Events, ev.Seq)
		by := ev.Actor
		if d.By != "" {
			by = d.By
		}
		switch ev.Type {
		case EventOpened:
			if opened {
				continue // a second writer took the same id; the first stands
			}
			opened = true
			r.Requester, r.Description, r.Received, r.Due, r.Law = d.Requester, d.Description, d.Received, d.Due, d.Law
			r.Status, r.OpenedAt, r.OpenedBy = StatusOpen, ev.Time, by
		case EventSearch:
			s := SavedSearch{N: d.N, Filters: d.Filters, RunAt: ev.Time, By: by, Keys: d.Keys, Event: ev.Seq}
			if d.Query != nil {
				s.Query = *d.Query
			}
			if d.Hits != nil {
				s.Hits = *d.Hits
			}
			r.Searches = append(r.Searches, s)
		case EventItemsAdded:
			keys := d.Keys
			if d.Search > 0 {
				if s := r.search(d.Search); s != nil {
					keys = s.Keys
				}
			}
			for _, k := range keys {
				if !r.Has(k) {
					r.Items = append(r.Items, ItemRef{Key: k, AddedAt: ev.Time, AddedBy: by, Search: d.Search})
				}
			}
		case EventItemRemoved:
			r.Items = slices.DeleteFunc(r.Items, func(it ItemRef) bool { return it.Key == d.Key })
			r.Removed = append(r.Removed, Removal{Key: d.Key, Reason: d.Reason, At: ev.Time, By: by})
		case EventWithheld:
			if d.Exemption != nil {
				r.Withheld = append(r.Withheld, Withholding{Key: d.Key, Exemption: *d.Exemption, Reason: d.Reason, At: ev.Time, By: by})
			}
		case EventRedacted:
			if d.Redaction != nil {
				x := *d.Redaction
				x.N, x.At, x.By = len(r.Redactions)+1, ev.Time, by
				r.Redactions = append(r.Redactions, x)
			}
		case EventProduced:
			if d.Production != nil {
				p := *d.Production
				p.At, p.By = ev.Time, by
				r.Productions = append(r.Productions, p)
			}
		case EventClosed:
			t := ev.Time
			r.Status, r.ClosedAt, r.ClosedBy, r.CloseReason = StatusClosed, &t, by, d.Reason
		}
	}
	if !opened {
		return nil, fmt.Errorf("request %s: %w (its events do not open it)", id, ErrUnknownRequest)
	}
	return r, nil
}

func (r *Request) search(n int) *SavedSearch {
	for i := range r.Searches {
		if r.Searches[i].N == n {
			return &r.Searches[i]
		}
	}
	return nil
}

// Has reports whether key is among the request's items.
func (r *Request) Has(key string) bool {
	return slices.ContainsFunc(r.Items, func(it ItemRef) bool { return it.Key == key })
}

// WithheldUnder returns the withholdings of key that still count: those
// of items still in the request.
func (r *Request) WithheldUnder(key string) []Withholding {
	if !r.Has(key) {
		return nil
	}
	var out []Withholding
	for _, w := range r.Withheld {
		if w.Key == key {
			out = append(out, w)
		}
	}
	return out
}

// DueDate is the due date as a day.
func (r *Request) DueDate() time.Time {
	t, _ := time.Parse(DateLayout, r.Due)
	return t
}

// DaysLeft is how many calendar days remain until the due date on day
// today: 0 on the day itself, negative when overdue.
func (r *Request) DaysLeft(today time.Time) int {
	return int(r.DueDate().Sub(DateOf(today)).Hours() / 24)
}

// Get returns the request with id.
func Get(a *archive.Archive, id string) (*Request, error) {
	id = strings.TrimSpace(id)
	evs, err := a.Catalog().RequestEvents(id)
	if errors.Is(err, catalog.ErrNotFound) {
		return nil, fmt.Errorf("request %q: %w (see osmarc request list --all)", id, ErrUnknownRequest)
	}
	if err != nil {
		return nil, err
	}
	return fold(id, evs)
}

// List returns every request, open and closed, in id order.
func List(a *archive.Archive) ([]*Request, error) {
	ids, err := a.Catalog().RequestIDs()
	if err != nil {
		return nil, err
	}
	out := make([]*Request, 0, len(ids))
	for _, id := range ids {
		r, err := Get(a, id)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// OpenParams are what opening a request takes.
type OpenParams struct {
	Requester   string
	Description string
	// Received is the day the request arrived.
	Received time.Time
	// Due, when set, is the due date; otherwise Law gives it.
	Due time.Time
	// Law is a preset's id or alias.
	Law string
	// Days replaces a target law's days (as soon as practicable).
	Days int
	// Today, when set, refuses a receipt date after it.
	Today time.Time
}

func checkText(what, s string, max int) (string, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return s, fmt.Errorf("%s is required", what)
	case !utf8.ValidString(s):
		return s, fmt.Errorf("%s is not valid UTF-8", what)
	case len(s) > max:
		return s, fmt.Errorf("%s is longer than %d bytes", what, max)
	}
	return s, nil
}

// Open opens a request and returns it. Its id is REQ-<year received>-<n>.
func Open(ctx context.Context, a *archive.Archive, p *Presets, o OpenParams) (*Request, error) {
	var err error
	if o.Requester, err = checkText("request: --requester", o.Requester, 1000); err != nil {
		return nil, err
	}
	if o.Description, err = checkText("request: --description", o.Description, 100000); err != nil {
		return nil, err
	}
	if o.Received.IsZero() {
		return nil, errors.New("request: --received is required")
	}
	received := DateOf(o.Received)
	if !o.Today.IsZero() && received.After(DateOf(o.Today)) {
		return nil, fmt.Errorf("request: received %s is after today (%s)", received.Format(DateLayout), DateOf(o.Today).Format(DateLayout))
	}
	d := event{Requester: o.Requester, Description: o.Description, Received: received.Format(DateLayout)}
	switch {
	case !o.Due.IsZero() && o.Law != "":
		return nil, errors.New("request: give --due or --law, not both")
	case !o.Due.IsZero():
		if o.Days > 0 {
			return nil, errors.New("request: --days goes with --law")
		}
		if DateOf(o.Due).Before(received) {
			return nil, fmt.Errorf("request: due %s is before received %s", DateOf(o.Due).Format(DateLayout), d.Received)
		}
		d.Due = DateOf(o.Due).Format(DateLayout)
	case o.Law != "":
		l, err := p.Law(o.Law)
		if err != nil {
			return nil, fmt.Errorf("request: %w", err)
		}
		due, err := p.Due(l, received, o.Days)
		if err != nil {
			return nil, fmt.Errorf("request: %w", err)
		}
		d.Due = due.Format(DateLayout)
		days := l.Days
		if o.Days > 0 {
			days = o.Days
		}
		d.Law = &LawRef{ID: l.ID, Name: l.Name, Citation: l.Citation, Days: days, Count: l.Count, Calendar: l.Calendar, Target: l.Target}
	default:
		return nil, errors.New("request: give --due DATE or --law LAW (see osmarc request laws)")
	}
	ids, err := a.Catalog().RequestIDs()
	if err != nil {
		return nil, err
	}
	prefix := fmt.Sprintf("REQ-%04d-", received.Year())
	n := 1
	for _, id := range ids {
		var k int
		if s, ok := strings.CutPrefix(id, prefix); ok {
			if _, err := fmt.Sscanf(s, "%d", &k); err == nil && k >= n {
				n = k + 1
			}
		}
	}
	d.Request = fmt.Sprintf("%s%04d", prefix, n)
	if _, err := a.RecordEvent(ctx, EventOpened, d); err != nil {
		return nil, err
	}
	return Get(a, d.Request)
}

// getOpen returns a request that may still change.
func getOpen(a *archive.Archive, id string) (*Request, error) {
	r, err := Get(a, id)
	if err != nil {
		return nil, err
	}
	if r.Status == StatusClosed {
		return nil, fmt.Errorf("request %s: %w (closed %s)", r.ID, ErrClosed, r.ClosedAt.Format(time.RFC3339))
	}
	return r, nil
}

func record(ctx context.Context, a *archive.Archive, typ string, d event) (*Request, error) {
	if _, err := a.RecordEvent(ctx, typ, d); err != nil {
		return nil, err
	}
	return Get(a, d.Request)
}

// Search is a search to save in a request's scope.
type Search struct {
	Query   string
	Filters map[string]string
	// Keys are every item the search found, in its order.
	Keys []string
	// By is who ran it when that is not the archive's actor (a user of
	// the web pages).
	By string
}

// SaveSearch records a search run for a request, with what it found, and
// returns the saved search (numbered from 1 within the request).
func SaveSearch(ctx context.Context, a *archive.Archive, id string, s Search) (SavedSearch, error) {
	r, err := getOpen(a, id)
	if err != nil {
		return SavedSearch{}, err
	}
	hits := len(s.Keys)
	n := len(r.Searches) + 1
	r, err = record(ctx, a, EventSearch, event{Request: r.ID, N: n, Query: &s.Query, Filters: s.Filters, Hits: &hits, Keys: s.Keys, By: s.By})
	if err != nil {
		return SavedSearch{}, err
	}
	return *r.search(n), nil
}

// LogSearch records, as a search.run event, a search someone ran outside
// any request: who, what, with which filters, and how many hits.
func LogSearch(ctx context.Context, a *archive.Archive, actor, query string, filters map[string]string, hits int) (uint64, error) {
	return a.RecordEvent(ctx, EventSearchRun, map[string]any{"by": actor, "query": query, "filters": filters, "hits": hits})
}

// AddItems adds items to a request; keys already in it are skipped. Every
// key must name an item in the catalog, or nothing is added. It returns
// the request and how many were added.
func AddItems(ctx context.Context, a *archive.Archive, id string, keys []string) (*Request, int, error) {
	r, err := getOpen(a, id)
	if err != nil {
		return nil, 0, err
	}
	if len(keys) == 0 {
		return r, 0, errors.New("request add: name the items' keys, or --search N")
	}
	var add []string
	for _, k := range keys {
		k = strings.TrimSpace(k)
		if _, err := a.Catalog().Item(k); err != nil {
			if errors.Is(err, catalog.ErrNotFound) {
				return r, 0, fmt.Errorf("request add: item %q: %w (nothing was added)", k, archive.ErrNotFound)
			}
			return r, 0, err
		}
		if !r.Has(k) && !slices.Contains(add, k) {
			add = append(add, k)
		}
	}
	if len(add) == 0 {
		return r, 0, nil
	}
	r, err = record(ctx, a, EventItemsAdded, event{Request: r.ID, Keys: add})
	return r, len(add), err
}

// AddSearch adds every item saved search n found.
func AddSearch(ctx context.Context, a *archive.Archive, id string, n int) (*Request, int, error) {
	r, err := getOpen(a, id)
	if err != nil {
		return nil, 0, err
	}
	s := r.search(n)
	if s == nil {
		return r, 0, fmt.Errorf("request %s has no saved search %d (it has %d)", r.ID, n, len(r.Searches))
	}
	before := len(r.Items)
	fresh := 0
	for _, k := range s.Keys {
		if !r.Has(k) {
			fresh++
		}
	}
	if fresh == 0 {
		return r, 0, nil
	}
	r, err = record(ctx, a, EventItemsAdded, event{Request: r.ID, Search: n})
	if err != nil {
		return nil, 0, err
	}
	return r, len(r.Items) - before, nil
}

// RemoveItem takes an item out of a request, with a reason.
func RemoveItem(ctx context.Context, a *archive.Archive, id, key, reason string) (*Request, error) {
	r, err := getOpen(a, id)
	if err != nil {
		return nil, err
	}
	if reason, err = checkText("request remove: --reason", reason, 10000); err != nil {
		return nil, err
	}
	if !r.Has(key) {
		return nil, fmt.Errorf("request remove: %s: %w %s", key, ErrNotInRequest, r.ID)
	}
	return record(ctx, a, EventItemRemoved, event{Request: r.ID, Key: key, Reason: reason})
}

// Withhold withholds an item of the request under an exemption.
func Withhold(ctx context.Context, a *archive.Archive, p *Presets, id, key, code, reason string) (*Request, error) {
	r, err := getOpen(a, id)
	if err != nil {
		return nil, err
	}
	ex, err := p.Exemption(code)
	if err != nil {
		return nil, fmt.Errorf("request withhold: %w", err)
	}
	if reason, err = checkText("request withhold: --reason", reason, 10000); err != nil {
		return nil, err
	}
	if !r.Has(key) {
		return nil, fmt.Errorf("request withhold: %s: %w %s (add it first)", key, ErrNotInRequest, r.ID)
	}
	for _, w := range r.WithheldUnder(key) {
		if w.Exemption.Code == ex.Code {
			return nil, fmt.Errorf("request withhold: %s is already withheld under %s", key, ex.Code)
		}
	}
	return record(ctx, a, EventWithheld, event{Request: r.ID, Key: key, Exemption: &ex, Reason: reason})
}

// Close closes a request. Its date can start a retention cutoff.
func Close(ctx context.Context, a *archive.Archive, id, reason string) (*Request, error) {
	r, err := getOpen(a, id)
	if err != nil {
		return nil, err
	}
	return record(ctx, a, EventClosed, event{Request: r.ID, Reason: strings.TrimSpace(reason)})
}
