// Package pii finds personal information of private persons in free text,
// so a production can redact it: e-mail addresses, North American phone
// numbers, US Social Security numbers, Canadian Social Insurance numbers
// (with their Luhn check digit) and street addresses (number, street name
// and street type, in English or French).
//
// Find works on what a reader sees, not on the bytes alone: it folds
// full-width and other decimal digits, the Unicode dashes and spaces,
// percent- and entity-encoded at signs, and ignores zero-width and
// direction marks, so "６１３–555\u200b-0123" is found as a phone number.
// The spans it returns are byte offsets into the original string and
// cover the original bytes, marks included.
//
// It is a detector, not an oracle: it errs towards flagging (a public
// office's own telephone number is flagged too) and a person decides. It
// does not find names.
package pii

import (
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Kind is what was found.
type Kind string

// Kinds of personal information.
const (
	Email   Kind = "email"
	Phone   Kind = "phone"
	SSN     Kind = "ssn"
	SIN     Kind = "sin"
	Address Kind = "address"
)

// Kinds lists every kind, in the order matches of equal extent are
// preferred.
var Kinds = []Kind{SSN, SIN, Phone, Email, Address}

// Match is one finding: s[Start:End] == Text.
type Match struct {
	Kind  Kind   `json:"kind"`
	Start int    `json:"start"`
	End   int    `json:"end"`
	Text  string `json:"text"`
}

// MaxInput bounds the text Find reads; beyond it a string is searched in
// windows of this size that overlap by 256 bytes, so memory and time stay
// linear however long the text.
const MaxInput = 1 << 20

// Find returns the personal information in s: non-overlapping matches in
// order of their start.
func Find(s string) []Match {
	if len(s) <= MaxInput {
		return find(s, 0)
	}
	var out []Match
	const overlap = 256
	for off := 0; off < len(s); {
		end := min(off+MaxInput, len(s))
		for end < len(s) && !utf8.RuneStart(s[end]) {
			end--
		}
		for _, m := range find(s[off:end], off) {
			if len(out) == 0 || m.Start >= out[len(out)-1].End {
				out = append(out, m)
			}
		}
		if end == len(s) {
			break
		}
		next := end - overlap
		for next > off && !utf8.RuneStart(s[next]) {
			next--
		}
		if next <= off {
			next = end
		}
		off = next
	}
	return out
}

func find(s string, base int) []Match {
	n := normalise(s)
	var all []Match
	add := func(k Kind, ns, ne int) {
		st, en := n.span(ns, ne)
		all = append(all, Match{Kind: k, Start: base + st, End: base + en, Text: s[st:en]})
	}
	// Cheap tests first: most text has no digits to speak of and no at.
	digits := 0
	for i := 0; i < len(n.text); i++ {
		if n.text[i] >= '0' && n.text[i] <= '9' {
			digits++
		}
	}
	if strings.IndexByte(n.text, '@') >= 0 || containsFold(n.text, "at") {
		findEmails(n.text, add)
	}
	if digits >= 9 {
		findPhones(n.text, add)
		findSSNs(n.text, add)
		findSINs(n.text, add)
	}
	if digits > 0 {
		findAddresses(n.text, add)
	}
	// Longest first where matches overlap; then the preferred kind.
	slices.SortStableFunc(all, func(a, b Match) int {
		if a.Start != b.Start {
			return a.Start - b.Start
		}
		if a.End != b.End {
			return b.End - a.End
		}
		return slices.Index(Kinds, a.Kind) - slices.Index(Kinds, b.Kind)
	})
	var out []Match
	for _, m := range all {
		if len(out) > 0 && m.Start < out[len(out)-1].End {
			last := &out[len(out)-1]
			if m.End-m.Start > last.End-last.Start {
				*last = m
			}
			continue
		}
		out = append(out, m)
	}
	return out
}

func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), sub)
}

// normalised is s as a reader sees it, with a map back to s.
type normalised struct {
	text string
	// from[i] and to[i] are the bytes of s that byte i of text came from.
	from, to []int
}

func (n *normalised) span(ns, ne int) (int, int) {
	return n.from[ns], n.to[ne-1]
}

// invisible are characters a reader does not see as such: format
// characters (zero-width spaces and joiners, direction marks, the soft
// hyphen), combining and enclosing marks, variation selectors and the
// Hangul fillers. Dropping them lets "6\u200b13" be read as 613.
func invisible(r rune) bool {
	switch r {
	case '\u115f', '\u1160', '\u3164', '\uffa0':
		return true
	}
	return unicode.In(r, unicode.Cf, unicode.Mn, unicode.Me) || (r >= '\ufe00' && r <= '\ufe0f')
}

func normalise(s string) normalised {
	var b strings.Builder
	b.Grow(len(s))
	n := normalised{from: make([]int, 0, len(s)), to: make([]int, 0, len(s))}
	emit := func(c string, from, to int) {
		b.WriteString(c)
		for range len(c) {
			n.from = append(n.from, from)
			n.to = append(n.to, to)
		}
	}
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		j := i + size
		switch {
		case r == utf8.RuneError && size <= 1:
			emit(" ", i, j)
		case r == '%' && j+1 < len(s) && s[j] == '4' && s[j+1] == '0':
			emit("@", i, j+2)
			j += 2
		case r == '&' && entityAt(s[j:]) > 0:
			k := entityAt(s[j:])
			emit("@", i, j+k)
			j += k
		case r < utf8.RuneSelf:
			if r == '\t' || r == '\r' || r == '\f' || r == '\v' {
				emit(" ", i, j)
			} else {
				emit(s[i:j], i, j)
			}
		case invisible(r):
			// dropped
		case r >= '\uff01' && r <= '\uff5e': // full-width ASCII
			emit(string(r-0xfee0), i, j)
		case r == '\ufe6b':
			emit("@", i, j)
		case r == '\u3002' || r == '\uff61' || r == '\ufe52':
			emit(".", i, j)
		case (r >= '\u2010' && r <= '\u2015') || r == '\u2212' || r == '\ufe58' || r == '\ufe63' || r == '\u2043':
			emit("-", i, j)
		case r == '\u2024':
			emit(".", i, j)
		case r == '\u2019' || r == '\u2018' || r == '\u02bc':
			emit("'", i, j)
		case unicode.IsSpace(r) || unicode.Is(unicode.Zs, r):
			if r == '\u2028' || r == '\u2029' || r == '\u0085' {
				emit("\n", i, j)
			} else {
				emit(" ", i, j)
			}
		case unicode.Is(unicode.Nd, r):
			emit(string(rune('0'+digitValue(r))), i, j)
		default:
			emit(s[i:j], i, j)
		}
		i = j
	}
	n.text = b.String()
	return n
}

// entityAt returns the length of an HTML character reference for '@' at
// the start of s (after its '&'), or 0.
func entityAt(s string) int {
	for _, e := range []string{"#64;", "#x40;", "#X40;", "commat;"} {
		if strings.HasPrefix(s, e) {
			return len(e)
		}
	}
	return 0
}

// digitValue is the value of a Unicode decimal digit: Unicode keeps each
// script's digits 0-9 in a row, and every range of the Nd table starts at
// a zero.
func digitValue(r rune) int {
	for _, rg := range unicode.Nd.R16 {
		if rune(rg.Lo) <= r && r <= rune(rg.Hi) {
			return int(r-rune(rg.Lo)) % 10
		}
	}
	for _, rg := range unicode.Nd.R32 {
		if rune(rg.Lo) <= r && r <= rune(rg.Hi) {
			return int(r-rune(rg.Lo)) % 10
		}
	}
	return 0
}

// scan reports every match of re in s that accept takes, trying again one
// rune after the start of a match it refuses. group selects the submatch
// that is the finding (0: the whole match).
func scan(re *regexp.Regexp, s string, group int, accept func(s string, st, en int) bool, found func(st, en int)) {
	for off := 0; off < len(s); {
		loc := re.FindStringSubmatchIndex(s[off:])
		if loc == nil {
			return
		}
		ms, me := off+loc[0], off+loc[1]
		st, en := off+loc[2*group], off+loc[2*group+1]
		if loc[2*group] >= 0 && en > st && accept(s, st, en) {
			found(st, en)
			off = max(me, ms+1)
			continue
		}
		_, size := utf8.DecodeRuneInString(s[ms:])
		off = ms + max(size, 1)
	}
}

func isWord(r rune) bool { return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) }

func before(s string, i int) rune {
	if i <= 0 {
		return ' '
	}
	r, _ := utf8.DecodeLastRuneInString(s[:i])
	return r
}

func after(s string, i int) rune {
	if i >= len(s) {
		return ' '
	}
	r, _ := utf8.DecodeRuneInString(s[i:])
	return r
}

// digitsOnly keeps the ASCII digits of s.
func digitsOnly(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// numberEdge reports whether a number ending or starting at i stands
// alone: no digit, and no digit group joined to it by a separator.
func numberEdgeBefore(s string, i int) bool {
	r := before(s, i)
	if unicode.IsDigit(r) || unicode.IsLetter(r) || r == '_' {
		return false
	}
	if (r == '-' || r == '.' || r == '/') && unicode.IsDigit(before(s, i-1)) {
		return false
	}
	return true
}

func numberEdgeAfter(s string, i int) bool {
	r := after(s, i)
	if unicode.IsDigit(r) || unicode.IsLetter(r) || r == '_' {
		return false
	}
	if (r == '-' || r == '.' || r == '/') && unicode.IsDigit(after(s, i+1)) {
		return false
	}
	return true
}

var (
	reEmail = regexp.MustCompile(`[\p{L}\p{N}!#$%&'*+/=?^_{|}~-]+(?:\.[\p{L}\p{N}!#$%&'*+/=?^_{|}~-]+)*@(?:[\p{L}\p{N}](?:[\p{L}\p{N}-]{0,61}[\p{L}\p{N}])?\.)+\p{L}{2,63}`)
	// jane [at] example [dot] com, jane(at)example.com, jane at example dot com
	reEmailObfuscated = regexp.MustCompile(`(?i)[\p{L}\p{N}._%+-]+\s*(?:[\[\(\{<]\s*(?:at|@)\s*[\]\)\}>])\s*[\p{L}\p{N}-]+(?:\s*(?:\.|[\[\(\{<]\s*(?:dot|\.)\s*[\]\)\}>]|\s+dot\s+)\s*[\p{L}\p{N}-]+)+` +
		`|[\p{L}\p{N}._%+-]+\s+at\s+[\p{L}\p{N}-]+(?:\s+dot\s+[\p{L}\p{N}-]+)+`)
)

func findEmails(s string, add func(Kind, int, int)) {
	// The local part's class is greedy, so a match starts where the
	// address does; "@jane@example.org" (a fediverse handle) is found too.
	scan(reEmail, s, 0, func(string, int, int) bool { return true }, func(st, en int) { add(Email, st, en) })
	scan(reEmailObfuscated, s, 0, func(s string, st, en int) bool {
		return !isWord(before(s, st)) && !isWord(after(s, en))
	}, func(st, en int) { add(Email, st, en) })
}

var (
	rePhone        = regexp.MustCompile(`(?i)(?:\+\s?1[\s.-]{0,2}|\b1[\s.-]{1,2})?(?:\(\s*[2-9]\d{2}\s*\)[\s.-]{0,2}|[2-9]\d{2}[\s.-]{0,2})[2-9]\d{2}[\s.-]{0,2}\d{4}(?:\s*(?:,\s*)?(?:ext\.?|extension|x|#|poste|p\.)\s*\d{1,6})?`)
	reOtherCountry = regexp.MustCompile(`\+\d{1,3}[\s.-]{0,2}$`)
	// Words that make a bare ten-digit number a telephone number.
	rePhoneWord = regexp.MustCompile(`(?i)(?:tel|tél|phone|téléphone|telephone|call|cell|mobile|fax|cellulaire|appelez|text|sms|whatsapp)\W{0,3}$`)
)

func findPhones(s string, add func(Kind, int, int)) {
	scan(rePhone, s, 0, func(s string, st, en int) bool {
		if !numberEdgeBefore(s, st) || !numberEdgeAfter(s, en) {
			return false
		}
		if before(s, st) == '+' || reOtherCountry.MatchString(s[max(0, st-8):st]) {
			return false // +44 613… is not North American
		}
		m := s[st:en]
		d := digitsOnly(m)
		if strings.HasPrefix(m, "+") || strings.ContainsAny(m, " .-()") {
			return len(d) >= 10
		}
		// A bare run of digits is a phone number only when a word says so.
		ctx := s[max(0, st-16):st]
		return rePhoneWord.MatchString(strings.TrimRight(ctx, " :#"))
	}, func(st, en int) { add(Phone, st, en) })
}

var (
	reSSN     = regexp.MustCompile(`\d{3}([- ])\d{2}[- ]\d{4}`)
	reSSNWord = regexp.MustCompile(`(?i)\b(?:ssn|ss#|social\s+security(?:\s+(?:number|no\.?|#))?)\s*(?:is|:|#|no\.?)?\s*(\d{9}|\d{3}[- ]\d{2}[- ]\d{4})`)
)

// validSSN applies the Social Security Administration's rules: no area
// 000, 666 or 900-999, no group 00, no serial 0000.
func validSSN(d string) bool {
	if len(d) != 9 {
		return false
	}
	area, group, serial := d[:3], d[3:5], d[5:]
	return area != "000" && area != "666" && area[0] != '9' && group != "00" && serial != "0000"
}

func findSSNs(s string, add func(Kind, int, int)) {
	scan(reSSN, s, 0, func(s string, st, en int) bool {
		m := s[st:en]
		return m[3] == m[6] && numberEdgeBefore(s, st) && numberEdgeAfter(s, en) && validSSN(digitsOnly(m))
	}, func(st, en int) { add(SSN, st, en) })
	scan(reSSNWord, s, 1, func(s string, st, en int) bool {
		return numberEdgeAfter(s, en) && validSSN(digitsOnly(s[st:en]))
	}, func(st, en int) { add(SSN, st, en) })
}

var (
	reSIN     = regexp.MustCompile(`\d{3}[- ]\d{3}[- ]\d{3}`)
	reSINWord = regexp.MustCompile(`(?i)\b(?:sin|nas|social\s+insurance(?:\s+(?:number|no\.?|#))?|num[ée]ro\s+d'assurance\s+sociale)\s*(?:is|est|:|#|no\.?)?\s*(\d{9}|\d{3}[- ]\d{3}[- ]\d{3})`)
)

// Luhn reports whether a string of digits has a valid Luhn check digit,
// as a Social Insurance Number does.
func Luhn(d string) bool {
	if d == "" {
		return false
	}
	sum := 0
	for i := len(d) - 1; i >= 0; i-- {
		c := d[i]
		if c < '0' || c > '9' {
			return false
		}
		v := int(c - '0')
		if (len(d)-1-i)%2 == 1 {
			v *= 2
			if v > 9 {
				v -= 9
			}
		}
		sum += v
	}
	return sum%10 == 0
}

func validSIN(d string) bool { return len(d) == 9 && d != "000000000" && Luhn(d) }

func findSINs(s string, add func(Kind, int, int)) {
	scan(reSIN, s, 0, func(s string, st, en int) bool {
		m := s[st:en]
		return m[3] == m[7] && numberEdgeBefore(s, st) && numberEdgeAfter(s, en) && validSIN(digitsOnly(m))
	}, func(st, en int) { add(SIN, st, en) })
	scan(reSINWord, s, 1, func(s string, st, en int) bool {
		return numberEdgeAfter(s, en) && validSIN(digitsOnly(s[st:en]))
	}, func(st, en int) { add(SIN, st, en) })
}

const (
	addrNumber = `\d{1,6}(?:-\d{1,6})?[A-Za-z]?(?:\s*(?:bis|ter))?`
	addrDir    = `(?:N|S|E|W|NE|NW|SE|SW|North|South|East|West|Nord|Sud|Est|Ouest)\.?`
	addrUnit   = `(?:,?\s*(?i:Apt|Apartment|Unit|Suite|Ste|Room|Rm|App|Appartement|Bureau|Local|#)\.?\s*#?\s*[A-Za-z0-9-]{1,6})?`
	// A name word begins with a capital or a digit (Main, Elm, 5th, O'Connor).
	addrName = `[\p{Lu}\d][\p{L}\d'.-]*`
	// Street types that may follow a capitalised name.
	addrTypes = `Street|St|Avenue|Ave|Av|Road|Rd|Boulevard|Blvd|Drive|Dr|Lane|Ln|Court|Ct|Crescent|Cres|Place|Pl|Way|Terrace|Terr|Circle|Cir|Parkway|Pkwy|Highway|Hwy|Trail|Trl|Square|Sq|Close|Grove|Heights|Hts|Row|Gardens|Gdns|Mews|Alley|Expressway|Freeway|Private|Concession|Line|Sideroad`
	// Types unambiguous enough to follow a name written in lower case.
	addrStrong = `street|avenue|road|boulevard|drive|lane|crescent|parkway|highway`
	// French types come before the name.
	addrTypesFR = `rue|avenue|av\.|boulevard|boul\.|bd|chemin|ch\.|route|rang|place|montée|côte|impasse|allée|promenade|croissant|carré|cours|quai|terrasse|sentier|ruelle|voie|autoroute|rond-point`
	addrLinkFR  = `(?:(?:de\s+la|de\s+l'|des|du|de|d'|la|le|les|l'|saint|sainte|st|ste)[\s-]*)`
)

var (
	reAddrEN = regexp.MustCompile(`\b` + addrNumber + `(?:\s+` + addrDir + `)?\s+(?:` +
		`(?:` + addrName + `\s+){0,3}` + addrName + `\s+(?i:` + addrTypes + `)\b\.?` +
		`|(?i:(?:[\p{L}\d][\p{L}\d'.-]*\s+){0,2}[\p{L}\d][\p{L}\d'.-]*\s+(?:` + addrStrong + `))\b` +
		`)(?:\s+` + addrDir + `\b)?` + addrUnit)
	reAddrFR = regexp.MustCompile(`\b` + addrNumber + `,?\s+(?i:` + addrTypesFR + `)\s+` + addrLinkFR + `?` +
		`[\p{Lu}\d][\p{L}\d'-]*(?:[\s-]+` + addrLinkFR + `?[\p{Lu}][\p{L}'-]*){0,3}` + addrUnit)
)

func findAddresses(s string, add func(Kind, int, int)) {
	edge := func(s string, st, en int) bool {
		r := before(s, st)
		// Not a time (10:00), a decimal, a date or part of a longer token.
		return !isWord(r) && !strings.ContainsRune(":.,/-$€£#", r) && !isWord(after(s, en))
	}
	scan(reAddrEN, s, 0, edge, func(st, en int) { add(Address, st, en) })
	scan(reAddrFR, s, 0, edge, func(st, en int) { add(Address, st, en) })
}
