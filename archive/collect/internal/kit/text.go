package kit

import (
	"html"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
)

// FixText is the one normal form of text from a platform: bytes that are
// not UTF-8 are read as Windows-1252 (what a legacy CMS or feed most
// often sends), UTF-8 that was decoded as Windows-1252 once too often
// ("CafÃ©") is repaired when the whole text reads back as UTF-8, line ends
// become "\n", and the text is trimmed.
func FixText(s string) string {
	s = ValidUTF8(s)
	s = RepairMojibake(s)
	if strings.Contains(s, "\r") {
		s = strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
	}
	return strings.TrimSpace(s)
}

// ValidUTF8 reads the bytes of s that are not UTF-8 as Windows-1252.
func ValidUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return string(ValidUTF8Bytes([]byte(s)))
}

// ValidUTF8Bytes is ValidUTF8 on bytes; valid input is returned as is.
func ValidUTF8Bytes(b []byte) []byte {
	if utf8.Valid(b) {
		return b
	}
	out := make([]byte, 0, len(b)+len(b)/8)
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r == utf8.RuneError && n <= 1 {
			out = utf8.AppendRune(out, charmap.Windows1252.DecodeByte(b[0]))
			b = b[1:]
			continue
		}
		out = append(out, b[:n]...)
		b = b[n:]
	}
	return out
}

// RepairMojibake undoes one round of UTF-8 read as Windows-1252 or
// Latin-1 ("CafÃ©" → "Café", "â€™" → "’"). It acts only on text that shows
// the unmistakable signs ("Ã" or "Â" before a Windows-1252 character of
// the 0x80–0xBF range, "â€"), and then only on runs of such characters
// that read back as valid UTF-8, so genuine accented text ("«CAFÉ»",
// "Café") is left alone.
func RepairMojibake(s string) string {
	if !mojibakeHint(s) {
		return s
	}
	var out strings.Builder
	var run []byte  // Windows-1252 bytes of the current run
	var orig []rune // the run as it was
	flush := func() {
		if len(run) > 0 && utf8.Valid(run) && hasMultibyte(run) {
			out.Write(run)
		} else {
			out.WriteString(string(orig))
		}
		run, orig = run[:0], orig[:0]
	}
	for _, r := range s {
		if r >= 0x80 {
			if c, ok := cp1252(r); ok {
				run = append(run, c)
				orig = append(orig, r)
				continue
			}
		}
		flush()
		out.WriteRune(r)
	}
	flush()
	return out.String()
}

func cp1252(r rune) (byte, bool) {
	if c, ok := charmap.Windows1252.EncodeRune(r); ok {
		return c, true
	}
	if r >= 0x80 && r <= 0x9f { // a Latin-1 reading: C1 controls stand for themselves
		return byte(r), true
	}
	return 0, false
}

func hasMultibyte(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return true
		}
	}
	return false
}

// mojibakeHint: "Ã" or "Â" followed by a character whose Windows-1252 byte
// is a UTF-8 continuation byte, "â€" (the start of every mis-read General
// Punctuation character: ’ “ ” – — …) or "ðŸ" (of every mis-read emoji).
func mojibakeHint(s string) bool {
	var prev rune
	for _, r := range s {
		if prev == 'Ã' || prev == 'Â' {
			if c, ok := cp1252(r); ok && c >= 0x80 && c <= 0xbf {
				return true
			}
		}
		if (prev == 'â' && r == '€') || (prev == 'ð' && r == 'Ÿ') {
			return true
		}
		prev = r
	}
	return false
}

// WithContentWarning puts a content warning (Mastodon's spoiler text, an
// ActivityPub summary) before the text, as readers see it first. The
// warning is plain text; HTML entities in it (some servers escape it) are
// read.
func WithContentWarning(cw, text string) string {
	cw = FixText(html.UnescapeString(cw))
	if cw == "" {
		return text
	}
	if text == "" {
		return "CW: " + cw
	}
	return "CW: " + cw + "\n\n" + text
}

// WithTitle puts a title (a blog post's, a feed item's) before the text.
func WithTitle(title, text string) string {
	title = FixText(title)
	switch {
	case title == "":
		return text
	case text == "":
		return title
	}
	return title + "\n\n" + text
}

// PollText appends a poll's options to the text, one a line.
func PollText(text string, options []string) string {
	if len(options) == 0 {
		return text
	}
	var b strings.Builder
	b.WriteString(text)
	if text != "" {
		b.WriteString("\n\n")
	}
	b.WriteString("Poll:")
	for _, o := range options {
		b.WriteString("\n- ")
		b.WriteString(FixText(o))
	}
	return b.String()
}

var reLang = regexp.MustCompile(`^[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8})*$`)

// Lang returns a language tag the item format accepts, or "" when the
// platform gave none or something that is not one.
func Lang(s string) string {
	s = strings.TrimSpace(s)
	if !reLang.MatchString(s) {
		return ""
	}
	return strings.ToLower(strings.ReplaceAll(s, "_", "-"))
}

// Unique keeps the first of each non-empty string, in order; nil when
// none is left.
func Unique(in []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range in {
		s = strings.TrimSpace(s)
		if s == "" || seen[s] {
			continue
		}
		seen[s] = true
		out = append(out, s)
	}
	return out
}

// CompareIDs orders platform ids: numeric ids (Mastodon's snowflakes) by
// value, others as strings.
func CompareIDs(a, b string) int {
	if isDigits(a) && isDigits(b) {
		a, b = strings.TrimLeft(a, "0"), strings.TrimLeft(b, "0")
		if len(a) != len(b) {
			if len(a) < len(b) {
				return -1
			}
			return 1
		}
	}
	return strings.Compare(a, b)
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Itoa formats an int64 id.
func Itoa(n int64) string { return strconv.FormatInt(n, 10) }
