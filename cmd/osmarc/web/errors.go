package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/catalog"
	"github.com/osmarc/osmarc/archive/request"
	"github.com/osmarc/osmarc/archive/retention"
	"github.com/osmarc/osmarc/index"
)

// APIError is the body of every JSON error: what went wrong, a stable code
// for scripts, and where (a parameter, field or header) when one thing
// was at fault.
type APIError struct {
	Status  int    `json:"status"`
	Code    string `json:"code"`
	Message string `json:"error"`
	Where   string `json:"where,omitempty"`
	// Column is the character (from 1) of a malformed query where the
	// problem is.
	Column int `json:"column,omitempty"`
}

// writeJSON writes v as JSON with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	enc.Encode(v)
}

// fail answers with an error: JSON under /api/, else the HTML error page.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, status int, code, msg, where string) {
	s.failErr(w, r, APIError{Status: status, Code: code, Message: msg, Where: where})
}

func (s *Server) failErr(w http.ResponseWriter, r *http.Request, e APIError) {
	if e.Status == http.StatusUnauthorized && strings.HasPrefix(r.URL.Path, "/api/") {
		w.Header().Set("WWW-Authenticate", `Bearer realm="osmarc"`)
	}
	if strings.HasPrefix(r.URL.Path, "/api/") {
		writeJSON(w, e.Status, e)
		return
	}
	s.renderError(w, r, e.Status, e.Message)
}

// Fail answers with the error err, choosing the status from what it is:
// a malformed query or bad input 400 (saying where), anything not found
// 404, a closed request or a changed plan 409, an oversized body 413;
// anything else 500, logged, with a message that gives nothing away.
// where names the parameter the input came from, when known.
func (s *Server) Fail(w http.ResponseWriter, r *http.Request, err error, where string) {
	s.failErr(w, r, s.classify(r, err, where))
}

func (s *Server) classify(r *http.Request, err error, where string) APIError {
	var qe *index.QueryError
	var mbe *http.MaxBytesError
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &qe):
		return APIError{Status: http.StatusBadRequest, Code: "bad-query", Message: err.Error(), Where: nonEmpty(where, "q"), Column: qe.Column}
	case errors.As(err, &mbe):
		return APIError{Status: http.StatusRequestEntityTooLarge, Code: "too-large", Message: "request body is over the limit; nothing was changed", Where: "body"}
	case errors.As(err, &se):
		return APIError{Status: http.StatusBadRequest, Code: "bad-json", Message: "malformed JSON body: " + err.Error(), Where: "body"}
	case errors.As(err, &te):
		return APIError{Status: http.StatusBadRequest, Code: "bad-json", Message: "JSON field " + te.Field + ": want " + te.Type.String(), Where: te.Field}
	case errors.Is(err, archive.ErrNotFound), errors.Is(err, catalog.ErrNotFound), errors.Is(err, retention.ErrNotFound),
		errors.Is(err, ErrUnknownUser), errors.Is(err, ErrUnknownToken), errors.Is(err, archive.ErrUnknownAccount),
		errors.Is(err, request.ErrUnknownRequest), errors.Is(err, request.ErrNotInRequest):
		return APIError{Status: http.StatusNotFound, Code: "not-found", Message: err.Error(), Where: where}
	case errors.Is(err, request.ErrClosed), errors.Is(err, retention.ErrPlanChanged), errors.Is(err, ErrUserExists):
		return APIError{Status: http.StatusConflict, Code: "conflict", Message: err.Error(), Where: where}
	case errors.Is(err, errBadInput), errors.Is(err, archive.ErrBadInput), errors.Is(err, retention.ErrInvalid),
		errors.Is(err, index.ErrQuery), errors.Is(err, ErrBadPassword), errors.Is(err, request.ErrBadDate):
		return APIError{Status: http.StatusBadRequest, Code: "bad-input", Message: err.Error(), Where: where}
	}
	s.log.Error("request failed", "path", r.URL.Path, "err", err)
	return APIError{Status: http.StatusInternalServerError, Code: "internal", Message: "internal error; the server log has the details"}
}

// errBadInput marks a handler's own validation errors.
var errBadInput = errors.New("bad input")

// badInput is a 400 naming what was wrong.
type inputError struct{ msg string }

func (e *inputError) Error() string { return e.msg }
func (e *inputError) Unwrap() error { return errBadInput }

func badInput(msg string) error { return &inputError{msg} }

func nonEmpty(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
