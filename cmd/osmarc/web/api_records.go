package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/catalog"
	"github.com/osmarc/osmarc/archive/request"
	"github.com/osmarc/osmarc/archive/retention"
	"github.com/osmarc/osmarc/index"
)

// ItemView is an item as the API shows it: the catalog's facts, every
// version's content (redacted for users without PermReadUnredacted), its
// classification and the holds that cover it.
type ItemView struct {
	archive.ItemDetail
	Class      string   `json:"class"`
	Exemptions []string `json:"exemptions,omitempty"`
	Holds      []string `json:"holds,omitempty"`
	// Redacted says personal information was replaced, and Withheld that
	// the content of an exempt item was withheld entirely.
	Redacted bool `json:"redacted"`
	Withheld bool `json:"withheld,omitempty"`
	// class is the classification the view was made under.
	class itemClass
}

// itemClass is an item's classification as records management has it
// (Schedule "" meaning its account's). Unknown says rules exist that could
// not be run on it (there is no search index) and no person classified
// it: its exemptions are not known, and a redacted view withholds it.
type itemClass struct {
	retention.Assignment
	Unknown bool
}

// withheld says a redacted view withholds the item's content and media.
func (c itemClass) withheld() bool { return len(c.Exemptions) > 0 || c.Unknown }

// classes is the classification of each of keys as it stands, as Explain
// decides it: a person's decision, else the first rule that matches, else
// a record under its account's schedule. It is read from records
// management's Classifier, the one disposition, holds and the index's
// exemption codes are filled from. When the rules cannot be run over the
// whole archive (the index is missing or does not hold every item yet)
// they are run over keys alone; when they cannot be run at all, each item
// no person classified is Unknown.
func (s *Server) classes(ctx context.Context, keys ...string) (map[string]itemClass, error) {
	unknown := false
	cl, err := s.records.Classifier(ctx)
	if errors.Is(err, retention.ErrNoIndex) {
		if cl, err = s.records.PartialClassifier(ctx); err != nil {
			return nil, err
		}
		if _, err = cl.Reevaluate(ctx, s.records.Matcher, keys); errors.Is(err, retention.ErrNoIndex) {
			unknown, err = true, nil
		}
	}
	if err != nil {
		return nil, fmt.Errorf("classification: %w", err)
	}
	out := make(map[string]itemClass, len(keys))
	for _, k := range keys {
		a := cl.Of(k)
		out[k] = itemClass{Assignment: a, Unknown: unknown && a.Source != retention.SourcePerson}
	}
	return out, nil
}

// classOf is classes of one item.
func (s *Server) classOf(ctx context.Context, key string) (itemClass, error) {
	cs, err := s.classes(ctx, key)
	return cs[key], err
}

// queryQuote quotes a value for the query syntax.
func queryQuote(v string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(v) + `"`
}

// Item reads an item for the request's user: redacted when the user may
// not see personal information (the content of an exempt item withheld
// entirely), and an unredacted view of an exempt item or one holding
// personal information recorded in the journal (item.viewed-exempt).
func (s *Server) Item(r *http.Request, key string) (*ItemView, error) {
	ctx := r.Context()
	d, err := s.a.Show(ctx, key)
	if err != nil {
		return nil, err
	}
	c, err := s.classOf(ctx, key)
	if err != nil {
		return nil, err
	}
	holds, err := s.records.HoldsOn(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("holds on %s: %w", key, err)
	}
	v := &ItemView{ItemDetail: d, Class: c.Class, Exemptions: c.Exemptions, Holds: holds, class: c}
	pii := false
	for _, ver := range d.Versions {
		if ver.Item != nil && hasPII(ver.Item) {
			pii = true
		}
	}
	if Redact(ctx) {
		v.Redacted = true
		v.Withheld = c.withheld()
		for i := range v.Versions {
			if it := v.Versions[i].Item; it != nil {
				cp := *it
				redactItem(&cp, v.Withheld)
				v.Versions[i].Item = &cp
			}
		}
		for i := range v.Sightings {
			v.Sightings[i].Raw = ""
		}
		return v, nil
	}
	if len(c.Exemptions) > 0 || pii {
		if err := s.Audit(r, EventExemptViewed, map[string]any{"key": key, "exemptions": c.Exemptions, "personal_information": pii}); err != nil {
			return nil, err
		}
	}
	return v, nil
}

func hasPII(it *archive.Item) bool {
	for _, t := range itemTexts(it) {
		if t != "" {
			if red, _ := redactText(t, nil); red != t {
				return true
			}
		}
	}
	return false
}

func itemTexts(it *archive.Item) []string {
	out := []string{it.Text, it.URL}
	out = append(out, it.Links...)
	if it.Author != nil {
		out = append(out, it.Author.Name, it.Author.Handle)
	}
	for _, m := range it.Media {
		out = append(out, m.Alt)
	}
	return out
}

// redactItem replaces personal information in an item's text fields, or
// with withheld its whole content.
func redactItem(it *archive.Item, withheld bool) {
	if withheld {
		it.Text = "[withheld: exempt]"
		it.Author, it.Links, it.Mentions, it.Media, it.URL = nil, nil, nil, nil, ""
		return
	}
	r := func(s string) string { t, _ := redactText(s, nil); return t }
	it.Text, it.URL = r(it.Text), r(it.URL)
	for i := range it.Links {
		it.Links[i] = r(it.Links[i])
	}
	if it.Author != nil {
		a := *it.Author
		a.Name, a.Handle = r(a.Name), r(a.Handle)
		it.Author = &a
	}
	media := make([]archive.Media, len(it.Media))
	for i, m := range it.Media {
		m.Alt = r(m.Alt)
		media[i] = m
	}
	it.Media = media
}

func (s *Server) apiItem(w http.ResponseWriter, r *http.Request) {
	v, err := s.Item(r, r.PathValue("key"))
	if err != nil {
		s.Fail(w, r, err, "key")
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// ThreadView is an item's thread: every item sharing its root, oldest
// first, each with its parent's key.
type ThreadView struct {
	Key   string      `json:"key"`
	Root  string      `json:"root"`
	Items []index.Hit `json:"items"`
	// Partial says the thread was cut at MaxThread items.
	Partial  bool `json:"partial,omitempty"`
	Redacted bool `json:"redacted"`
}

// MaxThread bounds the items of one thread answer.
const MaxThread = 1000

var errStopWalk = errors.New("stop")

// Thread finds an item's thread through the index: the root (the item's
// thread id, else the top of its parent chain), then every item of the
// same account naming the root as thread or parent, level by level.
//
// A user who sees it unredacted sees exempt items and personal
// information in it: those items are journaled (item.viewed-exempt, with
// the thread's root and their keys), as a view of each item is.
func (s *Server) Thread(r *http.Request, key string) (*ThreadView, error) {
	return s.threadUpTo(r, key, MaxThread, true)
}

// ThreadUpTo is Thread with another bound than MaxThread (the item page
// reads up to its own bound and shows a page of it at a time). The item
// page journals the view of key itself (Item): ThreadUpTo journals the
// others.
func (s *Server) ThreadUpTo(r *http.Request, key string, max int) (*ThreadView, error) {
	return s.threadUpTo(r, key, max, false)
}

func (s *Server) threadUpTo(r *http.Request, key string, max int, journalKey bool) (*ThreadView, error) {
	ctx := r.Context()
	if s.ix == nil {
		return nil, errNoIndex
	}
	ci, err := s.a.Catalog().Item(key)
	if err != nil {
		return nil, fmt.Errorf("item %q: %w", key, archive.ErrNotFound)
	}
	latest, err := s.a.Version(ctx, ci.Latest().Digest)
	if err != nil {
		return nil, err
	}
	rootID := latest.Thread
	cur := latest
	for depth := 0; rootID == "" && depth < 100; depth++ {
		if cur.Parent == "" {
			rootID = cur.ID
			break
		}
		pc, err := s.a.Catalog().Item(archive.ItemKey(ci.Platform, ci.Account, cur.Parent))
		if err != nil {
			rootID = cur.Parent
			break
		}
		if cur, err = s.a.Version(ctx, pc.Latest().Digest); err != nil {
			return nil, err
		}
		rootID = cur.Thread
	}
	if rootID == "" {
		rootID = cur.ID
	}
	tv := &ThreadView{Key: key, Root: archive.ItemKey(ci.Platform, ci.Account, rootID), Items: []index.Hit{}}
	seen := map[string]bool{}
	add := func(h index.Hit) error {
		if seen[h.Key] {
			return nil
		}
		if len(tv.Items) >= max {
			tv.Partial = true
			return errStopWalk
		}
		seen[h.Key] = true
		tv.Items = append(tv.Items, h)
		return nil
	}
	frontier := []string{rootID}
	done := map[string]bool{}
	base := index.Request{Platforms: []string{ci.Platform}, Accounts: []string{ci.Account}, Sort: index.SortOldest}
	// The root itself, when it was captured.
	q := base
	q.Query = "key:" + queryQuote(tv.Root)
	if _, err := s.ix.SearchAll(ctx, q, add); err != nil {
		return nil, err
	}
	for depth := 0; len(frontier) > 0 && depth < 100 && !tv.Partial; depth++ {
		var qs []string
		for _, id := range frontier {
			done[id] = true
			qs = append(qs, "parent:"+queryQuote(id))
			if depth == 0 {
				qs = append(qs, "thread:"+queryQuote(id))
			}
		}
		frontier = nil
		q := base
		q.Query = strings.Join(qs, " ")
		_, err := s.ix.SearchAll(ctx, q, func(h index.Hit) error {
			if !done[h.ID] && !slices.Contains(frontier, h.ID) {
				frontier = append(frontier, h.ID)
			}
			return add(h)
		})
		if err != nil && !errors.Is(err, errStopWalk) {
			return nil, err
		}
	}
	slices.SortStableFunc(tv.Items, func(a, b index.Hit) int { return a.CreatedAt.Compare(b.CreatedAt) })
	if Redact(ctx) {
		tv.Redacted = true
		exempt, err := s.exemptHits(ctx, tv.Items)
		if err != nil {
			return nil, err
		}
		for i := range tv.Items {
			redactHit(&tv.Items[i], exempt[tv.Items[i].Key])
		}
		return tv, nil
	}
	exempt, err := s.exemptHits(ctx, tv.Items)
	if err != nil {
		return nil, err
	}
	var shown []string
	for _, h := range tv.Items {
		if (exempt[h.Key] || hitHasPII(h)) && (journalKey || h.Key != key) {
			shown = append(shown, h.Key)
		}
	}
	if len(shown) > 0 {
		if err := s.Audit(r, EventExemptViewed, map[string]any{"thread": tv.Root, "keys": shown}); err != nil {
			return nil, err
		}
	}
	return tv, nil
}

// hitHasPII reports whether a hit shows personal information that a
// redacted view would hide.
func hitHasPII(h index.Hit) bool {
	for _, t := range []string{h.Snippet, h.Author, h.ParentText, h.ParentAuthor} {
		if t != "" {
			if red, _ := redactText(t, nil); red != t {
				return true
			}
		}
	}
	return false
}

func (s *Server) apiThread(w http.ResponseWriter, r *http.Request) {
	tv, err := s.Thread(r, r.PathValue("key"))
	if errors.Is(err, errNoIndex) {
		s.fail(w, r, http.StatusServiceUnavailable, "no-index", err.Error(), "")
		return
	}
	if err != nil {
		s.Fail(w, r, err, "key")
		return
	}
	writeJSON(w, http.StatusOK, tv)
}

// apiMedia serves a media blob as an attachment with the type the store's
// content was checked to have, never as a page: nosniff, a sandboxing CSP
// and Content-Disposition: attachment.
func (s *Server) apiMedia(w http.ResponseWriter, r *http.Request) {
	d, err := archive.ParseDigest(r.PathValue("digest"))
	if err != nil {
		s.fail(w, r, http.StatusBadRequest, "bad-input", "digest: want 64 lower-case hex characters", "digest")
		return
	}
	if Redact(r.Context()) {
		// Media can show what text redaction hides (faces, documents):
		// a viewer sees it only when no item naming it is exempt; osmarc
		// cannot tell cheaply, so viewers do not get media by digest.
		s.fail(w, r, http.StatusForbidden, "forbidden", "your role sees media on the item page only, where exempt items are withheld", "")
		return
	}
	b, err := archive.ReadBlob(r.Context(), s.a.Store(), d)
	if err != nil {
		s.Fail(w, r, err, "digest")
		return
	}
	ct := http.DetectContentType(b)
	switch {
	case strings.HasPrefix(ct, "image/"), strings.HasPrefix(ct, "video/"), strings.HasPrefix(ct, "audio/"), ct == "application/pdf":
	default:
		ct = "application/octet-stream"
	}
	h := w.Header()
	h.Set("Content-Type", ct)
	h.Set("Content-Disposition", `attachment; filename="`+d.String()[:16]+`"`)
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("Cache-Control", "private, max-age=3600")
	w.Write(b)
}

func (s *Server) apiAccounts(w http.ResponseWriter, r *http.Request) {
	accts, err := s.a.Accounts()
	if err != nil {
		s.Fail(w, r, err, "")
		return
	}
	if accts == nil {
		accts = []archive.Account{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"accounts": accts})
}

func (s *Server) apiAccount(w http.ResponseWriter, r *http.Request) {
	acct, err := s.a.Account(r.PathValue("key"))
	if err != nil {
		s.Fail(w, r, err, "key")
		return
	}
	writeJSON(w, http.StatusOK, acct)
}

// accountInput is what registering or changing an account takes (the
// fields of `osmarc account add`).
type accountInput struct {
	Platform      string   `json:"platform"`
	Handle        string   `json:"handle"`
	ID            string   `json:"id"`
	Name          string   `json:"name"`
	Unit          string   `json:"unit"`
	Practitioners []string `json:"practitioners"`
	Approval      string   `json:"approval"`
	Schedule      string   `json:"schedule"`
	Collect       string   `json:"collect"`
	Credentials   string   `json:"credentials"`
	BaseURL       string   `json:"base_url"`
}

func (s *Server) apiAccountAdd(w http.ResponseWriter, r *http.Request) {
	var in accountInput
	if err := decodeJSON(r, &in); err != nil {
		s.Fail(w, r, err, "body")
		return
	}
	if in.Platform == "" || in.Handle == "" {
		s.Fail(w, r, badInput("platform and handle are required"), "platform")
		return
	}
	acct := archive.Account{Platform: in.Platform, Handle: in.Handle, ID: in.ID, Name: in.Name, Unit: in.Unit,
		Practitioners: in.Practitioners, Approval: in.Approval, Schedule: in.Schedule, Collect: in.Collect,
		Credentials: in.Credentials, BaseURL: in.BaseURL}
	var out archive.Account
	err := s.Write(r.Context(), func(ctx context.Context) error {
		var err error
		out, err = s.a.AddAccount(ctx, acct)
		return err
	})
	if err != nil {
		s.Fail(w, r, asBadInput(err), "body")
		return
	}
	writeJSON(w, http.StatusCreated, out)
}

func (s *Server) apiAccountDeactivate(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Reason string `json:"reason"`
	}
	if err := decodeJSON(r, &in); err != nil {
		s.Fail(w, r, err, "body")
		return
	}
	if strings.TrimSpace(in.Reason) == "" {
		s.Fail(w, r, badInput("reason is required"), "reason")
		return
	}
	var out archive.Account
	err := s.Write(r.Context(), func(ctx context.Context) error {
		var err error
		out, err = s.a.DeactivateAccount(ctx, r.PathValue("key"), in.Reason)
		return err
	})
	if err != nil {
		s.Fail(w, r, asBadInput(err), "key")
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// asBadInput makes an error from the archive packages' validation (which
// have no sentinel for it) a 400, unless it is something Fail knows.
func asBadInput(err error) error {
	if err == nil {
		return nil
	}
	for _, known := range []error{archive.ErrNotFound, catalog.ErrNotFound, archive.ErrUnknownAccount, archive.ErrUnavailable,
		archive.ErrPermission, archive.ErrDamaged, archive.ErrLocked, context.Canceled, context.DeadlineExceeded,
		request.ErrUnknownRequest, request.ErrNotInRequest, request.ErrClosed, retention.ErrNotFound, retention.ErrPlanChanged,
		ErrUnknownUser, ErrUnknownToken, ErrUserExists, index.ErrQuery, errBadInput} {
		if errors.Is(err, known) {
			return err
		}
	}
	var pe interface{ Timeout() bool }
	if errors.As(err, &pe) {
		return err
	}
	return badInput(err.Error())
}

// auditEvent is a journal event as the audit API shows it: secrets (a
// password hash, a token digest) withheld.
type auditEvent struct {
	Seq   uint64          `json:"seq"`
	Time  time.Time       `json:"time"`
	Actor string          `json:"actor"`
	Type  string          `json:"type"`
	Data  json.RawMessage `json:"data,omitempty"`
	Hash  string          `json:"hash"`
}

func withholdSecrets(data json.RawMessage) json.RawMessage {
	hit := false
	for _, f := range SecretFields {
		if strings.Contains(string(data), `"`+f+`"`) {
			hit = true
		}
	}
	if !hit {
		return data
	}
	var m map[string]any
	if json.Unmarshal(data, &m) != nil {
		return data
	}
	for _, f := range SecretFields {
		if _, ok := m[f]; ok {
			m[f] = "[withheld]"
		}
	}
	b, _ := json.Marshal(m)
	return b
}

// redactEventData replaces personal information in every string of an
// event's data (a redaction's text, a kept phrase, a search), for users
// who may not see it.
func redactEventData(data json.RawMessage) json.RawMessage {
	var v any
	if len(data) == 0 || json.Unmarshal(data, &v) != nil {
		return data
	}
	changed := false
	var walk func(any) any
	walk = func(x any) any {
		switch t := x.(type) {
		case string:
			if r, _ := redactText(t, nil); r != t {
				changed = true
				return r
			}
		case map[string]any:
			for k, e := range t {
				t[k] = walk(e)
			}
		case []any:
			for i, e := range t {
				t[i] = walk(e)
			}
		}
		return x
	}
	v = walk(v)
	if !changed {
		return data
	}
	b, err := json.Marshal(v)
	if err != nil {
		return data
	}
	return b
}
