package index

import (
	"math"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/document"
	bindex "github.com/blevesearch/bleve_index_api"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/catalog"
)

// Doc is what the index holds of one item: the latest version's content,
// the text of earlier versions, and what the catalog and records
// management know of it. Callers building a Doc for Update may set the
// records-management fields (Class, Schedule, Exemptions, Holds, Removed);
// NewDoc fills the rest from the catalog and the item's versions.
type Doc struct {
	Key      string
	Platform string
	Account  string
	ID       string
	Kind     string
	// Lang is the item's language tag ("en", "fr-ca"); it chooses the
	// language analyser for Text.
	Lang string
	// Text is the latest version's text.
	Text string
	// History holds the text of earlier versions that differ from Text,
	// oldest first, so a phrase edited away is still found.
	History []string

	AuthorID     string
	AuthorHandle string
	AuthorName   string
	// Parent and Thread are the platform's ids, as the item gives them.
	Parent string
	Thread string

	CreatedAt     time.Time
	FirstCaptured time.Time
	LastCaptured  time.Time
	// Removed is true when the item was found removed at its source.
	Removed   bool
	RemovedAt time.Time

	Hashtags []string
	Mentions []string
	Links    []string

	// Self is true when the account itself wrote the item (its author is
	// the account, or the item names no author), false when a member of
	// the public did. It is indexed as origin:account or origin:public.
	Self bool
	// LinkOnly is true when the item's text is nothing but links (and
	// hashtags or mentions) and it has a link: a post that only points to
	// something published elsewhere, a secondary copy.
	LinkOnly bool
	// Media are the types of the item's attachments ("image", "video", …;
	// "other" when the platform gives no type).
	Media []string

	// Records management: the classification ("record", "secondary-copy",
	// "transitory", "non-record"; empty is indexed as "unclassified"), the
	// retention schedule's id, exemption codes and the holds that cover
	// the item.
	Class      string
	Schedule   string
	Exemptions []string
	Holds      []string

	// Versions is how many distinct versions the item has; more than one
	// means it was edited.
	Versions int
}

// Unclassified is the class an item without one is indexed under.
const Unclassified = "unclassified"

// Edited reports whether the item has more than one version.
func (d *Doc) Edited() bool { return d.Versions > 1 }

// ParentKey is the archive key of the item's parent (the post a comment
// answers), or "".
func (d *Doc) ParentKey() string {
	if d.Parent == "" {
		return ""
	}
	return archive.ItemKey(d.Platform, d.Account, d.Parent)
}

// NewDoc builds the document of an item from its catalog record, its
// latest version's content and the content of its earlier versions (in
// the catalog's order; nil entries, unreadable versions, are skipped).
func NewDoc(it catalog.Item, latest *archive.Item, earlier []*archive.Item) Doc {
	d := Doc{
		Key: it.Key, Platform: it.Platform, Account: it.Account, ID: it.ID, Kind: it.Kind,
		CreatedAt: it.CreatedAt.UTC(), FirstCaptured: it.FirstSeen.UTC(), LastCaptured: it.LastSeen.UTC(),
		Versions: len(it.Versions),
	}
	if latest != nil {
		d.Lang, d.Text = latest.Lang, latest.Text
		if latest.Author != nil {
			d.AuthorID, d.AuthorHandle, d.AuthorName = latest.Author.ID, latest.Author.Handle, latest.Author.Name
		}
		d.Parent, d.Thread = latest.Parent, latest.Thread
		d.Hashtags, d.Mentions, d.Links = latest.Hashtags, latest.Mentions, latest.Links
		d.Self = selfAuthored(it.Account, d.Kind, latest.Parent, latest.Author)
		d.LinkOnly = linkOnly(latest.Text, latest.Links)
		for _, m := range latest.Media {
			t := strings.ToLower(strings.TrimSpace(m.Type))
			if i := strings.IndexByte(t, '/'); i > 0 {
				t = t[:i] // a MIME type: image/jpeg is an image
			}
			if t == "" {
				t = "other"
			}
			d.Media = append(d.Media, t)
		}
		if d.Kind == "" {
			d.Kind = latest.Kind
		}
		if d.CreatedAt.IsZero() {
			d.CreatedAt = latest.Created().UTC()
		}
	}
	seen := map[string]bool{d.Text: true}
	for _, e := range earlier {
		if e == nil || seen[e.Text] {
			continue
		}
		seen[e.Text] = true
		d.History = append(d.History, e.Text)
	}
	return d
}

// Field names in the index. Text fields are analysed; the others are
// keywords, indexed as given (platform, kind, lang, hashtags and mentions
// lower-cased first).
const (
	fText      = "text"       // latest text, plain analyser; stored
	fTextBi    = "text_bi"    // latest text, pairs of adjacent plain words ("road closure"), of common words (pairRule)
	fTextRare  = "text_rare"  // latest text, the plain words rare in their batch, left out of text_bi (pairRule)
	fTextEN    = "text_en_w"  // latest text, English stems with their weight tier (tierTerm); items in English or of no stated language
	fTextFR    = "text_fr_w"  // latest text, French stems with their weight tier
	fHistory   = "history"    // earlier versions' text, plain analyser; stored
	fHistoryBi = "history_bi" // earlier versions' text, pairs of adjacent plain words
	fAuthor    = "author"     // author name and handle, plain analyser
	fAccountLC = "account_lc" // account, lower case, for matching; account itself is for facets
	fAuthorID  = "author_id"
	fHandle    = "author_handle"
	fName      = "author_name" // stored only
	fPlatform  = "platform"
	fAccount   = "account"
	fKind      = "kind"
	fLang      = "lang"
	fParent    = "parent"
	fThread    = "thread"
	fHashtag   = "hashtag"
	fMention   = "mention"
	fLink      = "link"
	fClass     = "class"
	fSchedule  = "schedule"
	fExemption = "exemption"
	fHold      = "hold"
	fRemoved   = "removed"
	fOrigin    = "origin"   // account (the account itself wrote it) or public
	fLinkOnly  = "linkonly" // true when the text is only links
	fMedia     = "media"    // attachment types, and true or false
	fEdited    = "edited"
	fTime      = "t"       // created_at at four levels: Y2024, M202403, D20240305, H2024030514
	fCreated   = "created" // stored: RFC 3339 UTC, the sort key
	fFirst     = "first_captured"
	fLast      = "last_captured"
	fRemovedAt = "removed_at"
	fID        = "id"
)

// Indexing options. Phrases are found by word pairs and checked against
// the stored text, and relevance comes from the weight tiers in the
// language fields' terms, so no field keeps positions, frequencies or
// lengths.
const (
	optPlain   = bindex.IndexField | bindex.StoreField | bindex.SkipFreqNorm
	optWords   = bindex.IndexField | bindex.SkipFreqNorm
	optKeyword = bindex.IndexField | bindex.SkipFreqNorm
	optKeyStor = bindex.IndexField | bindex.StoreField | bindex.SkipFreqNorm
	optStored  = bindex.StoreField
)

// timeTerms are the terms of field t for a creation time, coarsest first.
func timeTerms(t time.Time) [4]string {
	s := t.UTC().Format("2006010215")
	return [4]string{"Y" + s[:4], "M" + s[:6], "D" + s[:8], "H" + s[:10]}
}

// Terms of the language fields carry the weight of the word in the item
// (see score.go): the stem, a unit separator, and a tier letter.
const tierSep = "\x1f"

// maxTier is the lowest weight tier; tiers run from 0 (the word is the
// whole text) down by a factor of 2^(1/4) each.
const maxTier = 25

// tierOf is the tier of a word that is tf of length words of a text:
// ⌊−4·log₂ √(tf/length)⌋, at most maxTier.
func tierOf(tf, length int) int {
	if tf <= 0 || length <= 0 || tf >= length {
		return 0
	}
	q := int(math.Floor(-2 * math.Log2(float64(tf)/float64(length))))
	return min(q, maxTier)
}

// tierWeight is the weight a tier stands for: the middle of its range.
func tierWeight(q int) float64 { return math.Exp2(-(float64(q) + 0.5) / 4) }

func tierTerm(stem string, q int) string { return stem + tierSep + string(rune('a'+q)) }

// bleveDoc is the bleve document of d, its keyword fields from kc, ts the
// plain tokens of its text and rule the pairs of them to index. Its
// fields' terms are made here (termsField), each text tokenised once for
// all the fields derived from it; Mapping names the analysers that make
// the same terms (but for the pairs rule leaves out, see pairRule).
func (d *Doc) bleveDoc(kc *keywordCache, ts analysis.TokenStream, rule *pairRule) *document.Document {
	bd := document.NewDocument(d.Key)
	// A document has about thirty fields: room for them at once, not
	// grown by doubling. bleve adds the _id field.
	bd.Fields = make([]document.Field, 0, 32+2*len(d.History))
	plain := analyser(AnalyserPlain)
	at := func(pos int) []uint64 {
		if pos < 0 {
			return nil
		}
		return []uint64{uint64(pos)}
	}
	field := func(name string, pos int, v string, opt bindex.FieldIndexingOptions, a analysis.Analyzer) {
		bd.AddField(plainField(name, at(pos), []byte(v), opt, a.Analyze([]byte(v))))
	}
	kw := func(name, v string, opt bindex.FieldIndexingOptions) {
		if v != "" {
			bd.AddField(kc.keyword(name, v, opt))
		}
	}
	kws := func(name string, vs []string, norm func(string) string) {
		var terms []string
		for _, v := range vs {
			if norm != nil {
				v = norm(v)
			}
			if v != "" {
				terms = append(terms, v)
			}
		}
		if len(terms) > 0 {
			bd.AddField(keywordsField(name, terms, optKeyword))
		}
	}
	// The latest text: plain words (stored), word pairs, and the stems of
	// its language with their weight, tokenised once.
	bd.AddField(plainField(fText, nil, []byte(d.Text), optPlain, ts))
	bd.AddField(pairField(fTextBi, nil, optWords, ts, rule))
	if f := rareField(fTextRare, optWords, ts, rule); f != nil {
		bd.AddField(f)
	}
	langName, langField := AnalyserEnglish, fTextEN
	if languageAnalyser(d.Lang) == AnalyserFrench {
		langName, langField = AnalyserFrench, fTextFR
	}
	bd.AddField(weightedField(langField, langName, optWords, ts))
	for i, h := range d.History {
		hts := plain.Analyze([]byte(h))
		bd.AddField(plainField(fHistory, at(i), []byte(h), optPlain, hts))
		bd.AddField(pairField(fHistoryBi, at(i), optWords, hts, nil))
	}
	if who := strings.TrimSpace(d.AuthorName + " " + d.AuthorHandle); who != "" {
		field(fAuthor, -1, who, optWords, plain)
	}
	kw(fAuthorID, d.AuthorID, optKeyword)
	kw(fHandle, normHandle(d.AuthorHandle), optKeyStor)
	kw(fName, d.AuthorName, optStored)
	kw(fPlatform, strings.ToLower(d.Platform), optKeyStor)
	kw(fAccount, d.Account, optKeyStor)
	kw(fAccountLC, strings.ToLower(d.Account), optKeyword)
	kw(fID, d.ID, optStored)
	kw(fKind, strings.ToLower(d.Kind), optKeyStor)
	kw(fLang, strings.ToLower(d.Lang), optKeyStor)
	kw(fParent, d.Parent, optKeyStor)
	kw(fThread, d.Thread, optKeyword)
	kws(fHashtag, d.Hashtags, normTag)
	kws(fMention, d.Mentions, normHandle)
	kws(fLink, d.Links, nil)
	class := strings.ToLower(d.Class)
	if class == "" {
		class = Unclassified
	}
	kw(fClass, class, optKeyStor)
	kw(fSchedule, strings.ToLower(d.Schedule), optKeyword)
	kws(fExemption, d.Exemptions, strings.ToLower)
	kws(fHold, d.Holds, strings.ToLower)
	kw(fRemoved, boolTerm(d.Removed), optKeyStor)
	kw(fEdited, boolTerm(d.Edited()), optKeyStor)
	kw(fOrigin, d.origin(), optKeyword)
	kw(fLinkOnly, boolTerm(d.LinkOnly), optKeyword)
	kws(fMedia, d.mediaTerms(), nil)
	if !d.CreatedAt.IsZero() {
		tt := timeTerms(d.CreatedAt)
		bd.AddField(keywordsField(fTime, tt[:], optKeyword))
		kw(fCreated, d.CreatedAt.UTC().Format(time.RFC3339Nano), optStored)
	}
	stamp := func(name string, t time.Time) {
		if !t.IsZero() {
			kw(name, t.UTC().Format(time.RFC3339Nano), optStored)
		}
	}
	stamp(fFirst, d.FirstCaptured)
	stamp(fLast, d.LastCaptured)
	stamp(fRemovedAt, d.RemovedAt)
	return bd
}

// Fields are the document's field values as bleve's own mapping (Mapping)
// reads them: what bleve alone would be given to index the same fields.
// The "_type" field chooses the language's document mapping.
func (d *Doc) Fields() map[string]any {
	m := map[string]any{"_type": "en", "text": d.Text}
	if languageAnalyser(d.Lang) == AnalyserFrench {
		m["_type"] = "fr"
	}
	set := func(k, v string) {
		if v != "" {
			m[k] = v
		}
	}
	if len(d.History) > 0 {
		m["history"] = d.History
	}
	set(fAuthor, strings.TrimSpace(d.AuthorName+" "+d.AuthorHandle))
	set(fAuthorID, d.AuthorID)
	set(fHandle, normHandle(d.AuthorHandle))
	set(fName, d.AuthorName)
	set(fPlatform, strings.ToLower(d.Platform))
	set(fAccount, d.Account)
	set(fAccountLC, strings.ToLower(d.Account))
	set(fID, d.ID)
	set(fKind, strings.ToLower(d.Kind))
	set(fLang, strings.ToLower(d.Lang))
	set(fParent, d.Parent)
	set(fThread, d.Thread)
	class := strings.ToLower(d.Class)
	if class == "" {
		class = Unclassified
	}
	set(fClass, class)
	set(fSchedule, strings.ToLower(d.Schedule))
	set(fRemoved, boolTerm(d.Removed))
	set(fEdited, boolTerm(d.Edited()))
	set(fOrigin, d.origin())
	set(fLinkOnly, boolTerm(d.LinkOnly))
	list := func(k string, vs []string, norm func(string) string) {
		var out []string
		for _, v := range vs {
			if norm != nil {
				v = norm(v)
			}
			if v != "" {
				out = append(out, v)
			}
		}
		if len(out) > 0 {
			m[k] = out
		}
	}
	list(fHashtag, d.Hashtags, normTag)
	list(fMention, d.Mentions, normHandle)
	list(fLink, d.Links, nil)
	list(fExemption, d.Exemptions, strings.ToLower)
	list(fHold, d.Holds, strings.ToLower)
	list(fMedia, d.mediaTerms(), nil)
	if !d.CreatedAt.IsZero() {
		tt := timeTerms(d.CreatedAt)
		m[fTime] = tt[:]
		m[fCreated] = d.CreatedAt.UTC().Format(time.RFC3339Nano)
	}
	for k, t := range map[string]time.Time{fFirst: d.FirstCaptured, fLast: d.LastCaptured, fRemovedAt: d.RemovedAt} {
		if !t.IsZero() {
			m[k] = t.UTC().Format(time.RFC3339Nano)
		}
	}
	return m
}

func boolTerm(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// normTag is a hashtag as indexed and searched: no "#", lower case,
// diacritics folded.
func normTag(s string) string {
	return string(foldTerm([]byte(strings.ToLower(strings.TrimPrefix(strings.TrimSpace(s), "#")))))
}

// normHandle is a handle or mention as indexed and searched: no "@" in
// front, lower case.
func normHandle(s string) string {
	return strings.ToLower(strings.TrimPrefix(strings.TrimSpace(s), "@"))
}

// Origins of an item: the account itself, or the public.
const (
	OriginAccount = "account"
	OriginPublic  = "public"
)

func (d *Doc) origin() string {
	if d.Self {
		return OriginAccount
	}
	return OriginPublic
}

// mediaTerms are the terms of the media field: each attachment type, and
// "true" when there is any, "false" when there is none.
func (d *Doc) mediaTerms() []string {
	if len(d.Media) == 0 {
		return []string{"false"}
	}
	out := []string{"true"}
	for _, t := range d.Media {
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}

// selfAuthored reports whether the account wrote an item: its author's
// handle or id is the account's (any case, "@" dropped), or it names no
// author and is not a comment or reply (what an account publishes itself
// often carries none; a comment with no author is not assumed to be the
// account's).
func selfAuthored(account, kind, parent string, a *archive.Author) bool {
	if a == nil || (a.Handle == "" && a.ID == "" && a.Name == "") {
		k := strings.ToLower(kind)
		return parent == "" && k != "comment" && k != "reply"
	}
	acct := normHandle(account)
	return acct != "" && (normHandle(a.Handle) == acct || strings.ToLower(a.ID) == acct)
}

var (
	reURL       = regexp.MustCompile(`(?i)\b(?:https?://|www\.)\S+`)
	reTagOrName = regexp.MustCompile(`[#@][\p{L}\p{N}_.]+`)
)

// linkOnly reports whether text is nothing but links, hashtags and
// mentions (punctuation aside), and the item has a link.
//
// Most texts have a plain word, and a word (a run between ASCII white
// space, which ends every link) with a letter or digit and neither "#",
// "@", "://" nor "www." is one no link or tag can cover: the text is then
// not link-only, without the regular expressions, which were a twentieth
// of indexing.
func linkOnly(text string, links []string) bool {
	for w := range strings.FieldsFuncSeq(text, isASCIISpace) {
		if strings.ContainsFunc(w, letterOrDigit) && !strings.ContainsAny(w, "#@") && !strings.Contains(w, "://") && !containsWWW(w) {
			return false
		}
	}
	return linkOnlyRE(text, links)
}

// isASCIISpace is the white space \S excludes in Go's regular expressions.
func isASCIISpace(r rune) bool {
	return r == ' ' || r == '\t' || r == '\n' || r == '\f' || r == '\r'
}

func letterOrDigit(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

// containsWWW reports whether s holds "www." in any case.
func containsWWW(s string) bool {
	for i := 0; i+4 <= len(s); i++ {
		if s[i]|0x20 == 'w' && s[i+1]|0x20 == 'w' && s[i+2]|0x20 == 'w' && s[i+3] == '.' {
			return true
		}
	}
	return false
}

// linkOnlyRE is linkOnly by its definition.
func linkOnlyRE(text string, links []string) bool {
	if len(links) == 0 && !reURL.MatchString(text) {
		return false
	}
	rest := reTagOrName.ReplaceAllString(reURL.ReplaceAllString(text, " "), " ")
	return !strings.ContainsFunc(rest, letterOrDigit)
}
