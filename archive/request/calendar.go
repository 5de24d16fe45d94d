package request

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
)

// A Date is a calendar day: a time.Time at midnight UTC. Due dates and
// receipt dates are days, not instants; DateOf gives the day of an instant.
func DateOf(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// DateLayout is how dates are written: 2024-03-01.
const DateLayout = time.DateOnly

// ErrBadDate: a date that does not parse.
var ErrBadDate = errors.New("not a date")

// ParseDate reads a day as YYYY-MM-DD, or the day of an RFC 3339 time in
// the offset it was written with (a request e-mailed at 23:30 on the 1st,
// local time, was received on the 1st).
func ParseDate(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(DateLayout, s); err == nil {
		if t.Year() < 1900 || t.Year() > 9999 {
			return time.Time{}, fmt.Errorf("%q: %w (year out of range)", s, ErrBadDate)
		}
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return ParseDate(t.Format(DateLayout))
	}
	return time.Time{}, fmt.Errorf("%q: %w (want YYYY-MM-DD, like 2024-03-01)", s, ErrBadDate)
}

// HolidayRule says which day of a year a holiday falls on. Exactly one
// form is used:
//
//   - a fixed date: Month and Day ("the fourth day of July");
//   - the Nth Weekday of Month (Nth -1 is the last): "the third Monday in
//     January";
//   - the Weekday on or before Month/Day (OnOrBefore): "the Monday
//     preceding May 25" is the Monday on or before May 24;
//   - days from Easter Sunday (Easter): Good Friday is -2.
//
// Offset then moves the day ("the Friday after Thanksgiving" is the fourth
// Thursday of November, offset 1). Observed says what happens when the day
// falls on a weekend: "nearest-weekday" (Saturday → Friday, Sunday →
// Monday: 5 U.S.C. § 6103(b)), "next-weekday" (Saturday or Sunday →
// Monday, and on to the next free weekday when that is a holiday too),
// "sunday-to-monday", or "" (not moved). From and Until bound the years the
// holiday exists (Juneteenth from 2021); zero means unbounded.
type HolidayRule struct {
	Name       string `json:"name"`
	Month      int    `json:"month,omitempty"`
	Day        int    `json:"day,omitempty"`
	Weekday    string `json:"weekday,omitempty"`
	Nth        int    `json:"nth,omitempty"`
	OnOrBefore bool   `json:"on_or_before,omitempty"`
	Easter     *int   `json:"easter,omitempty"`
	Offset     int    `json:"offset,omitempty"`
	Observed   string `json:"observed,omitempty"`
	From       int    `json:"from,omitempty"`
	Until      int    `json:"until,omitempty"`
}

// Observance rules.
const (
	ObservedNone           = ""
	ObservedNearestWeekday = "nearest-weekday"
	ObservedNextWeekday    = "next-weekday"
	ObservedSundayToMonday = "sunday-to-monday"
)

var weekdays = map[string]time.Weekday{
	"sunday": time.Sunday, "monday": time.Monday, "tuesday": time.Tuesday, "wednesday": time.Wednesday,
	"thursday": time.Thursday, "friday": time.Friday, "saturday": time.Saturday,
}

func (r *HolidayRule) check() error {
	if strings.TrimSpace(r.Name) == "" {
		return errors.New("a holiday without a name")
	}
	forms := 0
	if r.Easter != nil {
		forms++
		if r.Month != 0 || r.Day != 0 || r.Weekday != "" {
			return fmt.Errorf("holiday %q: an Easter rule takes no month, day or weekday", r.Name)
		}
	}
	if r.Month != 0 {
		forms++
		if r.Month < 1 || r.Month > 12 {
			return fmt.Errorf("holiday %q: month %d is not 1-12", r.Name, r.Month)
		}
		if _, ok := weekdays[strings.ToLower(r.Weekday)]; r.Weekday != "" && !ok {
			return fmt.Errorf("holiday %q: weekday %q is not a day of the week", r.Name, r.Weekday)
		}
		switch {
		case r.Weekday == "" && (r.Day < 1 || r.Day > 31 || r.Nth != 0 || r.OnOrBefore):
			return fmt.Errorf("holiday %q: a fixed date needs a day 1-31 and no nth", r.Name)
		case r.Weekday != "" && r.OnOrBefore && (r.Day < 1 || r.Day > 31 || r.Nth != 0):
			return fmt.Errorf("holiday %q: on_or_before needs a day 1-31 and no nth", r.Name)
		case r.Weekday != "" && !r.OnOrBefore && (r.Nth < -1 || r.Nth > 5 || r.Nth == 0 || r.Day != 0):
			return fmt.Errorf("holiday %q: a weekday rule needs nth 1-5 or -1 (last) and no day", r.Name)
		}
		if r.Weekday == "" {
			if t := time.Date(2024, time.Month(r.Month), r.Day, 0, 0, 0, 0, time.UTC); t.Day() != r.Day {
				return fmt.Errorf("holiday %q: %d/%d is not a date", r.Name, r.Month, r.Day)
			}
		}
	}
	if forms != 1 {
		return fmt.Errorf("holiday %q: give either month (with day, weekday and nth) or easter", r.Name)
	}
	switch r.Observed {
	case ObservedNone, ObservedNearestWeekday, ObservedNextWeekday, ObservedSundayToMonday:
	default:
		return fmt.Errorf("holiday %q: observed %q is not one of nearest-weekday, next-weekday, sunday-to-monday", r.Name, r.Observed)
	}
	if r.Until != 0 && r.From > r.Until {
		return fmt.Errorf("holiday %q: from %d is after until %d", r.Name, r.From, r.Until)
	}
	return nil
}

// date is the day the rule gives in year, before any observance; ok is
// false in years the holiday does not exist.
func (r *HolidayRule) date(year int) (time.Time, bool) {
	if (r.From != 0 && year < r.From) || (r.Until != 0 && year > r.Until) {
		return time.Time{}, false
	}
	var d time.Time
	switch {
	case r.Easter != nil:
		d = Easter(year).AddDate(0, 0, *r.Easter)
	case r.Weekday == "":
		d = time.Date(year, time.Month(r.Month), r.Day, 0, 0, 0, 0, time.UTC)
	case r.OnOrBefore:
		d = time.Date(year, time.Month(r.Month), r.Day, 0, 0, 0, 0, time.UTC)
		wd := weekdays[strings.ToLower(r.Weekday)]
		d = d.AddDate(0, 0, -((int(d.Weekday()) - int(wd) + 7) % 7))
	case r.Nth > 0:
		d = time.Date(year, time.Month(r.Month), 1, 0, 0, 0, 0, time.UTC)
		wd := weekdays[strings.ToLower(r.Weekday)]
		d = d.AddDate(0, 0, (int(wd)-int(d.Weekday())+7)%7+7*(r.Nth-1))
		if int(d.Month()) != r.Month {
			return time.Time{}, false // no fifth Monday this month
		}
	default: // last
		d = time.Date(year, time.Month(r.Month)+1, 0, 0, 0, 0, 0, time.UTC)
		wd := weekdays[strings.ToLower(r.Weekday)]
		d = d.AddDate(0, 0, -((int(d.Weekday()) - int(wd) + 7) % 7))
	}
	return d.AddDate(0, 0, r.Offset), true
}

// Easter is Easter Sunday of the Gregorian calendar in year (the
// anonymous Gregorian algorithm of Meeus, Jones and Butcher).
func Easter(year int) time.Time {
	a := year % 19
	b, c := year/100, year%100
	d, e := b/4, b%4
	f := (b + 8) / 25
	g := (b - f + 1) / 3
	h := (19*a + b - d - g + 15) % 30
	i, k := c/4, c%4
	l := (32 + 2*e + 2*i - h - k) % 7
	m := (a + 11*h + 22*l) / 451
	month := (h + l - 7*m + 114) / 31
	day := (h+l-7*m+114)%31 + 1
	return time.Date(year, time.Month(month), day, 0, 0, 0, 0, time.UTC)
}

// Calendar is when an office works: its weekend, its holidays by rule,
// and any other days it was closed. Business days are the rest.
type Calendar struct {
	ID     string        `json:"id"`
	Name   string        `json:"name"`
	Source string        `json:"source,omitempty"`
	Note   string        `json:"note,omitempty"`
	Rules  []HolidayRule `json:"holidays"`
	// Weekend defaults to Saturday and Sunday.
	Weekend []string `json:"weekend,omitempty"`
	// Closed lists other days the office is closed (YYYY-MM-DD): a day of
	// mourning, an office's designated non-business days.
	Closed []string `json:"closed,omitempty"`

	weekend map[time.Weekday]bool
	closed  map[time.Time]string
	mu      sync.Mutex
	years   map[int]map[time.Time]string
}

// Holiday is one day off.
type Holiday struct {
	Date time.Time
	Name string
}

func (c *Calendar) check() error {
	if c.ID == "" {
		return errors.New("a calendar without an id")
	}
	c.weekend = map[time.Weekday]bool{}
	if len(c.Weekend) == 0 {
		c.weekend[time.Saturday], c.weekend[time.Sunday] = true, true
	}
	for _, w := range c.Weekend {
		wd, ok := weekdays[strings.ToLower(w)]
		if !ok {
			return fmt.Errorf("calendar %s: weekend day %q is not a day of the week", c.ID, w)
		}
		c.weekend[wd] = true
	}
	if len(c.weekend) == 7 {
		return fmt.Errorf("calendar %s: every day is a weekend day", c.ID)
	}
	for i := range c.Rules {
		if err := c.Rules[i].check(); err != nil {
			return fmt.Errorf("calendar %s: %w", c.ID, err)
		}
	}
	c.closed = map[time.Time]string{}
	for _, s := range c.Closed {
		d, err := ParseDate(s)
		if err != nil {
			return fmt.Errorf("calendar %s: closed day %w", c.ID, err)
		}
		c.closed[d] = "closed"
	}
	c.years = map[int]map[time.Time]string{}
	return nil
}

// days returns the calendar's holidays observed in year (and closed days).
func (c *Calendar) days(year int) map[time.Time]string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if m, ok := c.years[year]; ok {
		return m
	}
	m := map[time.Time]string{}
	// A holiday of the next or last year can be observed in this one
	// (New Year's Day on a Saturday is observed on December 31st).
	for _, y := range []int{year - 1, year, year + 1} {
		taken := map[time.Time]bool{}
		for i := range c.Rules {
			r := &c.Rules[i]
			d, ok := r.date(y)
			if !ok {
				continue
			}
			obs := d
			switch r.Observed {
			case ObservedNearestWeekday:
				switch d.Weekday() {
				case time.Saturday:
					obs = d.AddDate(0, 0, -1)
				case time.Sunday:
					obs = d.AddDate(0, 0, 1)
				}
			case ObservedSundayToMonday:
				if d.Weekday() == time.Sunday {
					obs = d.AddDate(0, 0, 1)
				}
			case ObservedNextWeekday:
				if c.weekend[d.Weekday()] {
					for obs = d.AddDate(0, 0, 1); c.weekend[obs.Weekday()] || taken[obs]; obs = obs.AddDate(0, 0, 1) {
					}
				}
			}
			taken[d], taken[obs] = true, true
			for _, x := range []time.Time{d, obs} {
				if x.Year() == year {
					name := r.Name
					if !x.Equal(d) {
						name += " (observed)"
					}
					if _, dup := m[x]; !dup {
						m[x] = name
					}
				}
			}
		}
	}
	for d, why := range c.closed {
		if d.Year() == year {
			if _, dup := m[d]; !dup {
				m[d] = why
			}
		}
	}
	if len(c.years) > 64 {
		clear(c.years)
	}
	c.years[year] = m
	return m
}

// Holidays lists the days off in year that are not weekend days by
// nature: holidays on their day and their observed day, and closed days,
// in date order. (A holiday on a Saturday is listed; it changes nothing.)
func (c *Calendar) Holidays(year int) []Holiday {
	m := c.days(year)
	out := make([]Holiday, 0, len(m))
	for d, n := range m {
		out = append(out, Holiday{Date: d, Name: n})
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].Date.Before(out[j-1].Date); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// IsBusinessDay reports whether the office works on day d.
func (c *Calendar) IsBusinessDay(d time.Time) bool {
	d = DateOf(d)
	if c.weekend[d.Weekday()] {
		return false
	}
	_, off := c.days(d.Year())[d]
	return !off
}

// HolidayName names the holiday or closure on d, or "".
func (c *Calendar) HolidayName(d time.Time) string {
	d = DateOf(d)
	return c.days(d.Year())[d]
}

// AddBusinessDays returns the nth business day after d (d itself is not
// counted, whatever it is). n must be positive.
func (c *Calendar) AddBusinessDays(d time.Time, n int) time.Time {
	d = DateOf(d)
	for n > 0 {
		d = d.AddDate(0, 0, 1)
		if c.IsBusinessDay(d) {
			n--
		}
	}
	return d
}

// NextBusinessDay returns d when it is a business day, else the first one
// after it.
func (c *Calendar) NextBusinessDay(d time.Time) time.Time {
	d = DateOf(d)
	for !c.IsBusinessDay(d) {
		d = d.AddDate(0, 0, 1)
	}
	return d
}

// BusinessDaysBetween counts the business days after from up to and
// including to; negative when to is before from.
func (c *Calendar) BusinessDaysBetween(from, to time.Time) int {
	from, to = DateOf(from), DateOf(to)
	sign := 1
	if to.Before(from) {
		from, to, sign = to, from, -1
	}
	n := 0
	for d := from.AddDate(0, 0, 1); !d.After(to); d = d.AddDate(0, 0, 1) {
		if c.IsBusinessDay(d) {
			n++
		}
	}
	return sign * n
}
