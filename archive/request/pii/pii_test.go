package pii

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

func kinds(ms []Match) string {
	var b []string
	for _, m := range ms {
		b = append(b, fmt.Sprintf("%s:%s", m.Kind, m.Text))
	}
	return strings.Join(b, " | ")
}

func TestFind(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string // kind:text | kind:text
	}{
		// E-mail addresses.
		{"write to jane.doe+foia@example.org today", "email:jane.doe+foia@example.org"},
		{"JANE@EXAMPLE.CA.", "email:JANE@EXAMPLE.CA"},
		{"<mailto:j_smith@mail.gov.example.com>", "email:j_smith@mail.gov.example.com"},
		{"jane%40example.com", "email:jane%40example.com"},
		{"jane&#64;example.com", "email:jane&#64;example.com"},
		{"ｊａｎｅ＠ｅｘａｍｐｌｅ．ｃｏｍ", "email:ｊａｎｅ＠ｅｘａｍｐｌｅ．ｃｏｍ"},
		{"jane [at] example [dot] com", "email:jane [at] example [dot] com"},
		{"jane(at)example.com", "email:jane(at)example.com"},
		{"jane at example dot com", "email:jane at example dot com"},
		{"élodie.bérubé@exemple.québec", "email:élodie.bérubé@exemple.québec"},
		{"follow @brigade@social.example.gov", "email:brigade@social.example.gov"},
		{"meet us at the armoury", ""},
		{"an @ sign alone, a@b, user@localhost", ""},

		// Phone numbers.
		{"call (613) 555-0123 now", "phone:(613) 555-0123"},
		{"613-555-0123", "phone:613-555-0123"},
		{"613.555.0123", "phone:613.555.0123"},
		{"+1 613 555 0123", "phone:+1 613 555 0123"},
		{"1-800-555-0199 ext. 42", "phone:1-800-555-0199 ext. 42"},
		{"tel: 6135550123", "phone:6135550123"},
		{"id 6135550123", ""},
		{"６１３–５５５–０１２３", "phone:６１３–５５５–０１２３"},
		{"613\u200b-555\u200d-0123", "phone:613\u200b-555\u200d-0123"},
		{"613\u00a0555\u00a00123", "phone:613\u00a0555\u00a00123"},
		{"٦١٣-٥٥٥-٠١٢٣", "phone:٦١٣-٥٥٥-٠١٢٣"},
		{"post 1750000000000000001", ""},
		{"+44 613 555 0123", ""},
		{"123-555-0123", ""},      // no area code starts with 1
		{"2024-03-01 12:00", ""},  // a date
		{"613-555-01234", ""},     // too long
		{"v1.613.555.0123.4", ""}, // part of a version string
		{"3.14159265358979", ""},  // a number
		{"ISBN 978-0-306-40615-7", ""},

		// Social Security numbers.
		{"SSN 123-45-6789", "ssn:123-45-6789"},
		{"my social security number is 123456789", "ssn:123456789"},
		{"123 45 6789", "ssn:123 45 6789"},
		{"000-12-3456 666-12-3456 900-12-3456 123-00-4567 123-45-0000", ""},
		{"123-45 6789", ""},
		{"order 123456789", ""},

		// Social Insurance numbers (Luhn).
		{"SIN: 046 454 286", "sin:046 454 286"},
		{"046-454-286", "sin:046-454-286"},
		{"NAS 046454286", "sin:046454286"},
		{"046 454 287", ""}, // check digit wrong
		{"046 454-286", ""}, // mixed separators
		{"ref 046454286", ""},

		// Street addresses.
		{"I live at 42 Elm Street, apt 4", "address:42 Elm Street, apt 4"},
		{"send it to 1600 Pennsylvania Ave NW", "address:1600 Pennsylvania Ave NW"},
		{"123 main street", "address:123 main street"},
		{"17B Rideau Cres. tonight", "address:17B Rideau Cres."},
		{"at 5 O'Connor St", "address:5 O'Connor St"},
		{"1234, rue Sherbrooke Ouest", "address:1234, rue Sherbrooke Ouest"},
		{"au 12 avenue des Pins", "address:12 avenue des Pins"},
		{"3 chemin de la Côte-Sainte-Catherine", "address:3 chemin de la Côte-Sainte-Catherine"},
		{"The Brigade parade is on Saturday at 10:00. Road closures on Main Street from 08:00.", ""},
		{"fermetures de routes sur la rue Main", ""},
		{"20 working days", ""},
		{"Mass at 10 am St. Mary's", ""},
		{"3rd Canadian Division", ""},

		// Several at once, in order.
		{"Jane, 42 Elm Street, 613-555-0123, jane@example.org, SIN 046 454 286",
			"address:42 Elm Street | phone:613-555-0123 | email:jane@example.org | sin:046 454 286"},
	} {
		got := Find(tc.in)
		if k := kinds(got); k != tc.want {
			t.Errorf("Find(%q)\n got %s\nwant %s", tc.in, k, tc.want)
		}
		checkMatches(t, tc.in, got)
	}
}

func checkMatches(t *testing.T, s string, ms []Match) {
	t.Helper()
	end := 0
	for _, m := range ms {
		if m.Start < end || m.End <= m.Start || m.End > len(s) {
			t.Fatalf("Find(%q): bad span %+v", s, m)
		}
		if s[m.Start:m.End] != m.Text {
			t.Fatalf("Find(%q): text %q is not s[%d:%d]", s, m.Text, m.Start, m.End)
		}
		if !utf8.ValidString(s[:m.Start]) && utf8.ValidString(s) {
			t.Fatalf("Find(%q): span %+v cuts a character", s, m)
		}
		end = m.End
	}
}

func TestLuhn(t *testing.T) {
	for d, want := range map[string]bool{"046454286": true, "130692544": true, "046454287": false, "": false, "12a": false, "0": true} {
		if Luhn(d) != want {
			t.Errorf("Luhn(%q) = %v", d, !want)
		}
	}
}

func TestHostileInputs(t *testing.T) {
	// Long runs that make naive patterns quadratic must stay fast and find
	// nothing false.
	for _, s := range []string{
		strings.Repeat("1", 200000),
		strings.Repeat("1-", 100000),
		strings.Repeat("a@", 100000),
		strings.Repeat("a.", 100000) + "@",
		strings.Repeat("12 ", 60000) + "Street",
		strings.Repeat("\u200b", 100000),
		strings.Repeat("613-555-0123 ", 10000),
		"\xff\xfe613-555-0123\xff",
	} {
		ms := Find(s)
		checkMatches(t, s, ms)
	}
	if n := len(Find(strings.Repeat("613-555-0123 ", 10000))); n != 10000 {
		t.Errorf("10000 phone numbers: found %d", n)
	}
	// A number longer than the window is split without losing a match
	// across the seam.
	long := strings.Repeat("x ", MaxInput/2-3) + "613-555-0123 " + strings.Repeat("y ", 1000)
	if got := Find(long); len(got) != 1 || got[0].Text != "613-555-0123" {
		t.Errorf("match across the window seam: %v", kinds(got))
	}
}

func FuzzFind(f *testing.F) {
	for _, s := range []string{
		"Jane, 42 Elm Street, 613-555-0123, jane@example.org, SIN 046 454 286",
		"SSN 123-45-6789", "١٢٣-٤٥-٦٧٨٩", "jane [at] example [dot] com", "6\u200b13-555-0123",
		"%40%40%40", "&#64;&commat;", "\xff", "1234, rue Sherbrooke Ouest app. 4",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ms := Find(s)
		checkMatches(t, s, ms)
		for _, m := range ms {
			if !strings.Contains(string(m.Kind), "") || m.Text == "" {
				t.Fatalf("empty match %+v", m)
			}
		}
		// Finding is stable: the same input gives the same matches.
		if again := Find(s); kinds(again) != kinds(ms) {
			t.Fatalf("Find is not deterministic on %q", s)
		}
	})
}
