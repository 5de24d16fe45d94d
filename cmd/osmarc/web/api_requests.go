package web

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/request"
	"github.com/osmarc/osmarc/export/bagit"
	"github.com/osmarc/osmarc/index"
)

// RequestView is a request with its clock.
type RequestView struct {
	*request.Request
	DaysLeft int  `json:"days_left"`
	Overdue  bool `json:"overdue"`
}

func (s *Server) requestView(rq *request.Request) RequestView {
	v := RequestView{Request: rq}
	if rq.Status != request.StatusClosed {
		v.DaysLeft = rq.DaysLeft(request.DateOf(s.now()))
		v.Overdue = v.DaysLeft < 0
	}
	return v
}

func (s *Server) apiRequests(w http.ResponseWriter, r *http.Request) {
	rs, err := request.List(s.a)
	if err != nil {
		s.Fail(w, r, err, "")
		return
	}
	all := r.URL.Query().Get("all") == "true"
	out := []RequestView{}
	for _, rq := range rs {
		if all || rq.Status != request.StatusClosed {
			out = append(out, s.requestView(rq))
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"requests": out})
}

func (s *Server) apiRequest(w http.ResponseWriter, r *http.Request) {
	rq, err := request.Get(s.a, r.PathValue("id"))
	if err != nil {
		s.Fail(w, r, err, "id")
		return
	}
	writeJSON(w, http.StatusOK, s.requestView(rq))
}

// requestChange runs a change to a request as the signed-in user and
// answers with the request.
func (s *Server) requestChange(w http.ResponseWriter, r *http.Request, in any, fn func(ctx context.Context) (*request.Request, error)) {
	if in != nil {
		if err := decodeJSON(r, in); err != nil {
			s.Fail(w, r, err, "body")
			return
		}
	}
	var rq *request.Request
	err := s.Write(r.Context(), func(ctx context.Context) error {
		var err error
		rq, err = fn(ctx)
		return err
	})
	if err != nil {
		s.Fail(w, r, asBadInput(err), "")
		return
	}
	writeJSON(w, http.StatusOK, s.requestView(rq))
}

func (s *Server) apiRequestOpen(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Requester   string `json:"requester"`
		Description string `json:"description"`
		Received    string `json:"received"`
		Due         string `json:"due"`
		Law         string `json:"law"`
		Days        int    `json:"days"`
	}
	if err := decodeJSON(r, &in); err != nil {
		s.Fail(w, r, err, "body")
		return
	}
	op := request.OpenParams{Requester: in.Requester, Description: in.Description, Law: in.Law, Days: in.Days, Today: s.now()}
	var err error
	if in.Received == "" {
		s.Fail(w, r, badInput("received is required (YYYY-MM-DD)"), "received")
		return
	}
	if op.Received, err = request.ParseDate(in.Received); err != nil {
		s.Fail(w, r, badInput("received: "+err.Error()), "received")
		return
	}
	if in.Due != "" {
		if op.Due, err = request.ParseDate(in.Due); err != nil {
			s.Fail(w, r, badInput("due: "+err.Error()), "due")
			return
		}
	}
	var rq *request.Request
	err = s.Write(r.Context(), func(ctx context.Context) error {
		var err error
		rq, err = request.Open(ctx, s.a, s.presets, op)
		return err
	})
	if err != nil {
		s.Fail(w, r, asBadInput(err), "body")
		return
	}
	writeJSON(w, http.StatusCreated, s.requestView(rq))
}

// apiRequestSearch runs a search (the URL parameters of GET
// /api/v1/search) and saves it, with every hit, in the request's scope.
func (s *Server) apiRequestSearch(w http.ResponseWriter, r *http.Request) {
	req, err := ParseSearch(r.URL.Query())
	if err != nil {
		s.Fail(w, r, err, searchParamOf(err))
		return
	}
	if s.ix == nil {
		s.fail(w, r, http.StatusServiceUnavailable, "no-index", errNoIndex.Error(), "")
		return
	}
	id := r.PathValue("id")
	if _, err := request.Get(s.a, id); err != nil {
		s.Fail(w, r, err, "id")
		return
	}
	if req.Sort == index.SortRelevance {
		req.Sort = index.SortNewest
	}
	var keys []string
	if _, err := s.ix.SearchAll(r.Context(), req, func(h index.Hit) error {
		keys = append(keys, h.Key)
		return nil
	}); err != nil {
		s.Fail(w, r, err, "q")
		return
	}
	var saved request.SavedSearch
	err = s.Write(r.Context(), func(ctx context.Context) error {
		var err error
		saved, err = request.SaveSearch(ctx, s.a, id, request.Search{Query: req.Query, Filters: searchFilters(r.URL.Query()), Keys: keys, By: UserFrom(ctx).Name})
		return err
	})
	if err != nil {
		s.Fail(w, r, asBadInput(err), "id")
		return
	}
	writeJSON(w, http.StatusCreated, saved)
}

func (s *Server) apiRequestAdd(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Keys   []string `json:"keys"`
		Search int      `json:"search"`
	}
	s.requestChange(w, r, &in, func(ctx context.Context) (*request.Request, error) {
		id := r.PathValue("id")
		if in.Search > 0 {
			rq, _, err := request.AddSearch(ctx, s.a, id, in.Search)
			return rq, err
		}
		rq, _, err := request.AddItems(ctx, s.a, id, in.Keys)
		return rq, err
	})
}

func (s *Server) apiRequestRemove(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Key    string `json:"key"`
		Reason string `json:"reason"`
	}
	s.requestChange(w, r, &in, func(ctx context.Context) (*request.Request, error) {
		return request.RemoveItem(ctx, s.a, r.PathValue("id"), in.Key, in.Reason)
	})
}

func (s *Server) apiRequestWithhold(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Key       string `json:"key"`
		Exemption string `json:"exemption"`
		Reason    string `json:"reason"`
	}
	s.requestChange(w, r, &in, func(ctx context.Context) (*request.Request, error) {
		return request.Withhold(ctx, s.a, s.presets, r.PathValue("id"), in.Key, in.Exemption, in.Reason)
	})
}

func (s *Server) apiRequestRedact(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Key       string `json:"key"`
		Field     string `json:"field"`
		Text      string `json:"text"`
		Span      string `json:"span"`
		Exemption string `json:"exemption"`
		Reason    string `json:"reason"`
	}
	s.requestChange(w, r, &in, func(ctx context.Context) (*request.Request, error) {
		p := request.RedactParams{Key: in.Key, Field: in.Field, Text: in.Text, Exemption: in.Exemption, Reason: in.Reason, By: UserFrom(ctx).Name}
		if in.Span != "" {
			sp, err := request.ParseSpan(in.Span)
			if err != nil {
				return nil, badInput("span: " + err.Error())
			}
			p.Span = sp
		}
		return request.Redact(ctx, s.a, s.presets, r.PathValue("id"), p)
	})
}

func (s *Server) apiRequestClose(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Reason string `json:"reason"`
	}
	s.requestChange(w, r, &in, func(ctx context.Context) (*request.Request, error) {
		return request.Close(ctx, s.a, r.PathValue("id"), in.Reason)
	})
}

// ProductionsDir is where productions made through the web application
// are written, inside the data directory: productions/<request>/<time>.
const ProductionsDir = "productions"

// ProduceFunc writes request id's production as a bag at out (which must
// not exist) and returns its summary, the bag's Payload-Oxum and the
// SHA-256 of its tag manifest. The acting user is archive.ActorFrom(ctx).
type ProduceFunc func(ctx context.Context, id, out string, threads, noDetect bool) (sum *request.Summary, payloadOxum, tagManifest string, err error)

// Produce writes a request's production as a BagIt bag in the data
// directory's productions folder and records it in the journal, as
// `osmarc request produce` does, with the signed-in user as the producer.
// It returns the summary and where the bag is.
func (s *Server) Produce(ctx context.Context, id string, threads, noDetect bool) (*request.Summary, string, error) {
	if _, err := request.Get(s.a, id); err != nil {
		return nil, "", err
	}
	dir := filepath.Join(s.a.Dir(), ProductionsDir, id)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, "", err
	}
	out := filepath.Join(dir, s.now().UTC().Format("20060102T150405.000Z"))
	produce := s.cfg.ProduceBag
	if produce == nil {
		produce = s.produceBag
	}
	var sum *request.Summary
	err := s.Write(ctx, func(ctx context.Context) error {
		var oxum, tag string
		var err error
		if sum, oxum, tag, err = produce(ctx, id, out, threads, noDetect); err != nil {
			return err
		}
		if _, err := request.RecordProduction(ctx, s.a, id, sum, out, oxum, tag); err != nil {
			return fmt.Errorf("the bag is complete in %s, but recording it failed: %w", out, err)
		}
		return nil
	})
	return sum, out, err
}

// produceBag is request.Produce into a plain BagIt bag.
func (s *Server) produceBag(ctx context.Context, id, out string, threads, noDetect bool) (*request.Summary, string, string, error) {
	bag, err := bagit.Create(out)
	if err != nil {
		return nil, "", "", err
	}
	ok := false
	defer func() {
		if !ok {
			bag.Abort()
		}
	}()
	sum, err := request.Produce(ctx, s.a, id, bag, request.ProduceOptions{Threads: threads, NoDetect: noDetect, Actor: archive.ActorFrom(ctx), Now: s.now, Out: out})
	if err != nil {
		return nil, "", "", err
	}
	for _, f := range []bagit.Field{
		{Label: "Osmarc-Archive-ID", Value: s.a.Config().ArchiveID},
		{Label: "External-Identifier", Value: sum.Request.ID},
		{Label: "External-Description", Value: "Production of open-records request " + sum.Request.ID},
		{Label: "Bagging-Date", Value: sum.ProducedAt.Format(request.DateLayout)},
		{Label: "Bag-Software-Agent", Value: "osmarc " + archive.Version},
		{Label: "Osmarc-Journal-Seq", Value: strconv.FormatUint(sum.JournalHead.Seq, 10)},
		{Label: "Osmarc-Journal-Head", Value: sum.JournalHead.Hash},
	} {
		if err := bag.AddInfo(f.Label, f.Value); err != nil {
			return nil, "", "", err
		}
	}
	res, err := bag.Finish()
	if err != nil {
		return nil, "", "", err
	}
	ok = true
	return sum, res.PayloadOxum, res.TagManifestSHA256, nil
}

func (s *Server) apiRequestProduce(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Threads  bool `json:"threads"`
		NoDetect bool `json:"no_detect"`
	}
	if err := decodeJSON(r, &in); err != nil {
		s.Fail(w, r, err, "body")
		return
	}
	sum, out, err := s.Produce(r.Context(), r.PathValue("id"), in.Threads, in.NoDetect)
	if err != nil {
		s.Fail(w, r, asBadInput(err), "id")
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"summary": sum, "bag": out})
}

func (s *Server) apiRequestLaws(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.presets)
}
