package retention

import (
	"fmt"
	"time"

	"github.com/osmarc/osmarc/archive/request"
)

// EventDates tells when a named event happened for a record (the record's
// account deactivated, its request closed). ok is false while it has not.
type EventDates func(name string) (at time.Time, ok bool)

// eventAccountDeactivated is the cutoff event of an item's account being
// deactivated.
const eventAccountDeactivated = "account-deactivated"

// itemEvents are the cutoff events of the item with key: its account's
// deactivation (deactivated nil while the account is active), and the
// closing of the last open-records request that held it (cuts).
func itemEvents(key string, deactivated *time.Time, cuts *request.Cutoffs) EventDates {
	return func(name string) (time.Time, bool) {
		if name == eventAccountDeactivated {
			if deactivated == nil {
				return time.Time{}, false
			}
			return *deactivated, true
		}
		return cuts.EventDate(key, name)
	}
}

// Disposition is when a record may be disposed of, and why.
type Disposition struct {
	// Date is the first day (00:00 in the organisation's time zone) on
	// which the record is eligible; zero when it has none yet.
	Date time.Time
	// Permanent: the record is kept for ever (transferred or reviewed,
	// never destroyed).
	Permanent bool
	// Pending names the event the date waits for.
	Pending string
	// Cutoff is the date the retention period ran from.
	Cutoff time.Time
}

// Eligible reports whether the record may be disposed of at now.
func (d Disposition) Eligible(now time.Time) bool {
	return !d.Permanent && d.Pending == "" && !d.Date.IsZero() && !now.Before(d.Date)
}

// Compute is the disposition of a record created at created under s. loc
// is the organisation's time zone: the year of creation, the end of a
// fiscal year and the day a record becomes eligible are reckoned there.
func (s *Schedule) Compute(created time.Time, events EventDates, loc *time.Location) (Disposition, error) {
	if loc == nil {
		loc = time.UTC
	}
	if s.Retain.Permanent {
		return Disposition{Permanent: true}, nil
	}
	local := created.In(loc)
	day := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, loc) }
	var cutoff time.Time
	switch s.Cutoff.Kind {
	case CutoffNone, "":
		cutoff = local
	case CutoffCalendarYear:
		// Cut off at the end of the year: the period runs from January 1
		// of the next.
		cutoff = day(local.Year()+1, time.January, 1)
	case CutoffFiscalYear:
		start := day(local.Year(), s.Cutoff.FiscalMonth, s.Cutoff.FiscalDay)
		if !local.Before(start) {
			start = day(local.Year()+1, s.Cutoff.FiscalMonth, s.Cutoff.FiscalDay)
		}
		cutoff = start // the next fiscal year begins where this one ends
	case CutoffEvent:
		at, ok := time.Time{}, false
		if events != nil {
			at, ok = events(s.Cutoff.Event)
		}
		if !ok {
			return Disposition{Pending: s.Cutoff.Event}, nil
		}
		if at.Before(created) {
			at = created // an event cannot shorten what followed it
		}
		cutoff = at.In(loc)
	default:
		return Disposition{}, fmt.Errorf("%w schedule %s: unknown cutoff %q", ErrInvalid, s.ID, s.Cutoff.Kind)
	}
	end := s.Retain.add(cutoff)
	// Eligible from the start of the next whole day on which the period
	// has run: a record created at 15:00 with 90 days is not eligible at
	// 15:00 ninety days later but from midnight after.
	date := day(end.Year(), end.Month(), end.Day())
	if date.Before(end) {
		date = date.AddDate(0, 0, 1)
	}
	return Disposition{Date: date, Cutoff: cutoff}, nil
}
