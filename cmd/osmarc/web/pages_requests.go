package web

import (
	"archive/zip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/osmarc/osmarc/archive/request"
	"github.com/osmarc/osmarc/export/bagit"
	"github.com/osmarc/osmarc/index"
)

// EventProductionDownloaded records that someone downloaded a production.
const EventProductionDownloaded = "export.downloaded"

type requestRow struct {
	ID, Requester, Received, Due, Status string
	Clock, ClockClass                    string
	Items                                int
}

type requestsPage struct {
	Requests []requestRow
	CanOpen  bool
	Laws     []request.Law
	Today    string
}

// clock says how a request stands against its due date.
func clock(r *request.Request, now time.Time) (string, string) {
	if r.Status != request.StatusOpen {
		return "closed", ""
	}
	if r.Due == "" {
		return "no due date", ""
	}
	n := r.DaysLeft(now)
	switch {
	case n < 0:
		return fmt.Sprintf("%d day(s) overdue", -n), "late"
	case n == 0:
		return "due today", "soon"
	case n <= 5:
		return fmt.Sprintf("%d day(s) left", n), "soon"
	}
	return fmt.Sprintf("%d day(s) left", n), ""
}

func (s *Server) pageRequests(w http.ResponseWriter, r *http.Request) {
	reqs, err := request.List(s.a)
	if err != nil {
		s.Fail(w, r, err, "")
		return
	}
	p := &requestsPage{CanOpen: Can(r.Context(), PermRequests), Laws: s.presets.Laws, Today: s.now().UTC().Format(request.DateLayout)}
	for _, rq := range reqs {
		c, cc := clock(rq, s.now())
		p.Requests = append(p.Requests, requestRow{ID: rq.ID, Requester: rq.Requester, Received: rq.Received, Due: rq.Due,
			Status: rq.Status, Clock: c, ClockClass: cc, Items: len(rq.Items)})
	}
	s.render(w, r, http.StatusOK, "requests", "Requests", p)
}

func (s *Server) pageRequestOpen(w http.ResponseWriter, r *http.Request) {
	o := request.OpenParams{Requester: r.PostFormValue("requester"), Description: r.PostFormValue("description"),
		Law: r.PostFormValue("law"), Today: s.now()}
	var err error
	if v := r.PostFormValue("received"); v != "" {
		if o.Received, err = request.ParseDate(v); err != nil {
			s.Fail(w, r, badInput("received: "+err.Error()), "received")
			return
		}
	}
	if v := r.PostFormValue("due"); v != "" {
		if o.Due, err = request.ParseDate(v); err != nil {
			s.Fail(w, r, badInput("due: "+err.Error()), "due")
			return
		}
	}
	if o.Law == "" && o.Due.IsZero() {
		s.Fail(w, r, badInput("choose the law that sets the due date, or give the due date"), "law")
		return
	}
	var rq *request.Request
	err = s.Write(r.Context(), func(ctx context.Context) error {
		var err error
		rq, err = request.Open(ctx, s.a, s.presets, o)
		return err
	})
	if err != nil {
		s.Fail(w, r, asInput(err), "")
		return
	}
	done(w, r, "/requests/"+url.PathEscape(rq.ID), "Request "+rq.ID+" opened; due "+rq.Due+".")
}

type requestItemRow struct {
	request.ItemRef
	N        int
	Withheld string
}

type productionRow struct {
	request.Production
	// Download links the zip; NoDownload says why there is none.
	Download, NoDownload string
}

type requestPage struct {
	R           *request.Request
	Clock       string
	ClockClass  string
	Items       []requestItemRow
	Productions []productionRow
	Exemptions  []request.Exemption
	CanEdit     bool
}

func (s *Server) pageRequest(w http.ResponseWriter, r *http.Request) {
	rq, err := request.Get(s.a, r.PathValue("id"))
	if err != nil {
		s.Fail(w, r, err, "id")
		return
	}
	p := &requestPage{R: rq, CanEdit: Can(r.Context(), PermRequests), Exemptions: s.presets.Exemptions}
	p.Clock, p.ClockClass = clock(rq, s.now())
	for i, it := range rq.Items {
		row := requestItemRow{ItemRef: it, N: i + 1}
		for _, wh := range rq.WithheldUnder(it.Key) {
			row.Withheld = strings.TrimSpace(row.Withheld + " " + wh.Exemption.Code)
		}
		p.Items = append(p.Items, row)
	}
	for i, pr := range rq.Productions {
		row := productionRow{Production: pr}
		if dir, why := s.productionDir(pr); dir != "" {
			row.Download = fmt.Sprintf("/requests/%s/productions/%d", url.PathEscape(rq.ID), i+1)
		} else {
			row.NoDownload = why
		}
		p.Productions = append(p.Productions, row)
	}
	s.render(w, r, http.StatusOK, "request", "Request "+rq.ID, p)
}

// pageRequestSearch runs a search and saves it in the request, adding its
// hits as responsive when asked.
func (s *Server) pageRequestSearch(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	q := url.Values{"q": {r.PostFormValue("q")}}
	req, err := ParseSearch(q)
	if err != nil {
		s.Fail(w, r, err, "q")
		return
	}
	if s.ix == nil {
		s.fail(w, r, http.StatusServiceUnavailable, "no-index", errNoIndex.Error(), "")
		return
	}
	var keys []string
	req.Facets = false
	if _, err := s.ix.SearchAll(r.Context(), req, func(h index.Hit) error { keys = append(keys, h.Key); return nil }); err != nil {
		s.Fail(w, r, err, "q")
		return
	}
	var added int
	err = s.Write(r.Context(), func(ctx context.Context) error {
		ss, err := request.SaveSearch(ctx, s.a, id, request.Search{Query: req.Query, Keys: keys, By: UserFrom(r.Context()).Name})
		if err != nil {
			return err
		}
		if r.PostFormValue("add") != "" && len(keys) > 0 {
			_, added, err = request.AddSearch(ctx, s.a, id, ss.N)
		}
		return err
	})
	if err != nil {
		s.Fail(w, r, asInput(err), "")
		return
	}
	done(w, r, "/requests/"+url.PathEscape(id), fmt.Sprintf("Search saved: %d hit(s), %d item(s) added.", len(keys), added))
}

// pageRequestItems withholds a request's item under an exemption, or
// takes it out of the request.
func (s *Server) pageRequestItems(w http.ResponseWriter, r *http.Request) {
	id, key, reason := r.PathValue("id"), r.PostFormValue("key"), r.PostFormValue("reason")
	if key == "" {
		s.Fail(w, r, badInput("choose an item first"), "key")
		return
	}
	var msg string
	err := s.Write(r.Context(), func(ctx context.Context) error {
		switch r.PostFormValue("action") {
		case "withhold":
			code := r.PostFormValue("code")
			msg = fmt.Sprintf("%s withheld under %s.", key, code)
			_, err := request.Withhold(ctx, s.a, s.presets, id, key, code, reason)
			return err
		case "remove":
			msg = key + " taken out of the request."
			_, err := request.RemoveItem(ctx, s.a, id, key, reason)
			return err
		}
		return badInput("action: withhold or remove")
	})
	if err != nil {
		s.Fail(w, r, asInput(err), "")
		return
	}
	done(w, r, "/requests/"+url.PathEscape(id), msg)
}

func (s *Server) pageRequestRedact(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	o := request.RedactParams{Key: strings.TrimSpace(r.PostFormValue("key")), Field: strings.TrimSpace(r.PostFormValue("field")),
		Text: r.PostFormValue("text"), Exemption: r.PostFormValue("code"), Reason: r.PostFormValue("reason"), By: UserFrom(r.Context()).Name}
	// A span (START:END characters of a field of one item's latest
	// version) instead of a text, as the API and the CLI's --span allow.
	if v := strings.TrimSpace(r.PostFormValue("span")); v != "" {
		sp, err := request.ParseSpan(v)
		if err != nil {
			s.Fail(w, r, badInput("span: "+err.Error()), "span")
			return
		}
		if o.Key == "" {
			s.Fail(w, r, badInput("span: name the item the characters are in"), "key")
			return
		}
		o.Span = sp
	}
	if o.Span == nil && strings.TrimSpace(o.Text) == "" {
		s.Fail(w, r, badInput("text: say what to redact (or give an item and a span)"), "text")
		return
	}
	err := s.Write(r.Context(), func(ctx context.Context) error {
		_, err := request.Redact(ctx, s.a, s.presets, id, o)
		return err
	})
	if err != nil {
		s.Fail(w, r, asInput(err), "")
		return
	}
	done(w, r, "/requests/"+url.PathEscape(id), "Redaction recorded.")
}

// pageRequestClose closes a request, as `osmarc request close` does: no
// further change is taken, and the clock stops.
func (s *Server) pageRequestClose(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := required(r, "reason"); err != nil {
		s.Fail(w, r, err, "")
		return
	}
	err := s.Write(r.Context(), func(ctx context.Context) error {
		_, err := request.Close(ctx, s.a, id, r.PostFormValue("reason"))
		return err
	})
	if err != nil {
		s.Fail(w, r, asInput(err), "id")
		return
	}
	done(w, r, "/requests/"+url.PathEscape(id), "Request "+id+" closed.")
}

// pageRequestProduce produces the request (Server.Produce: a BagIt bag in
// the data directory's productions directory, recorded in the request);
// the request page then offers it for download.
func (s *Server) pageRequestProduce(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	rq, err := request.Get(s.a, id)
	if err != nil {
		s.Fail(w, r, err, "id")
		return
	}
	sum, _, err := s.Produce(r.Context(), rq.ID, r.PostFormValue("threads") != "", false)
	if err != nil {
		s.Fail(w, r, asInput(err), "")
		return
	}
	c := sum.Counts
	done(w, r, "/requests/"+url.PathEscape(rq.ID), fmt.Sprintf("Produced %s: %d item(s), %d withheld, %d redaction(s). Download it below.",
		rq.ID, c.Produced, c.Withheld, c.Redactions))
}

// productionDir says whether a production can be offered for download:
// its directory, or "" and why not.
//
// A production is kept wherever it was written: by the pages, in the
// data directory's productions folder; by `osmarc request produce --out
// DIR`, anywhere the operator chose. Both record the path and the SHA-256
// of the bag's tag manifest in the journal (request.produced), and the
// tag manifest holds the digest of every other tag file, which hold the
// payload's. So a recorded production is offered when its directory still
// exists and its tag manifest still has the recorded digest — one small
// file hashed per page view; the download then verifies the whole bag
// (pageProductionDownload). The server reads no directory the journal
// does not name, and none whose bag is not the one recorded. A production
// recorded without a digest (older osmarc) is offered only from the
// productions folder the pages write to.
func (s *Server) productionDir(pr request.Production) (string, string) {
	abs, err := filepath.Abs(pr.Out)
	if err != nil {
		return "", "its path " + pr.Out + " is not usable"
	}
	if fi, err := os.Stat(abs); err != nil || !fi.IsDir() {
		return "", "it is no longer at " + pr.Out
	}
	if pr.TagManifest == "" {
		root, err := filepath.Abs(filepath.Join(s.a.Dir(), ProductionsDir))
		if err != nil || filepath.Dir(filepath.Dir(abs)) != root {
			return "", "it was written to " + pr.Out + " without a recorded digest, so the server cannot tell it is the same bag"
		}
		return abs, ""
	}
	b, err := os.ReadFile(filepath.Join(abs, "tagmanifest-sha256.txt"))
	if err != nil {
		return "", "its tag manifest is gone from " + pr.Out
	}
	if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != pr.TagManifest {
		return "", "the bag at " + pr.Out + " changed since it was produced (its tag manifest differs from the one recorded)"
	}
	return abs, ""
}

// pageProductionDownload streams a production's bag as a zip file.
func (s *Server) pageProductionDownload(w http.ResponseWriter, r *http.Request) {
	rq, err := request.Get(s.a, r.PathValue("id"))
	if err != nil {
		s.Fail(w, r, err, "id")
		return
	}
	n, err := strconv.Atoi(r.PathValue("n"))
	if err != nil || n < 1 || n > len(rq.Productions) {
		s.fail(w, r, http.StatusNotFound, "not-found", fmt.Sprintf("request %s has no production %q (it has %d)", rq.ID, r.PathValue("n"), len(rq.Productions)), "n")
		return
	}
	pr := rq.Productions[n-1]
	dir, why := s.productionDir(pr)
	if dir == "" {
		s.fail(w, r, http.StatusNotFound, "not-found", fmt.Sprintf("production %d of %s cannot be downloaded: %s", n, rq.ID, why), "n")
		return
	}
	// The whole bag is checked before a byte is sent (every payload and
	// tag file against its manifest, Payload-Oxum): a download costs
	// reading the bag twice, and a damaged bag is refused with the
	// problem named, never sent as if it were the production.
	rep, err := bagit.Verify(r.Context(), dir, nil)
	if err == nil && pr.PayloadOxum != "" {
		for _, f := range rep.Info {
			if f.Label == "Payload-Oxum" && f.Value != pr.PayloadOxum {
				rep.Problems = append(rep.Problems, bagit.Problem{Path: "bag-info.txt", Problem: "Payload-Oxum " + f.Value + ", recorded " + pr.PayloadOxum})
			}
		}
	}
	if err != nil || !rep.Valid() {
		msg := fmt.Sprint(err)
		if err == nil {
			msg = rep.Problems[0].String()
			if len(rep.Problems) > 1 {
				msg += fmt.Sprintf(" (and %d more problem(s))", len(rep.Problems)-1)
			}
		}
		s.fail(w, r, http.StatusConflict, "damaged", fmt.Sprintf("production %d of %s at %s does not verify, so it is not sent: %s", n, rq.ID, pr.Out, msg), "n")
		return
	}
	if err := s.Audit(r, EventProductionDownloaded, map[string]any{"request": rq.ID, "production": n, "out": pr.Out}); err != nil {
		s.Fail(w, r, err, "")
		return
	}
	name := rq.ID + "-" + filepath.Base(dir) + ".zip"
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	zw := zip.NewWriter(w)
	base := rq.ID + "-" + filepath.Base(dir)
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		zf, err := zw.CreateHeader(&zip.FileHeader{Name: base + "/" + filepath.ToSlash(rel), Method: zip.Deflate, Modified: pr.At})
		if err != nil {
			return err
		}
		_, err = io.Copy(zf, f)
		return err
	})
	if err == nil {
		err = zw.Close()
	}
	if err != nil {
		// The headers are gone; cut the response so the zip is visibly bad.
		s.log.Error("download production", "request", rq.ID, "err", err)
		panic(http.ErrAbortHandler)
	}
}
