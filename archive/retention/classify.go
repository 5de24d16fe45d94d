package retention

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/catalog"
	"github.com/osmarc/osmarc/archive/request"
)

// Classes of an item (DoD 5015.02, NARA): a record, a secondary copy of a
// record kept elsewhere (a post that only links to a publication),
// transitory material kept only a short time, or non-record material.
const (
	ClassRecord        = "record"
	ClassSecondaryCopy = "secondary-copy"
	ClassTransitory    = "transitory"
	ClassNonRecord     = "non-record"
)

// Classes lists the classes in the order people read them.
var Classes = []string{ClassRecord, ClassSecondaryCopy, ClassTransitory, ClassNonRecord}

// ParseClass reads a class as people write it ("secondary copy",
// "Non-Record", "nonrecord").
func ParseClass(s string) (string, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	t = strings.NewReplacer(" ", "-", "_", "-").Replace(t)
	switch t {
	case ClassRecord, ClassSecondaryCopy, ClassTransitory, ClassNonRecord:
		return t, nil
	case "secondary", "copy", "secondarycopy":
		return ClassSecondaryCopy, nil
	case "nonrecord":
		return ClassNonRecord, nil
	}
	return "", fmt.Errorf("%w class %q: want record, secondary-copy, transitory or non-record", ErrInvalid, s)
}

// Journal event types of classification. A rules event carries the whole
// ordered rule set ("rules"), so the catalog keeps its current state.
const (
	EventRulesChanged         = "rules.changed"
	EventClassificationSet    = "classification.set"
	EventClassificationUndone = "classification.undone"
)

// Sources of an item's classification.
const (
	SourcePerson  = "person"
	SourceRule    = "rule"
	SourceDefault = "default"
)

// Rule classifies the items its query matches. Match uses the query
// syntax of osmarc search, with one difference (RuleSemanticsAll): in a
// rule every clause is required unless it starts with "-", which still
// excludes. In a search, clauses without "+" are alternatives; a records
// officer writing "platform:facebook kind:comment" means Facebook
// comments, not everything on Facebook and every comment.
//
// A rule keeps the semantics it was approved under: rules recorded before
// every clause was required carry no Semantics (RuleSemanticsSearch) and
// still match what the same query finds in osmarc search, so replaying an
// old journal never silently reclassifies records.
type Rule struct {
	ID    string `json:"id"`
	Match string `json:"match"`
	// Semantics is how Match is read: RuleSemanticsAll for rules added
	// now; absent (0, RuleSemanticsSearch) in rules recorded before.
	Semantics int `json:"semantics,omitempty"`
	// Query is Match as the index evaluates it under RuleSemanticsAll:
	// each clause without "+" or "-" with a "+" in front. It is recorded
	// with the rule, so the journal says exactly what was evaluated.
	Query      string    `json:"query,omitempty"`
	Class      string    `json:"class"`
	Schedule   string    `json:"schedule,omitempty"`
	Exemptions []string  `json:"exemptions,omitempty"`
	Note       string    `json:"note,omitempty"`
	AddedBy    string    `json:"added_by"`
	AddedAt    time.Time `json:"added_at"`
}

// Rule semantics: how a rule's Match is read.
const (
	// RuleSemanticsSearch is how rules recorded before RuleSemanticsAll
	// read (their Semantics is absent): exactly as osmarc search does, so
	// with no "+" clause any one plain clause is enough, and with one,
	// plain clauses only rank and decide nothing.
	RuleSemanticsSearch = 0
	// RuleSemanticsAll: every clause is required unless it starts with
	// "-" (excluded). An alternative within one field is a regular
	// expression over its whole value (kind:/comment|reply/); across
	// fields, write two rules.
	RuleSemanticsAll = 2
)

// EvaluatedQuery is the query the index evaluates for the rule: Query
// under RuleSemanticsAll, Match as typed for a rule recorded before.
func (ru Rule) EvaluatedQuery() string {
	if ru.Semantics >= RuleSemanticsAll && ru.Query != "" {
		return ru.Query
	}
	return ru.Match
}

// assignment is the classification the rule gives the items it matches.
func (ru Rule) assignment() Assignment {
	return Assignment{Class: ru.Class, Schedule: ru.Schedule, Exemptions: ru.Exemptions, Source: SourceRule, Rule: ru.ID}
}

// requireAll is the query of clauses cs with every clause that has no
// "+" or "-" required.
func requireAll(cs []Clause) string {
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = c.Text
		if !c.Required && !c.Excluded {
			parts[i] = "+" + c.Text
		}
	}
	return strings.Join(parts, " ")
}

// RuleSet is the ordered list of rules: the first that matches an item
// wins. Version counts its changes.
type RuleSet struct {
	ID      string `json:"id"`
	Version int    `json:"version"`
	Rules   []Rule `json:"rules"`
	// NextID numbers rules (r1, r2, …); an id is never reused.
	NextID int `json:"next_id"`
}

const ruleSetID = "rules"

// Decision is a person's classification of one item. It outranks every
// rule until it is undone.
type Decision struct {
	Key        string    `json:"key"`
	Class      string    `json:"class"`
	Schedule   string    `json:"schedule,omitempty"`
	Exemptions []string  `json:"exemptions,omitempty"`
	Reason     string    `json:"reason"`
	By         string    `json:"by"`
	At         time.Time `json:"at"`
	// Status is "set", or "undone" once a person undid it.
	Status     string     `json:"status"`
	UndoneBy   string     `json:"undone_by,omitempty"`
	UndoneAt   *time.Time `json:"undone_at,omitempty"`
	UndoReason string     `json:"undo_reason,omitempty"`
}

// assignment is the classification a decision in force gives its item.
func (d Decision) assignment() Assignment {
	return Assignment{Class: d.Class, Schedule: d.Schedule, Exemptions: d.Exemptions, Source: SourcePerson}
}

// Assignment is an item's classification as it stands: class, schedule
// ("" means the account's), exemption codes, and where it came from (a
// person, a rule by id, or the default: a record under the account's
// schedule).
type Assignment struct {
	Class      string   `json:"class"`
	Schedule   string   `json:"schedule,omitempty"`
	Exemptions []string `json:"exemptions,omitempty"`
	Source     string   `json:"source"`
	Rule       string   `json:"rule,omitempty"`
}

func (a Assignment) same(b Assignment) bool {
	return a.Class == b.Class && a.Schedule == b.Schedule && slices.Equal(a.Exemptions, b.Exemptions) && a.Source == b.Source && a.Rule == b.Rule
}

// DefaultAssignment is what an item no rule or person classified is: a
// record under its account's schedule.
var DefaultAssignment = Assignment{Class: ClassRecord, Source: SourceDefault}

// Clause is one clause of a query (index.Clauses gives them).
type Clause struct {
	Text     string
	Field    string
	Required bool
	Excluded bool
}

// RuleMatcher is what classification asks of the search index: which
// items a query matches, all of them or among some, and how many items
// the index holds (to know it is complete).
type RuleMatcher interface {
	Matcher
	MatchKeys(ctx context.Context, query string, fn func(key string) error) (uint64, error)
	Count() (uint64, error)
}

// ErrNoIndex: classification rules need the search index, which is missing
// or not complete.
var ErrNoIndex = errors.New("the search index is needed")

// fields a rule may not match on: they are what classification decides.
var derivedFields = []string{"class", "schedule", "exemption", "hold"}

// Rules returns the current rule set.
func (r *Records) Rules() (RuleSet, error) {
	rs := RuleSet{ID: ruleSetID}
	b, err := r.a.Catalog().State("rules", ruleSetID)
	if errors.Is(err, catalog.ErrNotFound) {
		return rs, nil
	}
	if err != nil {
		return rs, err
	}
	return rs, json.Unmarshal(b, &rs)
}

// Decisions returns the people's classifications in force, by item key.
func (r *Records) Decisions() (map[string]Decision, error) {
	out := map[string]Decision{}
	for b, err := range r.a.Catalog().States("classifications") {
		if err != nil {
			return nil, err
		}
		var d Decision
		if err := json.Unmarshal(b, &d); err != nil {
			return nil, err
		}
		if d.Status == "set" {
			out[d.Key] = d
		}
	}
	return out, nil
}

// Decision returns the person's classification of one item, in force or
// undone.
func (r *Records) Decision(key string) (Decision, error) {
	var d Decision
	b, err := r.a.Catalog().State("classifications", key)
	if errors.Is(err, catalog.ErrNotFound) {
		return d, fmt.Errorf("item %s: %w: no person has classified it", key, ErrNotFound)
	}
	if err != nil {
		return d, err
	}
	return d, json.Unmarshal(b, &d)
}

// checkExemptions normalises exemption codes to the known codes: those
// shipped (archive/request's exemptions.json) and the organisation's own
// (Records.Presets).
func (r *Records) checkExemptions(codes []string) ([]string, error) {
	var out []string
	var p *request.Presets
	for _, c := range codes {
		if strings.TrimSpace(c) == "" {
			continue
		}
		if p == nil {
			var err error
			if p, err = r.presets(); err != nil {
				return nil, err
			}
		}
		e, err := p.Exemption(c)
		if err != nil {
			return nil, fmt.Errorf("%w %v", ErrInvalid, err)
		}
		if !slices.Contains(out, e.Code) {
			out = append(out, e.Code)
		}
	}
	return out, nil
}

// presets are the exemption codes rules and decisions may name.
func (r *Records) presets() (*request.Presets, error) {
	if r.Presets == nil {
		return request.DefaultPresets(), nil
	}
	return r.Presets()
}

// checkRule validates a rule and normalises its class and exemptions.
func (r *Records) checkRule(ru *Rule) error {
	where := "rule"
	if ru.ID != "" {
		where = "rule " + ru.ID
	}
	if strings.TrimSpace(ru.Match) == "" {
		return fmt.Errorf("%w %s: --match is required (a query as osmarc search takes it, such as '+platform:facebook +kind:comment')", ErrInvalid, where)
	}
	if r.ParseQuery == nil {
		return fmt.Errorf("%s: no query parser (the search index's) to check --match with", where)
	}
	cs, err := r.ParseQuery(ru.Match)
	if err != nil {
		return fmt.Errorf("%w %s: --match %q: %v", ErrInvalid, where, ru.Match, err)
	}
	for _, c := range cs {
		if slices.Contains(derivedFields, c.Field) {
			return fmt.Errorf("%w %s: --match %q: a rule cannot match on %s: (it is what classification decides)", ErrInvalid, where, ru.Match, c.Field)
		}
	}
	ru.Semantics, ru.Query = RuleSemanticsAll, requireAll(cs)
	if ru.Class, err = ParseClass(ru.Class); err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	if ru.Schedule != "" {
		if _, err := r.Schedule(ru.Schedule); err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
	}
	if ru.Exemptions, err = r.checkExemptions(ru.Exemptions); err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	return nil
}

// RuleChange is what one change of the rules did, as its event records it.
type RuleChange struct {
	Op     string `json:"op"` // add, remove, move
	Rule   *Rule  `json:"rule,omitempty"`
	From   int    `json:"from,omitempty"`
	To     int    `json:"to,omitempty"`
	Reason string `json:"reason,omitempty"`
	// Evaluated is how many items the rules were evaluated over;
	// Reclassified how many changed class, schedule, exemptions or rule.
	Evaluated    int            `json:"evaluated"`
	Reclassified int            `json:"reclassified"`
	ByClass      map[string]int `json:"by_class"`
	ByRule       map[string]int `json:"by_rule,omitempty"`
	// Assignments is the digest of a blob in the store listing every
	// item a rule classifies under the new rules (JSON Lines: key, class,
	// schedule, exemptions, rule).
	Assignments string `json:"assignments,omitempty"`
	// Keys are the reclassified items (not in the event).
	Keys []string `json:"-"`
}

// AddRule puts a rule at position at (1 is first; 0 or past the end is
// last) and re-evaluates every item.
func (r *Records) AddRule(ctx context.Context, ru Rule, at int, reason string) (Rule, RuleChange, error) {
	r.changeMu.Lock()
	defer r.changeMu.Unlock()
	rs, err := r.Rules()
	if err != nil {
		return ru, RuleChange{}, err
	}
	ru.ID = fmt.Sprintf("r%d", max(rs.NextID, len(rs.Rules))+1)
	if err := r.checkRule(&ru); err != nil {
		return ru, RuleChange{}, err
	}
	ru.AddedBy, ru.AddedAt = r.actor(ctx), r.now()
	next := rs
	next.NextID = max(rs.NextID, len(rs.Rules)) + 1
	next.Rules = slices.Clone(rs.Rules)
	if at <= 0 || at > len(next.Rules) {
		at = len(next.Rules) + 1
	}
	next.Rules = slices.Insert(next.Rules, at-1, ru)
	ch, err := r.changeRules(ctx, rs, next, RuleChange{Op: "add", Rule: &ru, To: at, Reason: reason})
	return ru, ch, err
}

// RemoveRule removes a rule and re-evaluates every item.
func (r *Records) RemoveRule(ctx context.Context, id, reason string) (RuleChange, error) {
	r.changeMu.Lock()
	defer r.changeMu.Unlock()
	rs, err := r.Rules()
	if err != nil {
		return RuleChange{}, err
	}
	i, err := rs.index(id)
	if err != nil {
		return RuleChange{}, err
	}
	if strings.TrimSpace(reason) == "" {
		return RuleChange{}, fmt.Errorf("rule %s: --reason is required to remove it", id)
	}
	ru := rs.Rules[i]
	next := rs
	next.NextID = max(rs.NextID, len(rs.Rules))
	next.Rules = slices.Delete(slices.Clone(rs.Rules), i, i+1)
	return r.changeRules(ctx, rs, next, RuleChange{Op: "remove", Rule: &ru, From: i + 1, Reason: reason})
}

// MoveRule moves a rule to position to (1 is first) and re-evaluates
// every item.
func (r *Records) MoveRule(ctx context.Context, id string, to int, reason string) (RuleChange, error) {
	r.changeMu.Lock()
	defer r.changeMu.Unlock()
	rs, err := r.Rules()
	if err != nil {
		return RuleChange{}, err
	}
	i, err := rs.index(id)
	if err != nil {
		return RuleChange{}, err
	}
	if to < 1 || to > len(rs.Rules) {
		return RuleChange{}, fmt.Errorf("%w rule %s: --to %d: a position from 1 to %d", ErrInvalid, id, to, len(rs.Rules))
	}
	if to == i+1 {
		return RuleChange{}, fmt.Errorf("rule %s is already at position %d", id, to)
	}
	ru := rs.Rules[i]
	next := rs
	next.NextID = max(rs.NextID, len(rs.Rules))
	next.Rules = slices.Insert(slices.Delete(slices.Clone(rs.Rules), i, i+1), to-1, ru)
	return r.changeRules(ctx, rs, next, RuleChange{Op: "move", Rule: &ru, From: i + 1, To: to, Reason: reason})
}

func (rs RuleSet) index(id string) (int, error) {
	for i, ru := range rs.Rules {
		if strings.EqualFold(ru.ID, id) {
			return i, nil
		}
	}
	return 0, fmt.Errorf("rule %q: %w (see osmarc rule list)", id, ErrNotFound)
}

// changeRules evaluates the old and the new rules over every item, and
// records the new rules and what changed as one event. Nothing is
// recorded when the evaluation fails.
func (r *Records) changeRules(ctx context.Context, old, next RuleSet, ch RuleChange) (RuleChange, error) {
	next.ID = ruleSetID
	next.Version = old.Version + 1
	before, err := r.evaluate(ctx, old.Rules)
	if err != nil {
		return ch, err
	}
	after, err := r.evaluate(ctx, next.Rules)
	if err != nil {
		return ch, err
	}
	decisions, err := r.Decisions()
	if err != nil {
		return ch, err
	}
	ch.ByClass, ch.ByRule = map[string]int{}, map[string]int{}
	var keys []string
	for k := range after.byKey {
		keys = append(keys, k)
	}
	for k := range before.byKey {
		if _, ok := after.byKey[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	for _, k := range keys {
		a, inAfter := after.byKey[k]
		b, inBefore := before.byKey[k]
		if inAfter {
			ch.ByRule[a.Rule]++
			enc.Encode(struct {
				Key string `json:"key"`
				Assignment
			}{k, a})
		}
		if _, person := decisions[k]; person {
			continue // a person's decision outranks both
		}
		if !inAfter {
			a = DefaultAssignment
		}
		if !inBefore {
			b = DefaultAssignment
		}
		if !a.same(b) {
			ch.Keys = append(ch.Keys, k)
		}
	}
	ch.Evaluated, ch.Reclassified = after.evaluated, len(ch.Keys)
	for _, a := range after.byKey {
		ch.ByClass[a.Class]++
	}
	ch.ByClass[ClassRecord+" (default)"] = after.evaluated - len(after.byKey)
	if buf.Len() > 0 {
		d := archive.Sum(buf.Bytes())
		if err := archive.PutBytes(ctx, r.a.Store(), archive.BlobKey(d), buf.Bytes()); err != nil {
			return ch, fmt.Errorf("write the rules' assignments: %w", err)
		}
		if err := r.a.Store().Sync(ctx); err != nil {
			return ch, err
		}
		ch.Assignments = d.String()
	}
	if _, err := r.a.RecordEvent(ctx, EventRulesChanged, map[string]any{"rules": next, "change": ch}); err != nil {
		return ch, err
	}
	// The new rules' evaluation is the classification from now on.
	cl, err := r.newClassifier(next, decisions, after.byKey)
	if err != nil {
		return ch, err
	}
	r.setClassifier(cl)
	return ch, r.reannotate(ctx, ch.Keys)
}

// evaluation is what some rules make of every item: the rule-given
// assignment of each item a rule matches.
type evaluation struct {
	byKey     map[string]Assignment
	evaluated int
}

// evaluate runs rules over every item through the index, first match
// winning. With no rules it needs no index.
func (r *Records) evaluate(ctx context.Context, rules []Rule) (*evaluation, error) {
	ev := &evaluation{byKey: map[string]Assignment{}}
	st, err := r.a.Stats()
	if err != nil {
		return nil, err
	}
	ev.evaluated = int(st.Items)
	if len(rules) == 0 {
		return ev, nil
	}
	m, err := r.ruleMatcher(st.Items)
	if err != nil {
		return nil, err
	}
	for _, ru := range rules {
		a := ru.assignment()
		_, err := m.MatchKeys(ctx, ru.EvaluatedQuery(), func(key string) error {
			if _, ok := ev.byKey[key]; !ok {
				ev.byKey[key] = a
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("rule %s (%s): %w", ru.ID, ru.Match, err)
		}
	}
	return ev, nil
}

// ruleMatcher is the index, checked to hold every item of the catalog.
func (r *Records) ruleMatcher(items int64) (RuleMatcher, error) {
	m, ok := r.Matcher.(RuleMatcher)
	if !ok || m == nil {
		return nil, fmt.Errorf("classification rules: %w to evaluate them; run osmarc reindex", ErrNoIndex)
	}
	n, err := m.Count()
	if err != nil {
		return nil, err
	}
	if int64(n) != items {
		return nil, fmt.Errorf("classification rules: %w: it holds %d item(s) and the catalog %d; run osmarc reindex", ErrNoIndex, n, items)
	}
	return m, nil
}

// Classifier gives each item its classification as it stands: a person's
// decision, else the first rule that matches, else a record under its
// account's schedule. It is computed once over the whole archive. Its
// methods are safe for concurrent use: Reevaluate updates it while
// requests read it.
type Classifier struct {
	rules     RuleSet
	decisions map[string]Decision
	accounts  map[string]archive.Account
	// mu guards byKey, which Reevaluate changes.
	mu    sync.RWMutex
	byKey map[string]Assignment
}

// Classifier evaluates the rules over every item (through the index) and
// reads the people's decisions. It is kept until the rules or decisions
// change.
func (r *Records) Classifier(ctx context.Context) (*Classifier, error) {
	r.mu.Lock()
	c, gen := r.cls, r.gen
	r.mu.Unlock()
	if c != nil {
		return c, nil
	}
	rs, err := r.Rules()
	if err != nil {
		return nil, err
	}
	ev, err := r.evaluate(ctx, rs.Rules)
	if err != nil {
		return nil, err
	}
	ds, err := r.Decisions()
	if err != nil {
		return nil, err
	}
	if c, err = r.newClassifier(rs, ds, ev.byKey); err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case r.gen != gen:
		// The rules or decisions changed meanwhile: c is what they were
		// (the caller asked before the change); it is not kept.
	case r.cls != nil:
		c = r.cls // another caller computed it first: share one
	default:
		r.cls = c
	}
	return c, nil
}

// setClassifier replaces the classification after a change of rules or
// decisions (nil: computed again when next asked for).
func (r *Records) setClassifier(c *Classifier) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cls = c
	r.gen++
}

// ClassificationGeneration counts the changes of classification this
// Records made; a cached Classifier from an earlier generation is stale.
func (r *Records) ClassificationGeneration() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.gen
}

// PartialClassifier is a Classifier that has not run the rules over the
// archive, for when they cannot be (the index does not hold every item
// yet): it knows the people's decisions, and the rules' verdict on the
// items Reevaluate is given; every other item is the default.
func (r *Records) PartialClassifier(ctx context.Context) (*Classifier, error) {
	rs, err := r.Rules()
	if err != nil {
		return nil, err
	}
	ds, err := r.Decisions()
	if err != nil {
		return nil, err
	}
	return r.newClassifier(rs, ds, map[string]Assignment{})
}

// newClassifier is a Classifier of rules, decisions and the rules' verdicts
// byKey, with the archive's accounts (for their schedules).
func (r *Records) newClassifier(rules RuleSet, decisions map[string]Decision, byKey map[string]Assignment) (*Classifier, error) {
	accts, err := r.a.Accounts()
	if err != nil {
		return nil, err
	}
	c := &Classifier{rules: rules, decisions: decisions, byKey: byKey, accounts: make(map[string]archive.Account, len(accts))}
	for _, a := range accts {
		c.accounts[a.Key] = a
	}
	return c, nil
}

// Classified lists the items a person or a rule classifies (every other
// item is the default), in key order.
func (c *Classifier) Classified() []string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	var out []string
	for k := range c.byKey {
		out = append(out, k)
	}
	for k := range c.decisions {
		if _, ok := c.byKey[k]; !ok {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// Of is the classification of the item with key: Schedule "" means its
// account's.
func (c *Classifier) Of(key string) Assignment {
	if d, ok := c.decisions[key]; ok {
		return d.assignment()
	}
	c.mu.RLock()
	a, ok := c.byKey[key]
	c.mu.RUnlock()
	if ok {
		return a
	}
	return DefaultAssignment
}

// Resolved is Of with the account's schedule filled in.
func (c *Classifier) Resolved(platform, account, key string) Assignment {
	a := c.Of(key)
	if a.Schedule == "" {
		a.Schedule = c.accounts[archive.AccountKey(platform, account)].Schedule
	}
	return a
}

// Reevaluate runs the rules over some items again (items just captured or
// edited) and returns those whose classification changed.
func (c *Classifier) Reevaluate(ctx context.Context, m Matcher, keys []string) ([]string, error) {
	if len(c.rules.Rules) == 0 || len(keys) == 0 {
		return nil, nil
	}
	if m == nil {
		return nil, fmt.Errorf("classification rules: %w", ErrNoIndex)
	}
	got := map[string]Assignment{}
	left := slices.Clone(keys)
	for _, ru := range c.rules.Rules {
		if len(left) == 0 {
			break
		}
		hit, err := m.Match(ctx, ru.EvaluatedQuery(), left)
		if err != nil {
			return nil, fmt.Errorf("rule %s (%s): %w", ru.ID, ru.Match, err)
		}
		rest := left[:0]
		for _, k := range left {
			if hit[k] {
				got[k] = ru.assignment()
			} else {
				rest = append(rest, k)
			}
		}
		left = rest
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	var changed []string
	for _, k := range keys {
		old, had := c.byKey[k]
		now, has := got[k]
		switch {
		case has && (!had || !old.same(now)):
			c.byKey[k] = now
		case !has && had:
			delete(c.byKey, k)
		default:
			continue
		}
		if _, person := c.decisions[k]; !person {
			changed = append(changed, k)
		}
	}
	return changed, nil
}

// Explanation says how an item's classification came about, rule by rule.
type Explanation struct {
	Key        string       `json:"key"`
	Assignment Assignment   `json:"classification"`
	Decision   *Decision    `json:"decision,omitempty"`
	Rules      []RuleResult `json:"rules"`
	// Schedule is the schedule that applies, and Disposition when the
	// item may be disposed of under it.
	Schedule    string       `json:"schedule,omitempty"`
	Disposition *Disposition `json:"disposition,omitempty"`
}

// RuleResult is whether one rule matched an item, and each of its clauses.
type RuleResult struct {
	Rule    Rule           `json:"rule"`
	Matched bool           `json:"matched"`
	Clauses []ClauseResult `json:"clauses"`
	// Wins is true for the first rule that matched.
	Wins bool `json:"wins"`
}

// ClauseResult is whether one clause of a rule holds for an item, and
// what part it plays in the rule (Role). Under RuleSemanticsAll a clause
// without "+" or "-" is Required.
type ClauseResult struct {
	Clause
	Holds bool   `json:"holds"`
	Role  string `json:"role"`
}

// Roles of a clause in a rule: required (it must hold), excluded (it
// must not); in a rule recorded before every clause was required
// (RuleSemanticsSearch), a plain clause is one of alternatives (any-of),
// or only ranks beside a "+" clause and decides nothing (ranks-only).
const (
	RoleRequired  = "required"
	RoleExcluded  = "excluded"
	RoleAnyOf     = "any-of"
	RoleRanksOnly = "ranks-only"
)

// Explain evaluates every rule against one item, clause by clause, and
// says which one classifies it and whether a person's decision outranks it.
func (r *Records) Explain(ctx context.Context, key string) (Explanation, error) {
	ex := Explanation{Key: key}
	it, err := r.a.Catalog().Item(key)
	if err != nil {
		return ex, fmt.Errorf("item %s: %w (see osmarc list)", key, ErrNotFound)
	}
	rs, err := r.Rules()
	if err != nil {
		return ex, err
	}
	if len(rs.Rules) > 0 && r.Matcher == nil {
		return ex, fmt.Errorf("rule test: %w to evaluate the rules; run osmarc reindex", ErrNoIndex)
	}
	one := []string{key}
	if len(rs.Rules) > 0 {
		in, err := r.Matcher.Match(ctx, "key:"+quoteValue(key), one)
		if err != nil {
			return ex, err
		}
		if !in[key] {
			return ex, fmt.Errorf("rule test: item %s: %w: it is not in the index yet; run osmarc reindex", key, ErrNoIndex)
		}
	}
	ex.Assignment = DefaultAssignment
	won := false
	for _, ru := range rs.Rules {
		res := RuleResult{Rule: ru}
		m, err := r.Matcher.Match(ctx, ru.EvaluatedQuery(), one)
		if err != nil {
			return ex, fmt.Errorf("rule %s: %w", ru.ID, err)
		}
		res.Matched = m[key]
		if r.ParseQuery != nil {
			cs, err := r.ParseQuery(ru.Match)
			if err != nil {
				return ex, fmt.Errorf("rule %s: --match %q: %w", ru.ID, ru.Match, err)
			}
			anyRequired := slices.ContainsFunc(cs, func(c Clause) bool { return c.Required })
			for _, c := range cs {
				q := c.Text
				if c.Required || c.Excluded {
					q = q[1:]
				}
				cm, err := r.Matcher.Match(ctx, q, one)
				if err != nil {
					return ex, fmt.Errorf("rule %s: %w", ru.ID, err)
				}
				cr := ClauseResult{Clause: c, Holds: cm[key]}
				switch {
				case c.Excluded:
					cr.Role = RoleExcluded
				case c.Required || ru.Semantics >= RuleSemanticsAll:
					cr.Role, cr.Required = RoleRequired, true
				case anyRequired:
					cr.Role = RoleRanksOnly
				default:
					cr.Role = RoleAnyOf
				}
				res.Clauses = append(res.Clauses, cr)
			}
		}
		if res.Matched && !won {
			won, res.Wins = true, true
			ex.Assignment = ru.assignment()
		}
		ex.Rules = append(ex.Rules, res)
	}
	if d, err := r.Decision(key); err == nil {
		ex.Decision = &d
		if d.Status == "set" {
			ex.Assignment = d.assignment()
		}
	}
	ex.Schedule, ex.Disposition, err = r.DispositionOf(it, ex.Assignment.Schedule)
	if err != nil {
		return ex, err
	}
	return ex, nil
}

// DispositionOf is the schedule that applies to an item whose
// classification names schedule (its account's schedule when that is
// empty), and when the item may be disposed of under it, from the same
// cutoff events plans use: the account's deactivation and the closing of
// the last request holding the item. With no schedule it returns "" and
// nil.
func (r *Records) DispositionOf(it catalog.Item, schedule string) (string, *Disposition, error) {
	var deactivated *time.Time
	if acct, err := r.a.Account(archive.AccountKey(it.Platform, it.Account)); err == nil {
		if schedule == "" {
			schedule = acct.Schedule
		}
		deactivated = acct.DeactivatedAt
	}
	if schedule == "" {
		return "", nil, nil
	}
	s, err := r.Schedule(schedule)
	if err != nil {
		return schedule, nil, err
	}
	cuts, err := request.LoadCutoffs(r.a)
	if err != nil {
		return schedule, nil, err
	}
	d, err := s.Compute(it.CreatedAt, itemEvents(it.Key, deactivated, cuts), r.Loc)
	if err != nil {
		return schedule, nil, err
	}
	return schedule, &d, nil
}

// quoteValue quotes a value for a field:"value" clause.
func quoteValue(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// Classify records a person's classification of one item; it outranks
// every rule until it is undone.
func (r *Records) Classify(ctx context.Context, key, class, schedule string, exemptions []string, reason string) (Decision, error) {
	r.changeMu.Lock()
	defer r.changeMu.Unlock()
	d := Decision{Key: key, Schedule: schedule, Reason: strings.TrimSpace(reason), By: r.actor(ctx), At: r.now(), Status: "set"}
	if _, err := r.a.Catalog().Item(key); err != nil {
		return d, fmt.Errorf("classify: item %s: %w (see osmarc list)", key, ErrNotFound)
	}
	var err error
	if d.Class, err = ParseClass(class); err != nil {
		return d, fmt.Errorf("classify %s: %w", key, err)
	}
	if d.Reason == "" {
		return d, fmt.Errorf("classify %s: --reason is required (why this item is %s)", key, d.Class)
	}
	if schedule != "" {
		if _, err := r.Schedule(schedule); err != nil {
			return d, fmt.Errorf("classify %s: %w", key, err)
		}
	}
	if d.Exemptions, err = r.checkExemptions(exemptions); err != nil {
		return d, fmt.Errorf("classify %s: %w", key, err)
	}
	if _, err := r.a.RecordEvent(ctx, EventClassificationSet, map[string]any{"classification": d}); err != nil {
		return d, err
	}
	r.setClassifier(nil)
	return d, r.reannotate(ctx, []string{key})
}

// Unclassify undoes a person's classification: rules decide again.
func (r *Records) Unclassify(ctx context.Context, key, reason string) (Decision, error) {
	r.changeMu.Lock()
	defer r.changeMu.Unlock()
	d, err := r.Decision(key)
	if err != nil {
		return d, fmt.Errorf("unclassify: %w", err)
	}
	if d.Status != "set" {
		return d, fmt.Errorf("unclassify %s: the classification by %s was already undone on %s", key, d.By, d.UndoneAt.Format(time.DateOnly))
	}
	if strings.TrimSpace(reason) == "" {
		return d, fmt.Errorf("unclassify %s: --reason is required", key)
	}
	now := r.now()
	d.Status, d.UndoneBy, d.UndoneAt, d.UndoReason = "undone", r.actor(ctx), &now, strings.TrimSpace(reason)
	if _, err := r.a.RecordEvent(ctx, EventClassificationUndone, map[string]any{"classification": d}); err != nil {
		return d, err
	}
	r.setClassifier(nil)
	return d, r.reannotate(ctx, []string{key})
}

// reannotate asks the index (OnReclassify) to refresh what it holds of
// the records-management fields of some items.
func (r *Records) reannotate(ctx context.Context, keys []string) error {
	if r.OnReclassify == nil || len(keys) == 0 {
		return nil
	}
	if err := r.OnReclassify(ctx, keys); err != nil {
		return fmt.Errorf("the classification is recorded, but updating the search index failed (run osmarc reindex): %w", err)
	}
	return nil
}
