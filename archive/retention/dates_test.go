package retention

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func mustSchedule(t *testing.T, retain, cutoff string) *Schedule {
	t.Helper()
	p, err := ParsePeriod(retain)
	if err != nil {
		t.Fatal(err)
	}
	c, err := ParseCutoff(cutoff)
	if err != nil {
		t.Fatal(err)
	}
	action := ActionDestroy
	if p.Permanent {
		action = ActionTransfer
	}
	s := &Schedule{ID: "s", Title: "t", Authority: "a", Retain: p, Cutoff: c, Action: action}
	if err := s.Check(); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestDispositionDates(t *testing.T) {
	ottawa, _ := time.LoadLocation("America/Toronto")
	utc := time.UTC
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	date := func(loc *time.Location, y int, m time.Month, d int) time.Time {
		return time.Date(y, m, d, 0, 0, 0, 0, loc)
	}
	deactivated := at("2025-06-30T17:00:00Z")
	events := func(name string) (time.Time, bool) {
		if name == "account-deactivated" {
			return deactivated, true
		}
		return time.Time{}, false
	}
	tests := []struct {
		name           string
		retain, cutoff string
		created        string
		loc            *time.Location
		want           time.Time
		pending        string
		permanent      bool
	}{
		{"90 days, no cutoff: the midnight after the period has run", "90d", "none", "2024-01-15T15:00:00Z", utc, date(utc, 2024, 4, 15), "", false},
		{"90 days from midnight is exact", "90d", "none", "2024-01-15T00:00:00Z", utc, date(utc, 2024, 4, 14), "", false},
		{"90 days across a leap day", "90d", "none", "2024-02-01T00:00:00Z", utc, date(utc, 2024, 5, 1), "", false},
		{"calendar year + 3 years", "3y", "calendar-year", "2024-07-04T12:00:00Z", utc, date(utc, 2028, 1, 1), "", false},
		{"calendar year: the last second of the year", "3y", "calendar-year", "2024-12-31T23:59:59Z", utc, date(utc, 2028, 1, 1), "", false},
		{"calendar year reckoned in local time: New Year's Eve in Ottawa is already next year in UTC", "1y", "calendar-year", "2025-01-01T03:00:00Z", ottawa, date(ottawa, 2026, 1, 1), "", false},
		{"US fiscal year (starts Oct 1): created in September", "2y", "fiscal-year:10-01", "2024-09-30T12:00:00Z", utc, date(utc, 2026, 10, 1), "", false},
		{"US fiscal year: created on October 1 belongs to the next", "2y", "fiscal-year:10-01", "2024-10-01T12:00:00Z", utc, date(utc, 2027, 10, 1), "", false},
		{"Canadian fiscal year (starts Apr 1)", "6y", "fiscal-year:04-01", "2024-03-31T23:00:00Z", utc, date(utc, 2030, 4, 1), "", false},
		{"leap day + 1 year moves forward, never back", "1y", "none", "2024-02-29T00:00:00Z", utc, date(utc, 2025, 3, 1), "", false},
		{"leap day + 4 years lands on a leap day", "4y", "none", "2024-02-29T00:00:00Z", utc, date(utc, 2028, 2, 29), "", false},
		{"month arithmetic past a short month moves forward", "1m", "none", "2025-01-31T00:00:00Z", utc, date(utc, 2025, 3, 3), "", false},
		{"event cutoff: account deactivation + 3 years", "3y", "event:account-deactivated", "2020-01-01T00:00:00Z", utc, date(utc, 2028, 7, 1), "", false},
		{"event not yet happened: no date", "3y", "event:request-closed", "2020-01-01T00:00:00Z", utc, time.Time{}, "request-closed", false},
		{"permanent: no date", "permanent", "calendar-year", "2020-01-01T00:00:00Z", utc, time.Time{}, "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := mustSchedule(t, tc.retain, tc.cutoff)
			d, err := s.Compute(at(tc.created), events, tc.loc)
			if err != nil {
				t.Fatal(err)
			}
			if !d.Date.Equal(tc.want) || d.Pending != tc.pending || d.Permanent != tc.permanent {
				t.Fatalf("disposition = %v pending %q permanent %v; want %v pending %q permanent %v", d.Date, d.Pending, d.Permanent, tc.want, tc.pending, tc.permanent)
			}
			if !tc.want.IsZero() {
				if d.Eligible(tc.want.Add(-time.Nanosecond)) || !d.Eligible(tc.want) {
					t.Fatalf("eligible on the wrong day: %v", tc.want)
				}
			} else if d.Eligible(at("2999-01-01T00:00:00Z")) {
				t.Fatal("a record with no date is eligible")
			}
		})
	}
}

func TestParsePeriodAndCutoff(t *testing.T) {
	for in, want := range map[string]Period{
		"90d": {Days: 90}, "3y": {Years: 3}, "6m": {Months: 6}, "1y6m": {Years: 1, Months: 6}, "2w": {Days: 14},
		"P3Y": {Years: 3}, "P90D": {Days: 90}, "p1y6m": {Years: 1, Months: 6}, "permanent": {Permanent: true},
		"3 years": {Years: 3}, "90 days": {Days: 90}, "0d": {},
	} {
		got, err := ParsePeriod(in)
		if err != nil || got != want {
			t.Errorf("ParsePeriod(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "forever", "3x", "-3y", "P", "y", "3.5y", "1001y"} {
		if _, err := ParsePeriod(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("ParsePeriod(%q) err = %v, want ErrInvalid", bad, err)
		}
	}
	for _, bad := range []string{"fiscal-year", "fiscal-year:13-01", "fiscal-year:02-29", "event:", "event:Has Spaces", "yearly"} {
		if _, err := ParseCutoff(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseCutoff(%q) err = %v, want ErrInvalid", bad, err)
		}
	}
	c, _ := ParseCutoff("fiscal-year:10-01")
	if c.String() != "fiscal-year:10-01" {
		t.Errorf("round trip = %s", c)
	}
}

func TestLonger(t *testing.T) {
	p := func(s string) Period { v, _ := ParsePeriod(s); return v }
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{"3y", "90d", true}, {"90d", "3y", false}, {"1y", "12m", true}, {"12m", "1y", true},
		{"30d", "1m", false}, {"31d", "1m", true}, {"permanent", "100y", true}, {"100y", "permanent", false},
	} {
		if got := p(tc.a).Longer(p(tc.b)); got != tc.want {
			t.Errorf("%s.Longer(%s) = %v", tc.a, tc.b, got)
		}
	}
}

func TestScheduleCheck(t *testing.T) {
	s := mustSchedule(t, "permanent", "none")
	s.Action = ActionDestroy
	if err := s.Check(); err == nil {
		t.Fatal("a permanent schedule that destroys passed")
	}
	s = &Schedule{ID: "bad id", Title: "t", Authority: "a", Action: ActionDestroy}
	if err := s.Check(); !errors.Is(err, ErrInvalid) {
		t.Fatal(err)
	}
}

func TestPresets(t *testing.T) {
	ps := Presets()
	ids := map[string]Schedule{}
	for _, s := range ps {
		ids[s.ID] = s
		if s.Note == "" || s.Authority == "" {
			t.Errorf("preset %s lacks its authority or note", s.ID)
		}
	}
	g := ids["grs-6.4-020"]
	if g.Retain != (Period{Days: 90}) || g.Action != ActionDestroy {
		t.Fatalf("GRS 6.4 item 020 = %+v", g)
	}
	if !ids["command-official-posts"].Retain.Permanent {
		t.Fatal("the command's official posts are not permanent")
	}
	for _, want := range []string{"grs-5.2-010", "grs-5.2-020", "wa-gs50-01-12"} {
		if _, ok := ids[want]; !ok {
			t.Errorf("preset %s missing", want)
		}
	}
}

func TestParseSchedulesErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`[{"id":"a","title":"t","authority":"x","retain":"3q","cutoff":"none","action":"destroy"}]`, `schedule 1 (a): invalid period "3q"`},
		{`schedules: [{id: a, title: t, authority: x, retain: 3y, cutoff: monthly, action: destroy}]`, `invalid cutoff "monthly"`},
		{`schedules: [{id: a, title: t, authority: x, retain: 3y, cutoff: none, action: shred}]`, `action "shred"`},
		{`schedules: [{id: a, title: t, authority: x, retain: 3y, action: destroy, colour: red}]`, `field colour not found`},
		{`schedules: []`, `no schedules`},
		{`[{"id":"a","title":"t","authority":"x","retain":"3y","action":"destroy"},{"id":"a","title":"t","authority":"x","retain":"3y","action":"destroy"}]`, `id a appears twice`},
	} {
		_, err := ParseSchedules([]byte(tc.in), "f.yaml")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", tc.in, err, tc.want)
		}
	}
	s, err := ParseSchedules([]byte(`[{"id":"a","title":"t","authority":"x","retain":"P3Y","cutoff":"fiscal-year:10-01","action":"destroy"}]`), "f.json")
	if err != nil || s[0].Retain.Years != 3 || s[0].Cutoff.FiscalMonth != time.October {
		t.Fatalf("JSON schedule = %+v, %v", s, err)
	}
}
