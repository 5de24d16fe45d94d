package mojibake

import (
	"encoding/json"
	"testing"
	"unicode/utf8"
)

func TestRepair(t *testing.T) {
	for _, tc := range []struct {
		name string
		json string // as the export writes it
		want string
	}{
		{"danish", `"Tobias L\u00c3\u00b8ye"`, "Tobias Løye"},
		{"french", `"D\u00c3\u00a9fense nationale : d\u00c3\u00a9fil\u00c3\u00a9"`, "Défense nationale : défilé"},
		{"emoji", `"Bravo \u00f0\u009f\u0091\u008f\u00f0\u009f\u0087\u00a8\u00f0\u009f\u0087\u00a6"`, "Bravo 👏🇨🇦"},
		{"curly quotes", `"\u00e2\u0080\u009cparade\u00e2\u0080\u009d"`, "“parade”"},
		{"ascii", `"plain text"`, "plain text"},
		{"empty", `""`, ""},
		// Already right: left alone.
		{"real latin1 accent", `"caf\u00e9"`, "café"},
		{"real utf8", `"Défense 👏"`, "Défense 👏"},
		{"real escaped emoji", `"\ud83d\udc4f"`, "👏"},
		// Partly mis-encoded next to a real character above U+00FF:
		// not wholly mis-encoded, so not touched.
		{"mixed", `"\u00c3\u00b8 and \u2713"`, "Ã¸ and ✓"},
		// Latin-1 characters that do not form UTF-8.
		{"lone lead byte", `"\u00c3 x"`, "Ã x"},
		{"lone continuation", `"x\u00b8"`, "x¸"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var s string
			if err := json.Unmarshal([]byte(tc.json), &s); err != nil {
				t.Fatal(err)
			}
			if got := Repair(s); got != tc.want {
				t.Errorf("Repair(%q) = %q, want %q", s, got, tc.want)
			}
			if Is(s) != (Repair(s) != s) {
				t.Errorf("Is(%q) = %v disagrees with Repair", s, Is(s))
			}
		})
	}
}

func TestEncodeRoundTrip(t *testing.T) {
	for _, s := range []string{"Løye", "défilé", "👏🇨🇦", "日本語", "Ωmega"} {
		enc := Encode(s)
		if enc == s {
			t.Fatalf("Encode(%q) changed nothing", s)
		}
		if got := Repair(enc); got != s {
			t.Errorf("Repair(Encode(%q)) = %q", s, got)
		}
	}
}

func FuzzRepair(f *testing.F) {
	for _, s := range []string{"", "plain", "Tobias L\u00c3\u00b8ye", "café", "👏", Encode("défilé 👏"), "\xff\xfe", "Ã"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := Repair(s)
		if got == s {
			return
		}
		// A repair happens only to text wholly of characters below
		// U+0100 whose bytes are valid UTF-8, and is exactly undone by
		// Encode.
		if !utf8.ValidString(got) {
			t.Fatalf("Repair(%q) = %q is not valid UTF-8", s, got)
		}
		if Encode(got) != s {
			t.Fatalf("Encode(Repair(%q)) = %q, want the input back", s, Encode(got))
		}
		for _, r := range s {
			if r > 0xFF {
				t.Fatalf("Repair changed %q, which has a character above U+00FF", s)
			}
		}
	})
}
