package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/catalog"
	"github.com/osmarc/osmarc/archive/journal"
	"github.com/osmarc/osmarc/archive/retention"
)

// threadNode is one item of a thread as the item page draws it.
type threadNode struct {
	Key, Kind, Author, Anchor string
	CreatedAt, LastSeen       time.Time
	Text                      string
	Edited                    bool
	Versions                  int
	Removed                   bool
	Redacted                  bool
	Current                   bool
	Children                  []*threadNode
	// ReplyTo links the parent when it is on another page of the thread.
	ReplyTo string

	id, parent string
}

type versionView struct {
	N          int
	Prev       int
	Digest     string
	CapturedAt time.Time
	EditedAt   string
	Text       string
	Diff       []DiffSpan
	Error      string
}

type mediaView struct {
	Label, Type, Alt, Href, Note string
}

type historyLine struct {
	At       time.Time
	What     string
	Who      string
	sequence int
}

type itemPage struct {
	Item          catalog.Item
	Latest        *archive.Item
	Author        string
	AccountKey    string
	Redacted      bool
	Thread        []*threadNode
	ThreadPartial string
	ThreadPager   *threadPager
	Versions      []versionView
	Media         []mediaView
	Class         string
	Exemptions    []string
	Schedule      string
	ScheduleFrom  string
	Disposition   string
	Holds         []string
	History       []historyLine
	// HistoryCut is the oldest event the history scan did not reach (0:
	// it reached the item's first capture); HistoryMore searches the
	// audit journal for the rest.
	HistoryCut  uint64
	HistoryMore string
	// The classification form, for those who may classify: the classes,
	// exemption codes and schedules to choose from, and the person's
	// decision in force (which can be undone).
	CanClassify bool
	Classes     []string
	Codes       []string
	Schedules   []string
	Decision    *retention.Decision
}

// A thread is read through the index up to threadWalkLimit items (oldest
// first) and shown threadPageSize items a page (?tpage=N; by default the
// page holding the item). Variables so tests can lower them.
var (
	threadPageSize  = 500
	threadWalkLimit = 20000
)

// threadPager is where a page of a long thread is.
type threadPager struct {
	Page, Pages, Total int
	First, Last        int // the items shown, 1-based
	Prev, Next         string
	Over               bool // the thread has more than threadWalkLimit items
	Limit              int
}

func (s *Server) pageItem(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("key")
	// Item redacts for the user's role and records an unredacted view of
	// exempt content, as the API does.
	v, err := s.Item(r, key)
	if err != nil {
		s.Fail(w, r, err, "key")
		return
	}
	d := v.ItemDetail
	p := &itemPage{Item: d.Item, AccountKey: archive.AccountKey(d.Platform, d.Account), Redacted: v.Redacted,
		Class: v.Class, Exemptions: v.Exemptions, Holds: v.Holds}
	for i := len(d.Versions) - 1; i >= 0; i-- {
		if d.Versions[i].Item != nil {
			p.Latest = d.Versions[i].Item
			break
		}
	}
	p.Author = authorName(p.Latest)
	s.itemSchedule(p, v.class)
	// Versions, oldest first, each with its difference from the one before.
	prevText, prevN := "", 0
	for i, ver := range d.Versions {
		vv := versionView{N: i + 1, Digest: ver.Digest, CapturedAt: ver.CapturedAt, Error: ver.Error}
		if ver.Item != nil {
			vv.EditedAt, vv.Text = ver.Item.EditedAt, ver.Item.Text
			if prevN > 0 && vv.Text != prevText {
				vv.Diff, vv.Prev = WordDiff(prevText, vv.Text), prevN
			}
			prevText, prevN = vv.Text, i+1
		}
		p.Versions = append(p.Versions, vv)
	}
	// Media: what the latest version names, with the digests the captures
	// recorded for it (withheld items name none).
	var digests []string
	for i := len(d.Sightings) - 1; i >= 0; i-- {
		if len(d.Sightings[i].Media) > 0 {
			digests = d.Sightings[i].Media
			break
		}
	}
	if p.Latest != nil {
		for i, m := range p.Latest.Media {
			mv := mediaView{Label: fmt.Sprintf("Attachment %d", i+1), Type: m.Type, Alt: m.Alt}
			dg := m.Digest
			if dg == "" && i < len(digests) {
				dg = digests[i]
			}
			if dg != "" {
				mv.Href = "/media/" + url.PathEscape(dg) + "?item=" + url.QueryEscape(key)
			} else {
				mv.Note = "not downloaded; source " + m.URL
			}
			p.Media = append(p.Media, mv)
		}
	}
	p.Thread, p.ThreadPartial, p.ThreadPager, err = s.threadNodes(r, d.Item)
	if err != nil {
		s.Fail(w, r, err, "tpage")
		return
	}
	if p.CanClassify = Can(r.Context(), PermClassify); p.CanClassify {
		p.Classes, p.Codes = retention.Classes, s.exemptionCodes()
		if ss, err := s.records.Schedules(); err == nil {
			for _, sc := range ss {
				p.Schedules = append(p.Schedules, sc.ID)
			}
		}
		if dec, err := s.records.Decision(key); err == nil && dec.Status != "undone" {
			p.Decision = &dec
		}
	}
	p.History, p.HistoryCut = s.itemHistory(d)
	if Redact(r.Context()) {
		// What events say (a reason, a request's text) is redacted as the
		// item is.
		for i := range p.History {
			p.History[i].What, _ = redactText(p.History[i].What, nil)
		}
	}
	if p.HistoryCut > 0 && Can(r.Context(), PermAudit) {
		p.HistoryMore = "/audit?" + url.Values{"text": {d.Key}, "before": {fmt.Sprint(p.HistoryCut)}}.Encode()
	}
	s.render(w, r, http.StatusOK, "item", d.Kind+" by "+p.Author, p)
}

func authorName(it *archive.Item) string {
	if it == nil || it.Author == nil {
		return "unknown author"
	}
	switch {
	case it.Author.Name != "" && it.Author.Handle != "":
		return it.Author.Name + " (@" + strings.TrimPrefix(it.Author.Handle, "@") + ")"
	case it.Author.Name != "":
		return it.Author.Name
	case it.Author.Handle != "":
		return "@" + strings.TrimPrefix(it.Author.Handle, "@")
	}
	return it.Author.ID
}

// itemSchedule fills the schedule (its classification c's, a person's or
// a rule's, else the account's) and the disposition date under it.
func (s *Server) itemSchedule(p *itemPage, c itemClass) {
	switch {
	case c.Schedule == "":
		p.ScheduleFrom = "the account " + p.AccountKey
	case c.Source == retention.SourceRule:
		p.ScheduleFrom = "classification rule " + c.Rule
	default:
		p.ScheduleFrom = "its classification"
	}
	// The date comes from records management, with the cutoff events
	// plans use (the account's deactivation, the closing of the last
	// request holding the item), so the page and a plan agree.
	sched, disp, err := s.records.DispositionOf(p.Item, c.Schedule)
	p.Schedule = sched
	switch {
	case sched == "":
		p.ScheduleFrom = ""
		p.Disposition = "none: no schedule applies yet"
	case errors.Is(err, retention.ErrNotFound):
		p.Disposition = "unknown: schedule " + sched + " is not defined"
	case err != nil:
		p.Disposition = "cannot be computed: " + err.Error()
	case disp.Permanent:
		p.Disposition = "permanent (never destroyed)"
		if sc, err := s.records.Schedule(sched); err == nil {
			p.Disposition = "permanent (" + sc.Action + ", never destroyed)"
		}
	case disp.Pending != "":
		p.Disposition = "waits for " + disp.Pending
	case !disp.Date.IsZero():
		p.Disposition = disp.Date.Format(time.DateOnly)
		if sc, err := s.records.Schedule(sched); err == nil {
			p.Disposition += " (" + sc.Action + ")"
		}
	}
}

// threadNodes draws a page of the item's thread (ThreadUpTo finds its
// members through the index) with each member's full latest text, nested
// by parent, oldest first at each level, redacted as the user's role
// requires. A thread longer than a page says how long it is and links
// the other pages; a reply whose parent is on another page links it.
// Without an index it shows the item alone and says why.
//
// Cost: the walk reads up to threadWalkLimit index hits (keys, parents,
// times); only the page's items are read from the catalog and the store.
func (s *Server) threadNodes(r *http.Request, ci catalog.Item) ([]*threadNode, string, *threadPager, error) {
	ctx := r.Context()
	keys := []string{ci.Key}
	partial := ""
	var pager *threadPager
	tv, err := s.ThreadUpTo(r, ci.Key, threadWalkLimit)
	switch {
	case errors.Is(err, errNoIndex):
		partial = "There is no search index, so only this item is shown: run osmarc reindex."
	case err != nil:
		partial = "The thread could not be found: " + err.Error()
	default:
		all := make([]string, 0, len(tv.Items))
		at := -1
		for _, h := range tv.Items {
			if h.Key == ci.Key {
				at = len(all)
			}
			all = append(all, h.Key)
		}
		if at < 0 { // the item is not in the index (yet): show it first
			all = append([]string{ci.Key}, all...)
			at = 0
		}
		pg := &threadPager{Total: len(all), Over: tv.Partial, Limit: threadWalkLimit}
		pg.Pages = (len(all) + threadPageSize - 1) / threadPageSize
		pg.Page = at/threadPageSize + 1
		if v := r.URL.Query().Get("tpage"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > pg.Pages {
				return nil, "", nil, badInput(fmt.Sprintf("tpage: want a page of the thread from 1 to %d", pg.Pages))
			}
			pg.Page = n
		}
		lo := (pg.Page - 1) * threadPageSize
		hi := min(lo+threadPageSize, len(all))
		keys = all[lo:hi]
		pg.First, pg.Last = lo+1, hi
		link := func(n int) string {
			return itemURL(ci.Key) + "?" + url.Values{"tpage": {strconv.Itoa(n)}}.Encode() + "#thread-h"
		}
		if pg.Page > 1 {
			pg.Prev = link(pg.Page - 1)
		}
		if pg.Page < pg.Pages {
			pg.Next = link(pg.Page + 1)
		}
		if pg.Pages > 1 || pg.Over {
			pager = pg
		}
	}
	redact := Redact(ctx)
	var classes map[string]itemClass
	if redact {
		if classes, err = s.classes(ctx, keys...); err != nil {
			return nil, "", nil, err
		}
	}
	nodes := map[string]*threadNode{} // by platform id
	var all []*threadNode
	for _, k := range keys {
		c, err := s.a.Catalog().Item(k)
		if err != nil {
			continue
		}
		n := &threadNode{Key: k, Kind: c.Kind, CreatedAt: c.CreatedAt, LastSeen: c.LastSeen, Versions: len(c.Versions),
			Edited: len(c.Versions) > 1, Removed: c.RemovedAt != nil, Current: k == ci.Key, id: c.ID, Anchor: fmt.Sprint(len(all))}
		it, err := s.a.Version(ctx, c.Latest().Digest)
		if err != nil {
			n.Text = "[this version could not be read: " + err.Error() + "]"
		} else {
			n.parent = it.Parent
			if redact {
				withheld := classes[k].withheld()
				redactItem(it, withheld)
				n.Redacted = withheld
			}
			n.Text, n.Author = it.Text, authorName(it)
		}
		nodes[c.ID] = n
		all = append(all, n)
	}
	var roots []*threadNode
	for _, n := range all {
		if par, ok := nodes[n.parent]; ok && n.parent != "" && par != n {
			par.Children = append(par.Children, n)
		} else {
			if n.parent != "" && pager != nil {
				n.ReplyTo = itemURL(archive.ItemKey(ci.Platform, ci.Account, n.parent))
			}
			roots = append(roots, n)
		}
	}
	var order func([]*threadNode)
	order = func(ns []*threadNode) {
		sort.SliceStable(ns, func(i, j int) bool {
			if !ns[i].CreatedAt.Equal(ns[j].CreatedAt) {
				return ns[i].CreatedAt.Before(ns[j].CreatedAt)
			}
			return ns[i].Key < ns[j].Key
		})
		for _, n := range ns {
			order(n.Children)
		}
	}
	order(roots)
	return roots, partial, pager, nil
}

// itemHistoryScan bounds how many journal events the item page reads
// looking for the ones that name the item (a variable so tests can lower
// it).
var itemHistoryScan = 20000

// itemHistory lists the captures that saw the item and the journal events
// that name it, oldest first.
//
// Cost: the captures come from what the catalog keeps per key (its
// sightings, already read by Show). The catalog keeps no per-key index of
// journal events, so those are a bounded scan: the journal newest first,
// stopping at the item's first sighting (nothing names an item before it
// was captured) or after itemHistoryScan events, whichever comes first.
// When the bound stops it, the page says so and the audit page (searching
// the journal for the key) has the rest.
func (s *Server) itemHistory(d archive.ItemDetail) (out []historyLine, cut uint64) {
	versionN := map[string]int{}
	for i, v := range d.Versions {
		versionN[v.Digest] = i + 1
	}
	var first time.Time
	for _, sg := range d.Sightings {
		c := d.Captures[sg.Capture]
		what := fmt.Sprintf("seen by %s (version %d)", nonEmpty(c.Collector, "a capture"), versionN[sg.Version])
		if c.Complete {
			what += " in a complete listing"
		}
		out = append(out, historyLine{At: sg.SeenAt, What: what, Who: "capture " + sg.Capture})
		if first.IsZero() || sg.SeenAt.Before(first) {
			first = sg.SeenAt
		}
	}
	if d.RemovedAt != nil {
		out = append(out, historyLine{At: *d.RemovedAt, What: "found removed at source", Who: nonEmpty(d.RemovedBy, "a capture")})
	}
	needle, _ := json.Marshal(d.Key)
	n := 0
	for ev, err := range s.a.Catalog().EventsNewest(0) {
		if err != nil {
			break
		}
		if !first.IsZero() && ev.Time.Before(first.Add(-time.Minute)) {
			break
		}
		if n++; n > itemHistoryScan {
			cut = ev.Seq + 1
			break
		}
		if ev.Type == journal.TypeCapture || !strings.Contains(string(ev.Data), string(needle[1:len(needle)-1])) {
			continue
		}
		out = append(out, historyLine{At: ev.Time, What: eventSummary(ev), Who: ev.Actor, sequence: int(ev.Seq)})
	}
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].At.Equal(out[j].At) {
			return out[i].At.Before(out[j].At)
		}
		return out[i].sequence < out[j].sequence
	})
	return out, cut
}

// eventSummary says what an event did in a few words.
func eventSummary(ev catalog.Event) string {
	var d map[string]json.RawMessage
	json.Unmarshal(ev.Data, &d)
	str := func(k string) string {
		var v string
		json.Unmarshal(d[k], &v)
		return v
	}
	switch {
	case strings.HasPrefix(ev.Type, "request."):
		return fmt.Sprintf("%s (request %s)", ev.Type, str("request"))
	case strings.HasPrefix(ev.Type, "hold."):
		var h struct{ Name string }
		json.Unmarshal(d["hold"], &h)
		return fmt.Sprintf("%s (%s)", ev.Type, h.Name)
	case strings.HasPrefix(ev.Type, "classification."):
		var c struct{ Class, Reason string }
		json.Unmarshal(d["classification"], &c)
		return fmt.Sprintf("%s: %s (%s)", ev.Type, c.Class, c.Reason)
	}
	return fmt.Sprintf("%s (event %d)", ev.Type, ev.Seq)
}

// pageMedia serves one media file of an item: only a digest the item's
// captures recorded, with the type the bytes really are (checked against
// the declared one), as an attachment, never sniffed into a page.
func (s *Server) pageMedia(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	digest := r.PathValue("digest")
	key := r.URL.Query().Get("item")
	if key == "" {
		s.fail(w, r, http.StatusBadRequest, "bad-input", "item: name the item the media belongs to (?item=KEY)", "item")
		return
	}
	d, err := s.a.Show(ctx, key)
	if err != nil {
		s.Fail(w, r, err, "item")
		return
	}
	dg, err := archive.ParseDigest(digest)
	if err != nil {
		s.fail(w, r, http.StatusBadRequest, "bad-input", "digest: "+err.Error(), "digest")
		return
	}
	// The digest must be one of the item's media.
	declared, name, found := "", "", false
	for _, sg := range d.Sightings {
		if slices.Contains(sg.Media, dg.String()) {
			found = true
		}
	}
	for _, v := range d.Versions {
		if v.Item == nil {
			continue
		}
		for _, m := range v.Item.Media {
			if m.Digest == dg.String() {
				found = true
			}
			if m.Digest == dg.String() || (declared == "" && found) {
				declared, name = m.Type, path.Base(m.URL)
			}
		}
	}
	if !found {
		s.fail(w, r, http.StatusNotFound, "not-found", fmt.Sprintf("item %s has no media %s", key, dg), "digest")
		return
	}
	if Redact(ctx) {
		c, err := s.classOf(ctx, key)
		if err != nil {
			s.Fail(w, r, err, "")
			return
		}
		if c.withheld() {
			s.fail(w, r, http.StatusForbidden, "forbidden", "this item is exempt: its media are withheld for your role", "")
			return
		}
	}
	b, err := archive.ReadBlob(ctx, s.a.Store(), dg)
	if err != nil {
		s.Fail(w, r, err, "digest")
		return
	}
	sniffed := http.DetectContentType(b)
	ct := mediaType(declared, sniffed)
	if name == "" || name == "." || name == "/" {
		name = dg.String()[:12]
	}
	if ext, _ := mime.ExtensionsByType(ct); len(ext) > 0 && !strings.HasSuffix(strings.ToLower(name), ext[0]) {
		name += ext[0]
	}
	h := w.Header()
	h.Set("Content-Type", ct)
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("Cache-Control", "private, max-age=3600")
	w.Write(b)
}

// mediaType is the type to serve: the sniffed type when the declared one
// does not agree with the bytes, and never a type a browser would run
// (HTML, SVG, XML, script), which goes out as octet-stream.
func mediaType(declared, sniffed string) string {
	base := func(t string) string {
		m, _, err := mime.ParseMediaType(t)
		if err != nil {
			return ""
		}
		return m
	}
	d, sn := base(declared), base(sniffed)
	t := sn
	if d != "" && strings.Split(d, "/")[0] == strings.Split(sn, "/")[0] && sn != "application/octet-stream" {
		t = d
	}
	if t == "" || sn == "text/html" || strings.Contains(t, "html") || strings.Contains(t, "svg") || strings.Contains(t, "xml") ||
		strings.Contains(t, "javascript") || strings.HasPrefix(t, "text/") && t != "text/plain" {
		return "application/octet-stream"
	}
	if t == "text/plain" {
		return "text/plain; charset=utf-8"
	}
	return t
}
