package x

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
)

func readAllYTD(in string) (name string, elems []string, seps []string, err error) {
	y := NewYTDReader(strings.NewReader(in))
	for {
		el, err := y.Next()
		if err == io.EOF {
			return y.Name, elems, seps, nil
		}
		if err != nil {
			return y.Name, elems, seps, err
		}
		elems = append(elems, string(el.JSON))
		seps = append(seps, string(el.Sep))
	}
}

func TestYTDReader(t *testing.T) {
	cases := []struct {
		name, in string
		want     []string
		wantName string
		err      string
	}{
		{"tweets", "window.YTD.tweets.part0 = [ {\"tweet\":{\"a\":1}},\n {\"tweet\":{}} ]", []string{`{"tweet":{"a":1}}`, `{"tweet":{}}`}, "YTD.tweets.part0", ""},
		{"bom and no spaces", "\ufeffwindow.YTD.tweet.part2=[{}]", []string{"{}"}, "YTD.tweet.part2", ""},
		{"empty", "window.YTD.tweets.part0 = [ ]", nil, "YTD.tweets.part0", ""},
		{"bare array", " [1, \"two\", [3], null ,true]", []string{"1", `"two"`, "[3]", "null", "true"}, "", ""},
		{"brackets in strings", `window.YTD.tweets.part0 = [{"t":"a ] } [ { \" \\"}, {"u":"\\\""}]`, []string{`{"t":"a ] } [ { \" \\"}`, `{"u":"\\\""}`}, "YTD.tweets.part0", ""},
		{"trailing semicolon", "window.YTD.tweets.part0 = [{}];\n", []string{"{}"}, "YTD.tweets.part0", ""},
		{"not an archive", "var x = 1", nil, "", "not an archive data file"},
		{"no array", "window.YTD.tweets.part0 = ", nil, "", "ends before the array"},
		{"truncated", "window.YTD.tweets.part0 = [{}, {\"a\":\n\"b\"", []string{"{}"}, "YTD.tweets.part0", "line 2: truncated: the file ends inside element 1"},
		{"unclosed", "window.YTD.tweets.part0 = [{}, {}", []string{"{}", "{}"}, "YTD.tweets.part0", "truncated"},
		{"missing comma", "window.YTD.tweets.part0 = [{} {}]", []string{"{}"}, "YTD.tweets.part0", "want ',' or ']'"},
		{"double comma", "window.YTD.tweets.part0 = [{},,{}]", []string{"{}"}, "YTD.tweets.part0", "want a value"},
		{"after the array", "window.YTD.tweets.part0 = [{}] x", []string{"{}"}, "YTD.tweets.part0", "after the array"},
	}
	for _, c := range cases {
		name, elems, _, err := readAllYTD(c.in)
		if c.err == "" && err != nil || c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)) {
			t.Errorf("%s: err %v, want %q", c.name, err, c.err)
		}
		if strings.Join(elems, "|") != strings.Join(c.want, "|") {
			t.Errorf("%s: elements %q, want %q", c.name, elems, c.want)
		}
		if c.err == "" && name != c.wantName {
			t.Errorf("%s: name %q", c.name, name)
		}
	}
}

// TestYTDReaderKeepsBytes: separators and elements put back together are
// the file between the brackets.
func TestYTDReaderKeepsBytes(t *testing.T) {
	in := readFixture(t, "archive", "data", "tweets.js")
	_, elems, seps, err := readAllYTD(string(in))
	if err != nil || len(elems) != 5 {
		t.Fatalf("%d elements, %v", len(elems), err)
	}
	var b strings.Builder
	for i := range elems {
		b.WriteString(seps[i])
		b.WriteString(elems[i])
	}
	open := bytes.IndexByte(in, '[')
	close := bytes.LastIndexByte(in, ']')
	if got := strings.TrimSpace(b.String()); got != strings.TrimSpace(string(in[open+1:close])) {
		t.Error("the elements and separators are not the file's bytes")
	}
}

// TestYTDReaderLargeFileSmallMemory reads a large synthetic tweets.js
// through a pipe: the reader holds one element, never the file.
func TestYTDReaderLargeFileSmallMemory(t *testing.T) {
	pr, pw := io.Pipe()
	go func() {
		_, err := WriteSyntheticTweetsJS(pw, 20_000, 7)
		pw.CloseWithError(err)
	}()
	y := NewYTDReader(pr)
	n, maxElem := 0, 0
	for {
		el, err := y.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if !json.Valid(el.JSON) {
			t.Fatalf("element %d is not JSON", el.Index)
		}
		n++
		maxElem = max(maxElem, cap(el.JSON))
	}
	if n != 20_000 || maxElem > 64<<10 {
		t.Errorf("%d elements, largest buffer %d bytes", n, maxElem)
	}
}

func FuzzYTDReader(f *testing.F) {
	f.Add([]byte("window.YTD.tweets.part0 = [ {\"tweet\":{\"id_str\":\"1\",\"full_text\":\"a\",\"created_at\":\"Wed Oct 10 20:19:24 +0000 2018\"}} ]"))
	f.Add([]byte(`[{"a":"]"},"x",1,[[]]]`))
	f.Add([]byte("window.YTD.tweet.part0 = [{\"id\":1, \"text\":\"\\\"\"}"))
	f.Add(readFixture(f, "archive-bad", "data", "tweets.js"))
	f.Fuzz(func(t *testing.T, in []byte) {
		y := NewYTDReader(bytes.NewReader(in))
		total := 0
		for i := 0; ; i++ {
			el, err := y.Next()
			if err != nil {
				var ye *YTDError
				if err != io.EOF && !errors.As(err, &ye) && !errors.Is(err, errYTDHeader) {
					t.Fatalf("unexpected error type %T: %v", err, err)
				}
				break
			}
			if el.Index != i || len(el.JSON) == 0 {
				t.Fatalf("element %d: index %d, %d bytes", i, el.Index, len(el.JSON))
			}
			total += len(el.JSON) + len(el.Sep)
			if total > len(in) {
				t.Fatal("read more bytes than the input has")
			}
			// Whatever the reader cuts, decoding it never panics.
			var ae archiveElem
			if json.Unmarshal(el.JSON, &ae) == nil {
				tw := &ae.ArchiveTweet
				if ae.Tweet != nil {
					tw = ae.Tweet
				}
				if f, err := fromArchive(tw, owner{}); err == nil {
					f.item("acct", true)
				}
			}
		}
	})
}

func FuzzParsePage(f *testing.F) {
	for _, name := range []string{"timeline-1.json", "timeline-2.json", "search-1.json", "recheck.json", "error-401.json", "timeline-2-truncated.json"} {
		f.Add(readFixture(f, "api", name))
	}
	f.Add([]byte(`{"data":{"id":"1","text":"x"}}`))
	f.Add([]byte(`{"id":"1","text":"x","author":{"id":"2","username":"u"}}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		p, err := ParsePage(in)
		if err != nil {
			return
		}
		for _, tw := range p.Tweets {
			if tw.ID == "" {
				t.Fatal("a tweet without an id")
			}
			if f, err := fromV2(tw, p); err == nil {
				f.item("acct", false)
				f.metricsJSON()
			}
		}
	})
}
