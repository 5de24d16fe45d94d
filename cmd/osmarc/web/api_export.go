package web

import (
	"archive/zip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"

	"github.com/osmarc/osmarc/export"
	"github.com/osmarc/osmarc/index"
)

// ExportParams is an export asked for through the API: the format and
// the selection, as `osmarc export` takes them.
type ExportParams struct {
	Format string
	// Search selects the items (its Query and filters), unless Request
	// names an open-records request whose items are exported.
	Search index.Request
	// Filters are the selection parameters as given, for the record.
	Filters  map[string]string
	Request  string
	Threads  bool
	Versions string
	Media    bool
	Redact   bool
	Excel    bool
}

// ExportFunc writes an export to out (which must not exist), records it in
// the journal (export.created, or export.failed) with the acting user
// (archive.ActorFrom(ctx)), and returns its manifest.
type ExportFunc func(ctx context.Context, p ExportParams, out string) (export.Manifest, error)

// ExportsDir is where exports made through the API are written, inside the
// data directory: exports/<id>.
const ExportsDir = "exports"

var exportIDRE = regexp.MustCompile(`^[0-9]{8}T[0-9]{6}\.[0-9]{3}Z-[a-z0-9.@_-]+-[a-z0-9]+$`)

// apiExport exports the items a search selects (the parameters of GET
// /api/v1/search in the URL) or a request's items, in a format.
func (s *Server) apiExport(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Export == nil {
		s.fail(w, r, http.StatusNotImplemented, "no-export", "this server offers no export", "")
		return
	}
	var in struct {
		Format   string `json:"format"`
		Request  string `json:"request"`
		Threads  bool   `json:"threads"`
		Versions string `json:"versions"`
		Media    bool   `json:"media"`
		Redact   bool   `json:"redact"`
		Excel    bool   `json:"excel"`
	}
	if err := decodeJSON(r, &in); err != nil {
		s.Fail(w, r, err, "body")
		return
	}
	q := r.URL.Query()
	sel, err := ParseSearch(q)
	if err != nil {
		s.Fail(w, r, err, searchParamOf(err))
		return
	}
	if in.Versions == "" {
		in.Versions = export.VersionsLatest
	}
	switch {
	case !regexp.MustCompile(`^[a-z0-9]+$`).MatchString(in.Format):
		s.Fail(w, r, badInput("format is required: bagit, csv, jsonl, warc, loadfile or pdf"), "format")
		return
	case in.Versions != export.VersionsLatest && in.Versions != export.VersionsAll:
		s.Fail(w, r, badInput(fmt.Sprintf("versions %q: want latest or all", in.Versions)), "versions")
		return
	case in.Redact && in.Request == "":
		s.Fail(w, r, badInput("redact applies a request's redactions: give request"), "redact")
		return
	case in.Request != "" && len(searchFilters(q)) > 0 || in.Request != "" && q.Get("q") != "":
		s.Fail(w, r, badInput("request selects the request's items: give no search parameters with it"), "request")
		return
	}
	id := fmt.Sprintf("%s-%s-%s", s.now().UTC().Format("20060102T150405.000Z"), UserFrom(r.Context()).Name, in.Format)
	dir := filepath.Join(s.a.Dir(), ExportsDir)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		s.Fail(w, r, err, "")
		return
	}
	p := ExportParams{Format: in.Format, Search: sel, Filters: searchFilters(q), Request: in.Request, Threads: in.Threads,
		Versions: in.Versions, Media: in.Media, Redact: in.Redact, Excel: in.Excel}
	var man export.Manifest
	err = s.Write(r.Context(), func(ctx context.Context) error {
		var err error
		man, err = s.cfg.Export(ctx, p, filepath.Join(dir, id))
		return err
	})
	if err != nil {
		s.Fail(w, r, asBadInput(err), "body")
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"id": id, "manifest": man, "download": "/api/v1/exports/" + id})
}

// apiExports lists the exports made through the API.
func (s *Server) apiExports(w http.ResponseWriter, r *http.Request) {
	type entry struct {
		ID    string `json:"id"`
		Dir   bool   `json:"dir"`
		Bytes int64  `json:"bytes"`
	}
	out := []entry{}
	des, err := os.ReadDir(filepath.Join(s.a.Dir(), ExportsDir))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		s.Fail(w, r, err, "")
		return
	}
	for _, de := range des {
		if !exportIDRE.MatchString(de.Name()) {
			continue
		}
		e := entry{ID: de.Name(), Dir: de.IsDir()}
		filepath.WalkDir(filepath.Join(s.a.Dir(), ExportsDir, de.Name()), func(_ string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				if fi, err := d.Info(); err == nil {
					e.Bytes += fi.Size()
				}
			}
			return nil
		})
		out = append(out, e)
	}
	slices.Reverse(out)
	writeJSON(w, http.StatusOK, map[string]any{"exports": out})
}

// apiExportDownload sends an export: a file as it is, a directory (a bag)
// as a zip, always as an attachment. Each download is a journal event.
func (s *Server) apiExportDownload(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if !exportIDRE.MatchString(id) {
		s.fail(w, r, http.StatusNotFound, "not-found", fmt.Sprintf("no export %q", id), "id")
		return
	}
	path := filepath.Join(s.a.Dir(), ExportsDir, id)
	fi, err := os.Stat(path)
	if err != nil {
		s.fail(w, r, http.StatusNotFound, "not-found", fmt.Sprintf("no export %q", id), "id")
		return
	}
	if err := s.Audit(r, "export.downloaded", map[string]any{"export": id}); err != nil {
		s.Fail(w, r, err, "")
		return
	}
	h := w.Header()
	if !fi.IsDir() {
		f, err := os.Open(path)
		if err != nil {
			s.Fail(w, r, err, "")
			return
		}
		defer f.Close()
		h.Set("Content-Type", "application/octet-stream")
		h.Set("Content-Disposition", `attachment; filename="`+id+`"`)
		io.Copy(w, f)
		return
	}
	h.Set("Content-Type", "application/zip")
	h.Set("Content-Disposition", `attachment; filename="`+id+`.zip"`)
	zw := zip.NewWriter(w)
	err = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(path, p)
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		zf, err := zw.Create(id + "/" + filepath.ToSlash(rel))
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
		s.log.Error("export download cut short", "export", id, "err", err)
	}
}
