package retention

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/catalog"
	"github.com/osmarc/osmarc/archive/request"
)

// Journal event types of records management.
const (
	EventScheduleAdded   = "schedule.added"
	EventScheduleUpdated = "schedule.updated"
	EventHoldPlaced      = "hold.placed"
	EventHoldReleased    = "hold.released"
)

// ErrNotFound: no such schedule, hold or plan.
var ErrNotFound = errors.New("not found")

// Matcher decides which of some items a search query matches; the search
// index implements it. Without one, a hold's query is read broadly: every
// item in the hold's other bounds is held, which is the safe side.
type Matcher interface {
	Match(ctx context.Context, query string, keys []string) (map[string]bool, error)
}

// Records is records management over one archive: its schedules, holds and
// dispositions, kept as journal events. Now is the clock every decision is
// taken at; Loc the organisation's time zone. Set its fields before use;
// after that its methods are safe for concurrent use: the classification
// it caches is shared, and its changes are made one at a time.
type Records struct {
	a       *archive.Archive
	Now     func() time.Time
	Loc     *time.Location
	Matcher Matcher
	// Actor is who acts when the context names no one (archive.WithActor).
	Actor string
	// ParseQuery splits a rule's query into clauses (index.Clauses); rules
	// cannot be added or tested without it.
	ParseQuery func(query string) ([]Clause, error)
	// OnReclassify, when set, is told of items whose classification
	// changed, so the index can refresh their records-management fields.
	OnReclassify func(ctx context.Context, keys []string) error
	// Transfer writes the package of the items a plan transfers.
	Transfer Transferer
	// Presets, when set, reads the request presets whose exemption codes
	// rules and decisions may name (the shipped ones and the
	// organisation's); nil means the shipped ones only.
	Presets func() (*request.Presets, error)
	// mu guards cls and gen: one Records serves concurrent requests (the
	// web application) and a capture's indexer at once.
	mu sync.Mutex
	// cls is the classification computed for this Records, dropped when
	// rules or decisions change; gen counts those changes.
	cls *Classifier
	gen int
	// changeMu makes changes of classification (rules, people's
	// decisions) through this Records one at a time, so two cannot both
	// start from the same rule set.
	changeMu sync.Mutex
}

func (r *Records) actor(ctx context.Context) string {
	if s := archive.ActorFrom(ctx); s == "" && r.Actor != "" {
		return r.Actor
	}
	return r.a.Actor(ctx)
}

// New returns records management over a, deciding at now.
func New(a *archive.Archive, now func() time.Time) *Records {
	return &Records{a: a, Now: now, Loc: time.UTC}
}

func (r *Records) now() time.Time { return r.Now().UTC() }

// Schedule returns one schedule.
func (r *Records) Schedule(id string) (Schedule, error) {
	var s Schedule
	b, err := r.a.Catalog().State("schedules", id)
	if errors.Is(err, catalog.ErrNotFound) {
		return s, fmt.Errorf("schedule %q: %w (see osmarc schedule list)", id, ErrNotFound)
	}
	if err != nil {
		return s, err
	}
	return s, json.Unmarshal(b, &s)
}

// Schedules lists the schedules in id order.
func (r *Records) Schedules() ([]Schedule, error) {
	var out []Schedule
	for b, err := range r.a.Catalog().States("schedules") {
		if err != nil {
			return nil, err
		}
		var s Schedule
		if err := json.Unmarshal(b, &s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// AddSchedule records a new schedule.
func (r *Records) AddSchedule(ctx context.Context, s Schedule) error {
	if err := s.Check(); err != nil {
		return err
	}
	if _, err := r.Schedule(s.ID); err == nil {
		return fmt.Errorf("schedule %s exists already (change it with schedule import or schedule update)", s.ID)
	}
	_, err := r.a.RecordEvent(ctx, EventScheduleAdded, map[string]any{"schedule": s})
	return err
}

// UpdateSchedule changes a schedule. A change that would keep records for
// less time is refused while any hold covers records under the schedule:
// a hold's records never lose retention.
func (r *Records) UpdateSchedule(ctx context.Context, s Schedule, reason string) error {
	if err := s.Check(); err != nil {
		return err
	}
	old, err := r.Schedule(s.ID)
	if err != nil {
		return err
	}
	if old == s {
		return nil
	}
	shorter := !s.Retain.Longer(old.Retain) || (old.Cutoff != s.Cutoff && s.Cutoff.Kind == CutoffNone)
	if shorter {
		held, err := r.heldUnder(ctx, s.ID)
		if err != nil {
			return err
		}
		if len(held) > 0 {
			return fmt.Errorf("schedule %s: the change would shorten the retention of %d record(s) under hold (%s); release the hold first or keep the longer period",
				s.ID, len(held), strings.Join(held[:min(3, len(held))], ", "))
		}
	}
	_, err = r.a.RecordEvent(ctx, EventScheduleUpdated, map[string]any{"schedule": s, "previous": old, "reason": reason, "shortened": shorter})
	return err
}

// Hold is a legal hold: a named matter whose scope no disposition may
// touch. The scope is read when it matters, so items captured after the
// hold was placed are in it too.
type Hold struct {
	Name     string     `json:"name"`
	Matter   string     `json:"matter"`
	Reason   string     `json:"reason"`
	Accounts []string   `json:"accounts,omitempty"`
	From     *time.Time `json:"from,omitempty"`
	To       *time.Time `json:"to,omitempty"`
	Query    string     `json:"query,omitempty"`
	Status   string     `json:"status"`
	PlacedAt time.Time  `json:"placed_at"`
	PlacedBy string     `json:"placed_by"`
	// ReleasedAt, ReleasedBy and ReleaseReason record the release.
	ReleasedAt    *time.Time `json:"released_at,omitempty"`
	ReleasedBy    string     `json:"released_by,omitempty"`
	ReleaseReason string     `json:"release_reason,omitempty"`
}

// Hold statuses.
const (
	HoldActive   = "active"
	HoldReleased = "released"
)

// Covers reports whether the hold's bounds (accounts, dates) include the
// item; the query, if any, is checked by the caller.
func (h *Hold) Covers(it *catalog.Item) bool {
	if h.Status != HoldActive {
		return false
	}
	if len(h.Accounts) > 0 {
		key := archive.AccountKey(it.Platform, it.Account)
		if !slices.Contains(h.Accounts, key) {
			return false
		}
	}
	if h.From != nil && it.CreatedAt.Before(*h.From) {
		return false
	}
	if h.To != nil && !it.CreatedAt.Before(*h.To) {
		return false
	}
	return true
}

// PlaceHold records a hold. actor is who placed it (roles come with the
// web application; the command line records the actor).
func (r *Records) PlaceHold(ctx context.Context, h Hold, actor string) (Hold, error) {
	h.Name = strings.TrimSpace(h.Name)
	switch {
	case h.Name == "" || strings.ContainsAny(h.Name, "/\n"):
		return h, fmt.Errorf("hold: a name is required (no '/' or line breaks)")
	case strings.TrimSpace(h.Matter) == "":
		return h, fmt.Errorf("hold %s: --matter is required (the case or matter it preserves records for)", h.Name)
	case strings.TrimSpace(h.Reason) == "":
		return h, fmt.Errorf("hold %s: --reason is required", h.Name)
	case h.From != nil && h.To != nil && !h.From.Before(*h.To):
		return h, fmt.Errorf("hold %s: --from must be before --to", h.Name)
	}
	if h.Query != "" && r.ParseQuery != nil {
		if _, err := r.ParseQuery(h.Query); err != nil {
			return h, fmt.Errorf("%w hold %s: --query %q: %v", ErrInvalid, h.Name, h.Query, err)
		}
	}
	if old, err := r.Hold(h.Name); err == nil && old.Status == HoldActive {
		return h, fmt.Errorf("hold %s is already in place (since %s)", h.Name, old.PlacedAt.Format(time.DateOnly))
	}
	for i, acct := range h.Accounts {
		a, err := r.a.Account(acct)
		if err != nil {
			return h, fmt.Errorf("hold %s: %w", h.Name, err)
		}
		h.Accounts[i] = a.Key
	}
	h.Status, h.PlacedAt, h.PlacedBy = HoldActive, r.now(), actor
	h.ReleasedAt, h.ReleasedBy, h.ReleaseReason = nil, "", ""
	if _, err := r.a.RecordEvent(ctx, EventHoldPlaced, map[string]any{"hold": h}); err != nil {
		return h, err
	}
	// On a store with Object Lock the blobs get the legal-hold flag (lock.go).
	if err := r.flagHold(ctx, h); err != nil {
		return h, fmt.Errorf("hold %s is placed, but setting the legal-hold flag on its blobs in the store failed (run osmarc lock apply to finish): %w", h.Name, err)
	}
	return h, nil
}

// ReleaseHold releases a hold; its records may be disposed of again unless
// another hold covers them.
func (r *Records) ReleaseHold(ctx context.Context, name, reason, actor string) (Hold, error) {
	h, err := r.Hold(name)
	if err != nil {
		return h, err
	}
	if h.Status != HoldActive {
		return h, fmt.Errorf("hold %s was already released on %s", name, h.ReleasedAt.Format(time.DateOnly))
	}
	if strings.TrimSpace(reason) == "" {
		return h, fmt.Errorf("hold %s: --reason is required to release it", name)
	}
	// On a store with Object Lock the flags go first (lock.go).
	if err := r.unflagHold(ctx, h); err != nil {
		return h, fmt.Errorf("hold %s stays in place: removing the legal-hold flag from its blobs in the store failed: %w", name, err)
	}
	now := r.now()
	h.Status, h.ReleasedAt, h.ReleasedBy, h.ReleaseReason = HoldReleased, &now, actor, reason
	_, err = r.a.RecordEvent(ctx, EventHoldReleased, map[string]any{"hold": h})
	return h, err
}

// Hold returns one hold.
func (r *Records) Hold(name string) (Hold, error) {
	var h Hold
	b, err := r.a.Catalog().State("holds", name)
	if errors.Is(err, catalog.ErrNotFound) {
		return h, fmt.Errorf("hold %q: %w (see osmarc hold list)", name, ErrNotFound)
	}
	if err != nil {
		return h, err
	}
	return h, json.Unmarshal(b, &h)
}

// Holds lists holds, active and released.
func (r *Records) Holds() ([]Hold, error) {
	var out []Hold
	for b, err := range r.a.Catalog().States("holds") {
		if err != nil {
			return nil, err
		}
		var h Hold
		if err := json.Unmarshal(b, &h); err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, nil
}

// holdChecker tells, for batches of items, which active holds apply.
type holdChecker struct {
	r     *Records
	holds []Hold
}

func (r *Records) holdChecker() (*holdChecker, error) {
	hs, err := r.Holds()
	if err != nil {
		return nil, err
	}
	var active []Hold
	for _, h := range hs {
		if h.Status == HoldActive {
			active = append(active, h)
		}
	}
	return &holdChecker{r: r, holds: active}, nil
}

// held returns, for each item, the names of the holds that apply to it.
func (hc *holdChecker) held(ctx context.Context, items []catalog.Item) (map[string][]string, error) {
	out := map[string][]string{}
	for _, h := range hc.holds {
		var in []string
		for i := range items {
			if h.Covers(&items[i]) {
				in = append(in, items[i].Key)
			}
		}
		if len(in) == 0 {
			continue
		}
		if h.Query != "" && hc.r.Matcher != nil {
			m, err := hc.r.Matcher.Match(ctx, h.Query, in)
			if err != nil {
				return nil, fmt.Errorf("hold %s: query: %w", h.Name, err)
			}
			// An item the index does not hold yet (captured since it was
			// last updated) cannot be told apart: it is held, the safe side.
			indexed, err := hc.r.Matcher.Match(ctx, "", in)
			if err != nil {
				return nil, fmt.Errorf("hold %s: query: %w", h.Name, err)
			}
			kept := in[:0]
			for _, k := range in {
				if m[k] || !indexed[k] {
					kept = append(kept, k)
				}
			}
			in = kept
		}
		for _, k := range in {
			out[k] = append(out[k], h.Name)
		}
	}
	return out, nil
}

// HoldCount is how many archived items a hold covers now.
func (r *Records) HoldCount(ctx context.Context, h Hold) (int, error) {
	hc := &holdChecker{r: r, holds: []Hold{h}}
	if h.Status != HoldActive {
		hc.holds[0].Status = HoldActive // count what it covered
	}
	n := 0
	err := r.eachBatch(func(batch []catalog.Item) error {
		m, err := hc.held(ctx, batch)
		n += len(m)
		return err
	})
	return n, err
}

// eachBatch walks the catalog's items in batches.
func (r *Records) eachBatch(fn func([]catalog.Item) error) error {
	var batch []catalog.Item
	for it, err := range r.a.List(archive.ListFilter{}) {
		if err != nil {
			return err
		}
		batch = append(batch, it)
		if len(batch) == 1000 {
			if err := fn(batch); err != nil {
				return err
			}
			batch = batch[:0]
		}
	}
	if len(batch) > 0 {
		return fn(batch)
	}
	return nil
}

// heldUnder lists items under schedule id that a hold covers.
func (r *Records) heldUnder(ctx context.Context, id string) ([]string, error) {
	hc, err := r.holdChecker()
	if err != nil || len(hc.holds) == 0 {
		return nil, err
	}
	sched, err := r.scheduleOf(ctx)
	if err != nil {
		return nil, err
	}
	var out []string
	err = r.eachBatch(func(batch []catalog.Item) error {
		var under []catalog.Item
		for _, it := range batch {
			if s, _ := sched(&it); s == id {
				under = append(under, it)
			}
		}
		m, err := hc.held(ctx, under)
		for k := range m {
			out = append(out, k)
		}
		return err
	})
	slices.Sort(out)
	return out, err
}

// scheduleOf returns a function giving an item's schedule id and where it
// came from: a person's classification, the first classification rule
// that matches, else the account's schedule (the safe default).
func (r *Records) scheduleOf(ctx context.Context) (func(*catalog.Item) (string, string), error) {
	cl, err := r.Classifier(ctx)
	if err != nil {
		return nil, err
	}
	return func(it *catalog.Item) (string, string) {
		a := cl.Of(it.Key)
		switch {
		case a.Schedule != "" && a.Source == SourcePerson:
			return a.Schedule, "classified by a person"
		case a.Schedule != "":
			return a.Schedule, "rule " + a.Rule
		}
		if acct, ok := cl.accounts[archive.AccountKey(it.Platform, it.Account)]; ok && acct.Schedule != "" {
			return acct.Schedule, "account " + acct.Key
		}
		return "", ""
	}, nil
}

// HoldsOn names the active holds that apply to one item now.
func (r *Records) HoldsOn(ctx context.Context, key string) ([]string, error) {
	it, err := r.a.Catalog().Item(key)
	if err != nil {
		return nil, fmt.Errorf("item %s: %w", key, ErrNotFound)
	}
	hc, err := r.holdChecker()
	if err != nil {
		return nil, err
	}
	m, err := hc.held(ctx, []catalog.Item{it})
	return m[key], err
}
