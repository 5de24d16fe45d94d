package retention

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// ErrInvalid: a schedule, period or cutoff that does not parse or check.
var ErrInvalid = errors.New("invalid")

// Period is a retention period: years, months and days, or permanent.
type Period struct {
	Years, Months, Days int
	Permanent           bool
}

var rePeriod = regexp.MustCompile(`^(?:(\d+)\s*y(?:ears?)?)?\s*(?:(\d+)\s*m(?:onths?)?)?\s*(?:(\d+)\s*w(?:eeks?)?)?\s*(?:(\d+)\s*d(?:ays?)?)?$`)
var reISOPeriod = regexp.MustCompile(`^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?$`)

// ParsePeriod reads "permanent", "90d", "3y", "6m", "1y6m", "2w", or an
// ISO 8601 period ("P3Y", "P90D", "P1Y6M").
func ParsePeriod(s string) (Period, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	if t == "permanent" || t == "perm" {
		return Period{Permanent: true}, nil
	}
	m := rePeriod.FindStringSubmatch(t)
	if m == nil || t == "" {
		m = reISOPeriod.FindStringSubmatch(strings.ToUpper(t))
	}
	if m == nil || t == "p" {
		return Period{}, fmt.Errorf("%w period %q: want permanent, or a length such as 90d, 6m, 3y, 1y6m or P3Y", ErrInvalid, s)
	}
	n := func(i int) int {
		v, _ := strconv.Atoi(m[i])
		return v
	}
	p := Period{Years: n(1), Months: n(2), Days: n(3)*7 + n(4)}
	if p.Years == 0 && p.Months == 0 && p.Days == 0 {
		if m[1] == "" && m[2] == "" && m[3] == "" && m[4] == "" {
			return Period{}, fmt.Errorf("%w period %q: want permanent, or a length such as 90d, 6m, 3y, 1y6m or P3Y", ErrInvalid, s)
		}
	}
	if p.Years > 1000 {
		return Period{}, fmt.Errorf("%w period %q: more than 1000 years; say permanent", ErrInvalid, s)
	}
	return p, nil
}

// String writes the period back in the short form.
func (p Period) String() string {
	if p.Permanent {
		return "permanent"
	}
	var b strings.Builder
	if p.Years > 0 {
		fmt.Fprintf(&b, "%dy", p.Years)
	}
	if p.Months > 0 {
		fmt.Fprintf(&b, "%dm", p.Months)
	}
	if p.Days > 0 || b.Len() == 0 {
		fmt.Fprintf(&b, "%dd", p.Days)
	}
	return b.String()
}

// Longer reports whether p keeps records at least as long as q from any
// start (a permanent period is longer than any other).
func (p Period) Longer(q Period) bool {
	if p.Permanent {
		return true
	}
	if q.Permanent {
		return false
	}
	// Compare from the start that is worst for p: a month is at least 28
	// days, a year at least 365.
	base := time.Date(2001, 2, 28, 0, 0, 0, 0, time.UTC)
	for _, start := range []time.Time{base, base.AddDate(0, 0, 1), base.AddDate(3, 0, 0), base.AddDate(0, 10, 3)} {
		if p.add(start).Before(q.add(start)) {
			return false
		}
	}
	return true
}

// add moves t on by the period. Month and year arithmetic that lands on a
// day that does not exist (February 29 in a common year, April 31) moves
// on to the next existing day, never back: retention is never shortened.
func (p Period) add(t time.Time) time.Time {
	return t.AddDate(p.Years, p.Months, p.Days)
}

// MarshalText writes the period as String does.
func (p Period) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// UnmarshalText reads a period as ParsePeriod does.
func (p *Period) UnmarshalText(b []byte) error {
	v, err := ParsePeriod(string(b))
	if err != nil {
		return err
	}
	*p = v
	return nil
}

// Cutoff kinds.
const (
	CutoffNone         = "none"
	CutoffCalendarYear = "calendar-year"
	CutoffFiscalYear   = "fiscal-year"
	CutoffEvent        = "event"
)

// Cutoff is where a record's retention period starts: at its creation
// (none), at the end of the calendar or fiscal year of its creation, or at
// an event (an account's deactivation, a request's closing).
type Cutoff struct {
	Kind string
	// FiscalStart is the month and day a fiscal year starts (10-01 for the
	// US federal government, 04-01 for Canada).
	FiscalMonth time.Month
	FiscalDay   int
	// Event names the event: "account-deactivated", "request-closed", …
	Event string
}

var reEventName = regexp.MustCompile(`^[a-z][a-z0-9-]{0,63}$`)

// ParseCutoff reads "none", "calendar-year", "fiscal-year:MM-DD" or
// "event:NAME".
func ParseCutoff(s string) (Cutoff, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	switch {
	case t == CutoffNone || t == "":
		return Cutoff{Kind: CutoffNone}, nil
	case t == CutoffCalendarYear:
		return Cutoff{Kind: CutoffCalendarYear}, nil
	case strings.HasPrefix(t, CutoffFiscalYear+":"):
		md := strings.TrimPrefix(t, CutoffFiscalYear+":")
		d, err := time.Parse("01-02", md)
		if err != nil || md == "02-29" {
			return Cutoff{}, fmt.Errorf("%w cutoff %q: a fiscal year starts on a month and day, MM-DD, such as fiscal-year:10-01", ErrInvalid, s)
		}
		return Cutoff{Kind: CutoffFiscalYear, FiscalMonth: d.Month(), FiscalDay: d.Day()}, nil
	case strings.HasPrefix(t, CutoffEvent+":"):
		name := strings.TrimPrefix(t, CutoffEvent+":")
		if !reEventName.MatchString(name) {
			return Cutoff{}, fmt.Errorf("%w cutoff %q: an event name is lower-case letters, digits and '-', such as event:account-deactivated", ErrInvalid, s)
		}
		return Cutoff{Kind: CutoffEvent, Event: name}, nil
	}
	return Cutoff{}, fmt.Errorf("%w cutoff %q: want calendar-year, fiscal-year:MM-DD, event:NAME or none", ErrInvalid, s)
}

// String writes the cutoff as ParseCutoff reads it.
func (c Cutoff) String() string {
	switch c.Kind {
	case CutoffFiscalYear:
		return fmt.Sprintf("%s:%02d-%02d", CutoffFiscalYear, int(c.FiscalMonth), c.FiscalDay)
	case CutoffEvent:
		return CutoffEvent + ":" + c.Event
	case "":
		return CutoffNone
	}
	return c.Kind
}

// MarshalText writes the cutoff as String does.
func (c Cutoff) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// UnmarshalText reads a cutoff as ParseCutoff does.
func (c *Cutoff) UnmarshalText(b []byte) error {
	v, err := ParseCutoff(string(b))
	if err != nil {
		return err
	}
	*c = v
	return nil
}

// Actions at the end of retention.
const (
	ActionDestroy  = "destroy"
	ActionTransfer = "transfer"
	ActionReview   = "review"
)

// Schedule is a retention schedule item.
type Schedule struct {
	ID        string `json:"id" yaml:"id"`
	Title     string `json:"title" yaml:"title"`
	Authority string `json:"authority" yaml:"authority"`
	Retain    Period `json:"retain" yaml:"retain"`
	Cutoff    Cutoff `json:"cutoff" yaml:"cutoff"`
	Action    string `json:"action" yaml:"action"`
	// Note says what the organisation must check (presets carry one).
	Note string `json:"note,omitempty" yaml:"note,omitempty"`
}

var reScheduleID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// Check validates a schedule and says, in one line, what is wrong.
func (s *Schedule) Check() error {
	switch {
	case !reScheduleID.MatchString(s.ID):
		return fmt.Errorf("%w schedule id %q: letters, digits, '.', '_' and '-' (e.g. grs-6.4-020)", ErrInvalid, s.ID)
	case strings.TrimSpace(s.Title) == "":
		return fmt.Errorf("%w schedule %s: a title is required", ErrInvalid, s.ID)
	case strings.TrimSpace(s.Authority) == "":
		return fmt.Errorf("%w schedule %s: an authority is required (e.g. \"NARA GRS 6.4 item 020\")", ErrInvalid, s.ID)
	}
	if s.Cutoff.Kind == "" {
		s.Cutoff.Kind = CutoffNone
	}
	switch s.Action {
	case ActionDestroy, ActionTransfer, ActionReview:
	default:
		return fmt.Errorf("%w schedule %s: action %q: want destroy, transfer or review", ErrInvalid, s.ID, s.Action)
	}
	if s.Retain.Permanent && s.Action == ActionDestroy {
		return fmt.Errorf("%w schedule %s: a permanent record is never destroyed; its action is transfer or review", ErrInvalid, s.ID)
	}
	return nil
}
