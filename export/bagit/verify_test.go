package bagit

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// IndependentValidator runs testdata/validate_bag.py, an RFC 8493
// validator written in Python from the RFC alone, on a bag. It returns
// its output and whether it found the bag valid. Python 3 is on every
// machine the tests run on; its absence fails the test, never skips it.
func IndependentValidator(t testing.TB, script, bag string) (string, bool) {
	t.Helper()
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Fatalf("python3, needed for the independent BagIt validator, is not installed: %v", err)
	}
	out, err := exec.Command(py, script, bag).CombinedOutput()
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		t.Fatal(err)
	}
	return string(out), err == nil
}

func goodBag(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "bag")
	w, err := Create(dir)
	if err != nil {
		t.Fatal(err)
	}
	w.AddInfo("Source-Organization", "3rd Brigade")
	writeFile(t, w, "a.txt", "alpha\n")
	writeFile(t, w, "sub/b.json", "{\"b\":2}\n")
	writeFile(t, w, "odd 100%.txt", "x")
	if _, err := w.Finish(); err != nil {
		t.Fatal(err)
	}
	return dir
}

func problems(t *testing.T, dir string) []string {
	t.Helper()
	r, err := Verify(context.Background(), dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, p := range r.Problems {
		out = append(out, p.String())
	}
	return out
}

// A bag osmarc writes is valid to its own verifier and to an independent
// one; each kind of damage is found by both, and osmarc's names the file
// and the fault.
func TestVerify(t *testing.T) {
	script, _ := filepath.Abs("testdata/validate_bag.py")
	dir := goodBag(t)
	if p := problems(t, dir); len(p) != 0 {
		t.Fatalf("good bag: %v", p)
	}
	if out, ok := IndependentValidator(t, script, dir); !ok {
		t.Fatalf("independent validator refuses osmarc's bag:\n%s", out)
	}
	for _, tc := range []struct {
		name   string
		damage func(dir string)
		want   string
	}{
		{"flipped byte", func(d string) { os.WriteFile(filepath.Join(d, "data/a.txt"), []byte("alphA\n"), 0o640) }, "data/a.txt: sha256 is"},
		{"missing file", func(d string) { os.Remove(filepath.Join(d, "data/sub/b.json")) }, "data/sub/b.json: is listed in the manifest but missing"},
		{"extra file", func(d string) { os.WriteFile(filepath.Join(d, "data/extra.txt"), []byte("x"), 0o640) }, "data/extra.txt: is not listed in manifest-sha256.txt"},
		{"bad declaration", func(d string) { os.WriteFile(filepath.Join(d, "bagit.txt"), []byte("BagIt-Version: one\n"), 0o640) }, "bagit.txt: "},
		{"no declaration", func(d string) { os.Remove(filepath.Join(d, "bagit.txt")) }, "bagit.txt: the bag declaration is missing"},
		{"changed bag-info", func(d string) {
			b, _ := os.ReadFile(filepath.Join(d, "bag-info.txt"))
			os.WriteFile(filepath.Join(d, "bag-info.txt"), []byte(strings.Replace(string(b), "3rd", "4th", 1)), 0o640)
		}, "bag-info.txt: sha256 is"},
		{"malformed manifest", func(d string) {
			f, _ := os.OpenFile(filepath.Join(d, "manifest-sha512.txt"), os.O_APPEND|os.O_WRONLY, 0)
			f.WriteString("nothex data/a.txt\n")
			f.Close()
		}, "manifest-sha512.txt: line 4: \"nothex\" is not a sha512 digest"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := goodBag(t)
			tc.damage(d)
			p := problems(t, d)
			if !strings.Contains(strings.Join(p, "\n"), tc.want) {
				t.Errorf("problems %q lack %q", p, tc.want)
			}
			if out, ok := IndependentValidator(t, script, d); ok {
				t.Errorf("independent validator accepts the damaged bag: %s", out)
			}
		})
	}
	// Payload-Oxum that does not add up (with a tag manifest made to
	// match, so only the oxum is wrong).
	d := goodBag(t)
	b, _ := os.ReadFile(filepath.Join(d, "bag-info.txt"))
	os.WriteFile(filepath.Join(d, "bag-info.txt"), []byte(strings.Replace(string(b), "Payload-Oxum: ", "Payload-Oxum: 9", 1)), 0o640)
	os.Remove(filepath.Join(d, "tagmanifest-sha256.txt"))
	os.Remove(filepath.Join(d, "tagmanifest-sha512.txt"))
	if p := strings.Join(problems(t, d), "\n"); !strings.Contains(p, "Payload-Oxum says") {
		t.Errorf("oxum: %s", p)
	}
	if _, err := Verify(context.Background(), filepath.Join(t.TempDir(), "none"), nil); err == nil {
		t.Error("a missing bag verified")
	}
}

// A bag written by another tool's conventions (tab separator, md5 only,
// CRLF tag files, a continuation line in bag-info) verifies.
func TestVerifyOtherToolsBag(t *testing.T) {
	d := t.TempDir()
	os.MkdirAll(filepath.Join(d, "data"), 0o750)
	os.WriteFile(filepath.Join(d, "data", "f.txt"), []byte("hello"), 0o640)
	os.WriteFile(filepath.Join(d, "bagit.txt"), []byte("BagIt-Version: 0.97\r\nTag-File-Character-Encoding: UTF-8\r\n"), 0o640)
	os.WriteFile(filepath.Join(d, "manifest-md5.txt"), []byte("5d41402abc4b2a76b9719d911017c592\tdata/f.txt\r\n"), 0o640)
	os.WriteFile(filepath.Join(d, "bag-info.txt"), []byte("Payload-Oxum: 5.1\r\nExternal-Description: one\r\n  two\r\n"), 0o640)
	r, err := Verify(context.Background(), d, nil)
	if err != nil || !r.Valid() || r.Version != "0.97" || r.Info[1].Value != "one two" {
		t.Fatalf("%+v %v", r, err)
	}
}
