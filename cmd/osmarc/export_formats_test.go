package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
	lpdf "github.com/ledongthuc/pdf"
)

// gunzipAll decompresses every gzip member of a .warc.gz.
func gunzipAll(t *testing.T, file string) []byte {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// pdfText is the text of every page of a PDF, as an independent reader
// extracts it.
func pdfText(t *testing.T, file string) string {
	t.Helper()
	fh, r, err := lpdf.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	var b strings.Builder
	for i := 1; i <= r.NumPage(); i++ {
		s, err := r.Page(i).GetPlainText(nil)
		if err != nil {
			t.Fatal(err)
		}
		b.WriteString(s)
	}
	return b.String()
}

// osmarc export --format warc|loadfile|pdf: each writes what it says,
// records a journal event with the digest it printed, and a redacted
// request's production in each holds no trace of the redacted or
// withheld text.
func TestExportWARCLoadfilePDFCommands(t *testing.T) {
	dir := exportArchive(t)
	tmp := t.TempDir()

	warcOut := filepath.Join(tmp, "parade.warc.gz")
	out := must(t, "export", "--data", dir, "--format", "warc", "--out", warcOut, "--query", "parade", "--media", "--versions", "all")
	if !strings.Contains(out, "as warc to "+warcOut) {
		t.Fatalf("export warc: %s", out)
	}
	b, _ := os.ReadFile(warcOut)
	sum := sha256.Sum256(b)
	evs := journalEvents(t, dir, EventExportCreated)
	if len(evs) != 1 || evs[0]["sha256"] != hex.EncodeToString(sum[:]) || evs[0]["format"] != "warc" {
		t.Errorf("journal event of the WARC export: %v", evs)
	}
	all := gunzipAll(t, warcOut)
	for _, want := range []string{"WARC/1.1\r\nWARC-Type: warcinfo", "WARC-Type: resource", "WARC-Type: metadata", "Content-Type: image/png",
		"WARC-Target-URI: https://cdn.facebook.example/p1/route.png", "urn:osmarc:source:capture-1.jsonl#line="} {
		if !bytes.Contains(all, []byte(want)) {
			t.Errorf("WARC lacks %q", want)
		}
	}
	if bytes.Contains(all, []byte("recruiting line")) {
		t.Error("WARC holds an item the query did not select")
	}

	lf := filepath.Join(tmp, "loadfile")
	must(t, "export", "--data", dir, "--format", "loadfile", "--out", lf, "--account", "3rd-brigade", "--media")
	for _, name := range []string{"loadfile.dat", "loadfile.opt", "manifest-sha256.txt"} {
		if _, err := os.Stat(filepath.Join(lf, name)); err != nil {
			t.Errorf("load file set: %v", err)
		}
	}
	pdfs := filepath.Join(tmp, "pdfs")
	must(t, "export", "--data", dir, "--format", "pdf", "--out", pdfs, "--account", "3rd-brigade")
	one := filepath.Join(tmp, "all.pdf")
	must(t, "export", "--data", dir, "--format", "pdf", "--out", one)
	text := pdfText(t, one)
	for _, want := range []string{"facebook/3rd-brigade/p1", "mastodon/brigade@social.example/m1", "Oui, le défilé passe devant le manège militaire"} {
		if !strings.Contains(text, want) {
			t.Errorf("PDF lacks %q", want)
		}
	}
	if got := len(journalEvents(t, dir, EventExportCreated)); got != 4 {
		t.Errorf("%d export events, want 4", got)
	}

	// A redacted production of a request, in each format.
	must(t, "request", "open", "--data", dir, "--requester", "Pat Reporter", "--received", "2024-06-03", "--law", "us-foia", "--description", "Comments on the parade")
	const req = "REQ-2024-0001"
	must(t, "request", "add", "--data", dir, req, "facebook/3rd-brigade/c1", "facebook/3rd-brigade/c4")
	must(t, "request", "withhold", "--data", dir, req, "facebook/3rd-brigade/c4", "--exemption", "(b)(5)", "--reason", "deliberative")
	must(t, "request", "redact", "--data", dir, req, "facebook/3rd-brigade/c1", "--text", "Jane Public", "--exemption", "b6", "--reason", "private commenter")
	secrets := []string{"Jane Public", "-5 degrees"}
	rw := filepath.Join(tmp, "prod.warc.gz")
	must(t, "export", "--data", dir, "--format", "warc", "--out", rw, "--request", req, "--redact", "--threads")
	for _, s := range secrets {
		if bytes.Contains(gunzipAll(t, rw), []byte(s)) {
			t.Errorf("redacted WARC holds %q", s)
		}
	}
	if !bytes.Contains(gunzipAll(t, rw), []byte(`"redactions":[`)) {
		t.Error("redacted WARC does not say where redactions were made")
	}
	rl := filepath.Join(tmp, "prod-loadfile")
	must(t, "export", "--data", dir, "--format", "loadfile", "--out", rl, "--request", req, "--redact", "--threads")
	if leaks := grepTree(t, rl, secrets...); len(leaks) > 0 {
		t.Errorf("redacted load file set:\n%s", strings.Join(leaks, "\n"))
	}
	rp := filepath.Join(tmp, "prod.pdf")
	must(t, "export", "--data", dir, "--format", "pdf", "--out", rp, "--request", req, "--redact", "--threads")
	ptext := pdfText(t, rp)
	for _, s := range secrets {
		if strings.Contains(ptext, s) {
			t.Errorf("redacted PDF holds %q", s)
		}
	}
	if !strings.Contains(ptext, "facebook/3rd-brigade/c1") || !strings.Contains(ptext, "REDACTED") {
		t.Errorf("redacted PDF lacks c1 or its redaction note")
	}
}
