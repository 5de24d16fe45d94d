package request

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/osmarc/osmarc/archive/request/pii"
)

func detected(s string) *scrubber {
	var texts []scrubText
	for _, m := range pii.Find(s) {
		texts = append(texts, scrubText{text: m.Text, kind: string(m.Kind), marker: "[REDACTED:" + string(m.Kind) + "]"})
	}
	return newScrubber(texts)
}

// noTrace checks that no text the scrubber redacts is left in out.
func noTrace(t *testing.T, sc *scrubber, in, out string) {
	t.Helper()
	low := strings.ToLower(out)
	for _, x := range sc.texts {
		if utf8.RuneCountInString(strings.TrimSpace(x.text)) >= MinRedactText && strings.Contains(low, strings.ToLower(x.text)) {
			t.Fatalf("scrub(%q) = %q still holds %q", in, out, x.text)
		}
	}
}

func TestScrubEveryOccurrence(t *testing.T) {
	in := "Call 613-555-0123. Again: 613-555-0123! JANE@EXAMPLE.ORG and jane@example.org; x613-555-0123"
	sc := detected(in)
	out := sc.scrub(in, nil)
	noTrace(t, sc, in, out)
	if strings.Count(out, "[REDACTED:phone]") != 3 || strings.Count(out, "[REDACTED:email]") != 2 {
		t.Errorf("scrub = %q", out)
	}
	// A person's text, ignoring case, longest first.
	sc = newScrubber([]scrubText{{text: "Jane", marker: "[A]"}, {text: "Jane Public", marker: "[B]"}})
	if got := sc.scrub("jane public met JANE", nil); got != "[B] met [A]" {
		t.Errorf("scrub = %q", got)
	}
}

func TestApplySpans(t *testing.T) {
	mk := func(a, b int) Redaction { return Redaction{Span: &[2]int{a, b}} }
	m := func(Redaction) string { return "█" }
	for _, tc := range []struct {
		in    string
		spans []Redaction
		want  string
	}{
		{"0123456789", []Redaction{mk(2, 4)}, "01█456789"},
		{"0123456789", []Redaction{mk(2, 6), mk(4, 8)}, "01█89"}, // overlapping spans: the union
		{"0123456789", []Redaction{mk(6, 8), mk(1, 3)}, "0█345█89"},
		{"défense ünité", []Redaction{mk(1, 3)}, "d█ense ünité"}, // characters, not bytes
		{"abc", []Redaction{mk(0, 99)}, "█"},
	} {
		if got := applySpans(tc.in, tc.spans, m); got != tc.want {
			t.Errorf("applySpans(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func FuzzScrubLeavesNoTrace(f *testing.F) {
	for _, s := range []string{
		"Jane, 42 Elm Street, 613-555-0123, jane@example.org, SIN 046 454 286",
		"613\u200b-555-0123 and 613-555-0123", "ＪＡＮＥ＠ＥＸＡＭＰＬＥ．ＣＯＭ jane@example.com",
		"SSN 123-45-6789 123-45-6789", "a@b.co a@b.co.uk",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sc := detected(s)
		out := sc.scrub(s, nil)
		noTrace(t, sc, s, out)
	})
}
