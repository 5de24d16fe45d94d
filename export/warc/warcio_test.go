package warc

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// warcioRecord is one record as warcio (webrecorder's WARC reader, run
// under node) read it.
type warcioRecord struct {
	Offset   int64       `json:"offset"`
	Protocol string      `json:"protocol"`
	Type     string      `json:"type"`
	Headers  [][2]string `json:"headers"`
	Length   int64       `json:"length"`
	SHA256   string      `json:"sha256"`
	Block    []byte      `json:"block"`
}

// Header returns the values of a header field, in order.
func (r *warcioRecord) Header(name string) []string {
	var vs []string
	for _, h := range r.Headers {
		if h[0] == name {
			vs = append(vs, h[1])
		}
	}
	return vs
}

func (r *warcioRecord) Get(name string) string {
	if vs := r.Header(name); len(vs) > 0 {
		return vs[0]
	}
	return ""
}

// readWithWarcio reads a WARC file with warcio from the project's .bin
// (make tools installs it). Without it the test fails under CI=true and
// skips, saying so, elsewhere.
func readWithWarcio(t testing.TB, file string) []warcioRecord {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	modules := filepath.Join(root, ".bin", "node_modules")
	if dir := os.Getenv("OSMARC_WARCIO_MODULES"); dir != "" {
		modules = dir
	}
	node, err := exec.LookPath("node")
	if err == nil {
		_, err = os.Stat(filepath.Join(modules, "warcio", "package.json"))
	}
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("warcio is needed to read WARC files back (run make tools): %v", err)
		}
		t.Skipf("warcio not installed (run make tools): %v", err)
	}
	cmd := exec.Command(node, "testdata/warcread.mjs", file)
	cmd.Env = append(os.Environ(), "WARCIO_MODULES="+modules)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("warcio could not read %s: %v\n%s", file, err, stderr.String())
	}
	var recs []warcioRecord
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<30)
	for sc.Scan() {
		var r warcioRecord
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("warcio output: %v", err)
		}
		recs = append(recs, r)
	}
	return recs
}
