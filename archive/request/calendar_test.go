package request

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func day(s string) time.Time {
	t, err := ParseDate(s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestUSFederalHolidays(t *testing.T) {
	cal, err := DefaultPresets().Calendar("us-federal")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		date string
		name string // "" means a business day (or a weekend)
	}{
		{"2024-01-01", "New Year's Day"},
		{"2024-01-15", "Birthday of Martin Luther King, Jr."},
		{"2024-02-19", "Washington's Birthday"},
		{"2024-05-27", "Memorial Day"},
		{"2024-06-19", "Juneteenth National Independence Day"},
		{"2024-07-04", "Independence Day"},
		{"2024-09-02", "Labor Day"},
		{"2024-10-14", "Columbus Day"},
		{"2024-11-11", "Veterans Day"},
		{"2024-11-28", "Thanksgiving Day"},
		{"2024-12-25", "Christmas Day"},
		// Observed dates: Saturday → Friday, Sunday → Monday.
		{"2021-12-31", "New Year's Day (observed)"}, // 2022-01-01 is a Saturday
		{"2022-12-26", "Christmas Day (observed)"},  // Sunday
		{"2023-01-02", "New Year's Day (observed)"}, // Sunday
		{"2020-07-03", "Independence Day (observed)"},
		{"2021-06-18", "Juneteenth National Independence Day (observed)"},
		{"2022-06-20", "Juneteenth National Independence Day (observed)"},
		{"2023-11-10", "Veterans Day (observed)"},
		{"2021-07-05", "Independence Day (observed)"},
		{"2027-12-24", "Christmas Day (observed)"},
		{"2027-12-31", "New Year's Day (observed)"}, // 2028-01-01 is a Saturday
		// Juneteenth only from 2021; MLK Day only from 1986.
		{"2020-06-19", ""},
		{"1985-01-21", ""},
		{"1986-01-20", "Birthday of Martin Luther King, Jr."},
		// Veterans Day moved to October from 1971 to 1977.
		{"1975-10-27", "Veterans Day"},
		// Leap years: nothing odd on February 29th, Thanksgiving still the 4th Thursday.
		{"2024-02-29", ""},
		{"2028-11-23", "Thanksgiving Day"},
		{"2100-11-25", "Thanksgiving Day"},
	} {
		got := cal.HolidayName(day(tc.date))
		if got != tc.name {
			t.Errorf("%s: holiday %q, want %q", tc.date, got, tc.name)
		}
		if tc.name != "" && cal.IsBusinessDay(day(tc.date)) {
			t.Errorf("%s is a business day", tc.date)
		}
	}
	// Eleven holidays every year from 2021 on (observed days counted once).
	for y := 2021; y <= 2060; y++ {
		n := 0
		for _, h := range cal.Holidays(y) {
			if !strings.HasSuffix(h.Name, "(observed)") && h.Date.Weekday() != time.Saturday && h.Date.Weekday() != time.Sunday {
				n++
			} else if strings.HasSuffix(h.Name, "(observed)") {
				n++
			}
		}
		if n < 10 || n > 12 {
			t.Errorf("%d: %d weekday holidays", y, n)
		}
	}
}

func TestEaster(t *testing.T) {
	for y, want := range map[int]string{2024: "2024-03-31", 2025: "2025-04-20", 2019: "2019-04-21", 2000: "2000-04-23", 2038: "2038-04-25", 1818: "1818-03-22"} {
		if got := Easter(y).Format(DateLayout); got != want {
			t.Errorf("Easter %d = %s, want %s", y, got, want)
		}
	}
}

func TestDueDates(t *testing.T) {
	p := DefaultPresets()
	for _, tc := range []struct {
		law, received string
		days          int
		want          string
	}{
		// FOIA: 20 working days after receipt.
		{"us-foia", "2024-03-01", 0, "2024-03-29"}, // received on a Friday
		{"us-foia", "2024-03-02", 0, "2024-03-29"}, // a Saturday: day 1 is Monday the 4th, as for Friday
		{"us-foia", "2024-01-02", 0, "2024-01-31"}, // MLK Day inside
		{"us-foia", "2024-12-20", 0, "2025-01-22"}, // Christmas, New Year, MLK Day
		{"us-foia", "2024-07-04", 0, "2024-08-01"}, // received on a holiday
		{"us-foia", "2021-12-17", 0, "2022-01-19"}, // New Year's observed on Friday Dec 31, 2021
		{"us-foia", "2022-06-01", 0, "2022-06-30"}, // Juneteenth observed Monday June 20
		{"us-foia", "2024-02-28", 0, "2024-03-27"}, // over February 29th
		{"us-foia", "2023-02-28", 0, "2023-03-28"},
		{"foia", "2024-11-01", 0, "2024-12-03"}, // Veterans Day and Thanksgiving; an alias
		// Texas: 10 business days, state holidays too.
		{"tx-pia", "2024-11-22", 0, "2024-12-10"}, // Thanksgiving and the Friday after
		{"tx-pia", "2024-12-18", 0, "2025-01-07"}, // Dec 24, 25, 26 and Jan 1
		{"tx-pia", "2024-02-26", 0, "2024-03-11"}, // Texas Independence Day on a Saturday moves nothing
		{"texas", "2025-01-13", 0, "2025-01-28"},  // MLK Day and Confederate Heroes Day (a Sunday)
		// Canada: 30 calendar days; a last day on a holiday or a Sunday moves.
		{"ca-atia", "2024-03-01", 0, "2024-04-02"}, // Mar 31 is Easter Sunday, Apr 1 Easter Monday
		{"ca-atia", "2024-06-01", 0, "2024-07-02"}, // Canada Day
		{"ca-atia", "2024-02-01", 0, "2024-03-02"}, // a Saturday stays
		{"ca-atia", "2024-01-31", 0, "2024-03-01"}, // leap year
		{"ca-atia", "2023-01-31", 0, "2023-03-02"},
		{"ca-atia", "2024-08-31", 0, "2024-10-01"}, // Sept 30, Truth and Reconciliation
		{"ca-atia", "2024-04-20", 0, "2024-05-21"}, // May 20, Victoria Day
		// Wisconsin: as soon as practicable, a target that can be set.
		{"wi-prl", "2024-03-01", 0, "2024-03-15"},
		{"wisconsin", "2024-03-01", 5, "2024-03-08"},
	} {
		l, err := p.Law(tc.law)
		if err != nil {
			t.Fatal(err)
		}
		due, err := p.Due(l, day(tc.received), tc.days)
		if err != nil {
			t.Fatalf("%s %s: %v", tc.law, tc.received, err)
		}
		if got := due.Format(DateLayout); got != tc.want {
			t.Errorf("%s received %s (%s): due %s, want %s", tc.law, tc.received, day(tc.received).Weekday(), got, tc.want)
		}
	}
	l, _ := p.Law("us-foia")
	if _, err := p.Due(l, day("2024-03-01"), 30); err == nil {
		t.Error("a statutory period was changed with days")
	}
	if _, err := p.Law("nowhere"); !errors.Is(err, ErrUnknownLaw) {
		t.Errorf("unknown law: %v", err)
	}
}

func TestReceiptOnNextBusinessDay(t *testing.T) {
	p := DefaultPresets()
	err := p.Extend(strings.NewReader(`{"laws":[{"id":"agency-foia","name":"Agency FOIA rules","jurisdiction":"US","citation":"x","days":20,"count":"business","calendar":"us-federal","receipt":"next-business-day"}]}`), "org.json")
	if err != nil {
		t.Fatal(err)
	}
	l, _ := p.Law("agency-foia")
	// Received Saturday: deemed received Monday, so day 1 is Tuesday.
	if due, _ := p.Due(l, day("2024-03-02"), 0); due.Format(DateLayout) != "2024-04-01" {
		t.Errorf("due %s", due.Format(DateLayout))
	}
	// Received on a business day: as FOIA.
	if due, _ := p.Due(l, day("2024-03-01"), 0); due.Format(DateLayout) != "2024-03-29" {
		t.Errorf("due %s", due.Format(DateLayout))
	}
}

func TestParseDate(t *testing.T) {
	for _, s := range []string{"2024-02-30", "2023-02-29", "24-03-01", "March 1", "", "2024-13-01", "0001-01-01"} {
		if _, err := ParseDate(s); !errors.Is(err, ErrBadDate) {
			t.Errorf("ParseDate(%q) = %v", s, err)
		}
	}
	if d, err := ParseDate("2024-03-01T23:30:00-05:00"); err != nil || d.Format(DateLayout) != "2024-03-01" {
		t.Errorf("RFC 3339 in its own offset: %v %v", d, err)
	}
	if d, err := ParseDate("2024-02-29"); err != nil || d.Day() != 29 {
		t.Errorf("leap day: %v %v", d, err)
	}
}

func TestExtendPresets(t *testing.T) {
	p := DefaultPresets()
	org := `{
	  "calendars": [{"id": "brigade", "name": "Brigade HQ", "weekend": ["saturday","sunday"], "closed": ["2024-03-04"],
	    "holidays": [{"name": "Founders Day", "month": 3, "day": 5}]}],
	  "laws": [{"id": "wi-prl", "name": "Wisconsin public records law", "jurisdiction": "Wisconsin", "citation": "Wis. Stat. § 19.35(4)(a)",
	    "days": 7, "count": "business", "calendar": "brigade", "target": true}],
	  "exemptions": [{"code": "daod-2008-8-opsec", "title": "Operations security", "jurisdiction": "Canada (DND)", "category": "security-information"}]
	}`
	if err := p.Extend(strings.NewReader(org), "org.json"); err != nil {
		t.Fatal(err)
	}
	l, err := p.Law("wi-prl")
	if err != nil || l.Days != 7 {
		t.Fatalf("replaced law: %+v %v", l, err)
	}
	// Mar 1 (Fri) + 7 business days, skipping Mar 4 (closed) and 5 (holiday).
	if due, _ := p.Due(l, day("2024-03-01"), 0); due.Format(DateLayout) != "2024-03-14" {
		t.Errorf("org calendar: due %s", due.Format(DateLayout))
	}
	if e, err := p.Exemption("DAOD-2008-8-OPSEC"); err != nil || e.Category != "security-information" {
		t.Errorf("org exemption: %+v %v", e, err)
	}
	for _, code := range []string{"(b)(6)", "b6", "FOIA-B6", "(b)(7)(C)", "atia-19", "personal-information", "pii"} {
		if _, err := p.Exemption(code); err != nil {
			t.Errorf("exemption %q: %v", code, err)
		}
	}
	if _, err := p.Exemption("b10"); !errors.Is(err, ErrUnknownExemption) {
		t.Errorf("unknown exemption: %v", err)
	}
	// A bad file changes nothing and says where it is wrong.
	before := len(p.Laws)
	for _, bad := range []string{
		`{"laws":[{"id":"x","name":"X","days":10,"count":"weekly"}]}`,
		`{"laws":[{"id":"x","name":"X","days":10,"count":"business"}]}`,
		`{"laws":[{"id":"x","name":"X","days":10,"count":"business","calendar":"mars"}]}`,
		`{"calendars":[{"id":"c","holidays":[{"name":"Bad","month":2,"day":30}]}]}`,
		`{"calendars":[{"id":"c","holidays":[{"name":"Bad","month":2,"weekday":"funday","nth":1}]}]}`,
		`{"exemptions":[{"code":"x","title":"X","category":"nonsense"}]}`,
		`{"exemptions":[{"code":"x","aliases":["b6"],"title":"X","category":"other"}]}`,
		`{"lawz":[]}`,
		`not json`,
	} {
		if err := p.Extend(strings.NewReader(bad), "bad.json"); err == nil || !strings.Contains(err.Error(), "bad.json") {
			t.Errorf("Extend(%s) = %v", bad, err)
		}
	}
	if len(p.Laws) != before {
		t.Error("a bad file changed the presets")
	}
}
