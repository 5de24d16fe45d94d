package request

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"
)

// The presets shipped with osmarc. An organisation extends them with its
// own file of the same form (Presets.Extend): an entry with a known id
// replaces the shipped one, a new id adds one.
var (
	//go:embed laws.json
	lawsJSON []byte
	//go:embed exemptions.json
	exemptionsJSON []byte
)

// Errors callers test with errors.Is.
var (
	// ErrUnknownLaw: no preset has the id --law named.
	ErrUnknownLaw = errors.New("unknown law")
	// ErrUnknownExemption: no exemption has the code named.
	ErrUnknownExemption = errors.New("unknown exemption code")
)

// Law is a preset for the time an open-records law allows.
type Law struct {
	ID           string   `json:"id"`
	Aliases      []string `json:"aliases,omitempty"`
	Name         string   `json:"name"`
	Jurisdiction string   `json:"jurisdiction"`
	Citation     string   `json:"citation"`
	// Days is the time allowed, counted as Count says.
	Days int `json:"days"`
	// Count is "business" (days the Calendar's office works) or
	// "calendar" (every day).
	Count string `json:"count"`
	// Calendar is the id of the calendar of business days.
	Calendar string `json:"calendar,omitempty"`
	// Receipt "next-business-day" deems a request that arrives on a day
	// the office is closed to be received on its next business day;
	// "as-received" (the default) counts from the day it arrived.
	Receipt string `json:"receipt,omitempty"`
	// Roll "next-business-day" moves a due date that falls on a day the
	// office is closed to its next business day (for calendar counts).
	Roll string `json:"roll,omitempty"`
	// Target marks a law that sets no fixed time ("as soon as
	// practicable"): Days is the organisation's target, and a request may
	// set its own.
	Target bool   `json:"target,omitempty"`
	Note   string `json:"note,omitempty"`
}

// Count and receipt values.
const (
	CountBusiness   = "business"
	CountCalendar   = "calendar"
	NextBusinessDay = "next-business-day"
	AsReceived      = "as-received"
)

// Exemption is a ground for withholding or redacting a record.
type Exemption struct {
	Code         string   `json:"code"`
	Aliases      []string `json:"aliases,omitempty"`
	Title        string   `json:"title"`
	Jurisdiction string   `json:"jurisdiction"`
	Citation     string   `json:"citation,omitempty"`
	// Category is the kind of ground, the same across jurisdictions:
	// personal-information, security-information, draft, trade-secret,
	// deliberative-process, law-enforcement, legal-privilege, statutory,
	// third-party, intergovernmental, economic, safety, published, other.
	Category string `json:"category"`
}

// Categories of exemption.
var Categories = []string{"personal-information", "security-information", "draft", "trade-secret", "deliberative-process",
	"law-enforcement", "legal-privilege", "statutory", "third-party", "intergovernmental", "economic", "safety", "published", "other"}

// Presets are the calendars, laws and exemption codes a request can use.
type Presets struct {
	Calendars  []*Calendar `json:"calendars,omitempty"`
	Laws       []Law       `json:"laws,omitempty"`
	Exemptions []Exemption `json:"exemptions,omitempty"`
	// Sources names the files read, shipped first.
	Sources []string `json:"-"`
}

// DefaultPresets are the presets shipped with osmarc.
func DefaultPresets() *Presets {
	p := &Presets{}
	for _, f := range []struct {
		name string
		b    []byte
	}{{"laws.json (shipped)", lawsJSON}, {"exemptions.json (shipped)", exemptionsJSON}} {
		if err := p.Extend(bytes.NewReader(f.b), f.name); err != nil {
			panic("request: shipped presets: " + err.Error()) // the tests read them
		}
	}
	return p
}

// LoadPresets returns the shipped presets extended by each file in turn.
func LoadPresets(files ...string) (*Presets, error) {
	p := DefaultPresets()
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			return nil, fmt.Errorf("request presets: %w", err)
		}
		err = p.Extend(f, name)
		f.Close()
		if err != nil {
			return nil, err
		}
	}
	return p, nil
}

// Extend reads a presets file (JSON: {"calendars": [...], "laws": [...],
// "exemptions": [...]}, each optional) and merges it: a calendar, law or
// exemption whose id or code is already known replaces it; others are
// added. Nothing changes when the file is wrong; the error names it and
// the entry.
func (p *Presets) Extend(r io.Reader, name string) error {
	var in Presets
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return fmt.Errorf("request presets %s: %w", name, err)
	}
	if dec.More() {
		return fmt.Errorf("request presets %s: more than one JSON value", name)
	}
	next := &Presets{Calendars: slices.Clone(p.Calendars), Laws: slices.Clone(p.Laws), Exemptions: slices.Clone(p.Exemptions)}
	for i, c := range in.Calendars {
		if err := c.check(); err != nil {
			return fmt.Errorf("request presets %s: calendars[%d]: %w", name, i, err)
		}
		next.Calendars = replaceOrAdd(next.Calendars, c, func(x *Calendar) bool { return x.ID == c.ID })
	}
	for i, e := range in.Exemptions {
		e.Code = strings.TrimSpace(e.Code)
		if e.Code == "" || strings.TrimSpace(e.Title) == "" {
			return fmt.Errorf("request presets %s: exemptions[%d]: code and title are required", name, i)
		}
		if !slices.Contains(Categories, e.Category) {
			return fmt.Errorf("request presets %s: exemption %s: category %q is not one of %s", name, e.Code, e.Category, strings.Join(Categories, ", "))
		}
		next.Exemptions = replaceOrAdd(next.Exemptions, e, func(x Exemption) bool { return strings.EqualFold(x.Code, e.Code) })
	}
	for i, l := range in.Laws {
		if err := next.checkLaw(&l); err != nil {
			return fmt.Errorf("request presets %s: laws[%d]: %w", name, i, err)
		}
		next.Laws = replaceOrAdd(next.Laws, l, func(x Law) bool { return strings.EqualFold(x.ID, l.ID) })
	}
	// A calendar replaced may be one a law already names: check them all.
	for _, l := range next.Laws {
		if err := next.checkLaw(&l); err != nil {
			return fmt.Errorf("request presets %s: %w", name, err)
		}
	}
	if err := next.checkNames(); err != nil {
		return fmt.Errorf("request presets %s: %w", name, err)
	}
	p.Calendars, p.Laws, p.Exemptions = next.Calendars, next.Laws, next.Exemptions
	p.Sources = append(p.Sources, name)
	return nil
}

func replaceOrAdd[T any](list []T, v T, same func(T) bool) []T {
	if i := slices.IndexFunc(list, same); i >= 0 {
		list[i] = v
		return list
	}
	return append(list, v)
}

func (p *Presets) checkLaw(l *Law) error {
	l.ID = strings.TrimSpace(l.ID)
	switch {
	case l.ID == "":
		return errors.New("a law without an id")
	case strings.TrimSpace(l.Name) == "":
		return fmt.Errorf("law %s: a name is required", l.ID)
	case l.Days < 1 || l.Days > 3650:
		return fmt.Errorf("law %s: days must be 1-3650, not %d", l.ID, l.Days)
	case l.Count != CountBusiness && l.Count != CountCalendar:
		return fmt.Errorf("law %s: count must be %q or %q, not %q", l.ID, CountBusiness, CountCalendar, l.Count)
	case l.Receipt != "" && l.Receipt != AsReceived && l.Receipt != NextBusinessDay:
		return fmt.Errorf("law %s: receipt must be %q or %q", l.ID, AsReceived, NextBusinessDay)
	case l.Roll != "" && l.Roll != NextBusinessDay:
		return fmt.Errorf("law %s: roll must be %q or empty", l.ID, NextBusinessDay)
	}
	needCal := l.Count == CountBusiness || l.Receipt == NextBusinessDay || l.Roll == NextBusinessDay
	if needCal && l.Calendar == "" {
		return fmt.Errorf("law %s: counting business days needs a calendar", l.ID)
	}
	if l.Calendar != "" && p.calendar(l.Calendar) == nil {
		return fmt.Errorf("law %s: no calendar %q", l.ID, l.Calendar)
	}
	return nil
}

// checkNames refuses an alias that names two things.
func (p *Presets) checkNames() error {
	seen := map[string]string{}
	for _, l := range p.Laws {
		for _, n := range append([]string{l.ID}, l.Aliases...) {
			k := strings.ToLower(n)
			if other, ok := seen[k]; ok && other != l.ID {
				return fmt.Errorf("law name %q is used by %s and %s", n, other, l.ID)
			}
			seen[k] = l.ID
		}
	}
	seen = map[string]string{}
	for _, e := range p.Exemptions {
		for _, n := range append([]string{e.Code}, e.Aliases...) {
			k := normCode(n)
			if other, ok := seen[k]; ok && other != e.Code {
				return fmt.Errorf("exemption code %q is used by %s and %s", n, other, e.Code)
			}
			seen[k] = e.Code
		}
	}
	return nil
}

func (p *Presets) calendar(id string) *Calendar {
	for _, c := range p.Calendars {
		if strings.EqualFold(c.ID, id) {
			return c
		}
	}
	return nil
}

// Calendar returns the calendar with id.
func (p *Presets) Calendar(id string) (*Calendar, error) {
	if c := p.calendar(id); c != nil {
		return c, nil
	}
	return nil, fmt.Errorf("no calendar %q", id)
}

// Law finds a law by its id or an alias, ignoring case.
func (p *Presets) Law(name string) (Law, error) {
	n := strings.TrimSpace(name)
	for _, l := range p.Laws {
		if strings.EqualFold(l.ID, n) || slices.ContainsFunc(l.Aliases, func(a string) bool { return strings.EqualFold(a, n) }) {
			return l, nil
		}
	}
	var ids []string
	for _, l := range p.Laws {
		ids = append(ids, l.ID)
	}
	return Law{}, fmt.Errorf("law %q: %w (known: %s)", name, ErrUnknownLaw, strings.Join(ids, ", "))
}

// normCode compares exemption codes: case, spaces and the parentheses
// and dots people write or leave out ("(b)(6)", "b6", "B 6") do not count.
func normCode(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch r {
		case '(', ')', ' ', '.', '-', '_', '§':
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Exemption finds an exemption by its code or an alias.
func (p *Presets) Exemption(code string) (Exemption, error) {
	n := normCode(code)
	if n != "" {
		for _, e := range p.Exemptions {
			if normCode(e.Code) == n || slices.ContainsFunc(e.Aliases, func(a string) bool { return normCode(a) == n }) {
				return e, nil
			}
		}
	}
	return Exemption{}, fmt.Errorf("exemption %q: %w (see osmarc request exemptions)", code, ErrUnknownExemption)
}

// Due computes the due date of a request received on day received under
// law l. days, when positive, replaces the law's days; only a target law
// (as soon as practicable) takes it.
func (p *Presets) Due(l Law, received time.Time, days int) (time.Time, error) {
	if days > 0 && days != l.Days {
		if !l.Target {
			return time.Time{}, fmt.Errorf("law %s sets %d %s days by statute; only a target (as soon as practicable) can be changed", l.ID, l.Days, l.Count)
		}
		l.Days = days
	}
	var cal *Calendar
	if l.Calendar != "" {
		cal = p.calendar(l.Calendar)
		if cal == nil {
			return time.Time{}, fmt.Errorf("law %s: no calendar %q", l.ID, l.Calendar)
		}
	}
	return l.due(DateOf(received), cal), nil
}

func (l Law) due(received time.Time, cal *Calendar) time.Time {
	start := received
	if l.Receipt == NextBusinessDay {
		start = cal.NextBusinessDay(start)
	}
	if l.Count == CountBusiness {
		return cal.AddBusinessDays(start, l.Days)
	}
	d := start.AddDate(0, 0, l.Days)
	if l.Roll == NextBusinessDay {
		d = cal.NextBusinessDay(d)
	}
	return d
}
