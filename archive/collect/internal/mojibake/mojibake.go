// Package mojibake repairs the mis-encoding of Facebook's and Instagram's
// account exports ("Download Your Information"): they write each byte of
// a UTF-8 string as its own \u00XX escape, as though the bytes were
// Latin-1, so "ø" (C3 B8) arrives as "\u00c3\u00b8" and decodes to "Ã¸",
// and an emoji as four such characters.
//
// Repair undoes it only when the whole string decodes as such: every
// character is below U+0100, at least one is above U+007F, and the bytes
// they stand for are valid UTF-8. Text that is already right (a real "é",
// "ø" or emoji, which is above U+00FF or not valid UTF-8 when read back
// byte by byte) is left alone.
package mojibake

import (
	"unicode/utf8"
)

// Repair returns s with the export's mis-encoding undone, or s itself
// when s is not wholly mis-encoded.
func Repair(s string) string {
	b, ok := bytesOf(s)
	if !ok {
		return s
	}
	return string(b)
}

// Is says whether s is wholly mis-encoded, so Repair would change it.
func Is(s string) bool {
	_, ok := bytesOf(s)
	return ok
}

// bytesOf reads s as Latin-1: each character one byte. ok is false when a
// character is above U+00FF, when none is above U+007F (nothing to
// repair), or when the bytes are not valid UTF-8.
func bytesOf(s string) ([]byte, bool) {
	high := false
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			high = true
			break
		}
	}
	if !high {
		return nil, false
	}
	b := make([]byte, 0, len(s))
	for _, r := range s {
		if r > 0xFF { // U+FFFD, an invalid byte in s, is above too
			return nil, false
		}
		b = append(b, byte(r))
	}
	if !utf8.Valid(b) {
		return nil, false
	}
	return b, true
}

// Encode is what the export does to s: each byte of its UTF-8 becomes one
// character. Tests use it to build mis-encoded text.
func Encode(s string) string {
	r := make([]rune, len(s))
	for i := 0; i < len(s); i++ {
		r[i] = rune(s[i])
	}
	return string(r)
}
