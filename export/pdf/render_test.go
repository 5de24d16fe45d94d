package pdf

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestPrintable(t *testing.T) {
	for in, want := range map[string]string{
		"Bonjour à tous, élève": "Bonjour à tous, élève",
		"\u202eevil\u202c":      "[U+202E]evil[U+202C]",
		"tab\there\r\nCR":       "tab    here\nCR",
		"zero\u200bwidth":       "zero[U+200B]width",
		"bell\x07":              "bell[U+0007]",
		"😀":                     "[U+1F600]",
		"bad \xff":              "bad \uFFFD",
	} {
		if got := printable(in); got != want {
			t.Errorf("printable(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzPrintable: whatever the text, what reaches the page is valid UTF-8
// with no control or bidi character but line breaks.
func FuzzPrintable(f *testing.F) {
	f.Add("Le défilé \u202e<script>\r\n")
	f.Fuzz(func(t *testing.T, s string) {
		out := printable(s)
		if !utf8.ValidString(out) {
			t.Fatalf("invalid UTF-8: %q", out)
		}
		for _, r := range out {
			if (r < 0x20 && r != '\n') || isBidiControl(r) || r == 0x7f {
				t.Fatalf("%q reaches the page in %q", r, out)
			}
		}
		if strings.Contains(out, "\r") {
			t.Fatal("CR on the page")
		}
	})
}
