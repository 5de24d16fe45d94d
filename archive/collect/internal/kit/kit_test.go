package kit

import (
	"strings"
	"testing"
)

func TestParseHTML(t *testing.T) {
	for _, tc := range []struct {
		name, in, text string
		links          []string
	}{
		{"plain", "  just   text\n here ", "just text here", nil},
		{"paragraphs and breaks", "<p>one<br>two<br/>three</p><p>four</p>", "one\ntwo\nthree\n\nfour", nil},
		{"entities", "<p>AT&amp;T &lt;3 &#8217;quoted&#8217; &eacute;t&eacute;&nbsp;!</p>", "AT&T <3 ’quoted’ été\u00a0!", nil},
		{"mastodon link spans", `<p>See <a href="https://example.gov/x/long"><span class="invisible">https://</span><span class="ellipsis">example.gov/x/</span><span class="invisible">long</span></a></p>`, "See https://example.gov/x/long", []string{"https://example.gov/x/long"}},
		{"mention and hashtag are not links", `<p><a href="https://m/@a" class="u-url mention">@<span>a</span></a> hi <a href="https://m/tags/x" class="mention hashtag" rel="tag">#<span>x</span></a> <a href="https://b.example">b</a></p>`, "@a hi #x b", []string{"https://b.example"}},
		{"lists", "<ul><li>a</li><li>b</li></ul><p>after</p>", "- a\n- b\n\nafter", nil},
		{"script dropped", "<p>x</p><script>alert(1)</script><style>p{}</style><p>y</p>", "x\n\ny", nil},
		{"preformatted", "<pre>a\n  b</pre>", "a\n  b", nil},
		{"unclosed", "<p>open <b>bold", "open bold", nil},
		{"mojibake", "<p>CafÃ© â€œcrÃ¨meâ€\u009d</p>", "Café “crème”", nil},
		{"genuine accents kept", "<p>«CAFÉ» à l’été</p>", "«CAFÉ» à l’été", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := ParseHTML(tc.in)
			if d.Text != tc.text {
				t.Errorf("text %q, want %q", d.Text, tc.text)
			}
			if strings.Join(d.Links(), " ") != strings.Join(tc.links, " ") {
				t.Errorf("links %q, want %q", d.Links(), tc.links)
			}
		})
	}
}

func TestFixText(t *testing.T) {
	for in, want := range map[string]string{
		"caf\xe9 \x93quoted\x94": "café “quoted”", // Windows-1252 bytes
		"plain":                  "plain",
		"Ã©tÃ©":                  "été",
		"line\r\nend\r":          "line\nend",
		"Â£5":                    "£5",
		"SÃO PAULO":              "SÃO PAULO",
		"naïve Ã© mixed with ü":  "naïve é mixed with ü",
	} {
		if got := FixText(in); got != want {
			t.Errorf("FixText(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestLang(t *testing.T) {
	for in, want := range map[string]string{"en": "en", "en_GB": "en-gb", "und": "und", "": "", "en@x": "", "english-language-tag-way-too-long": ""} {
		if got := Lang(in); got != want {
			t.Errorf("Lang(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCompareIDs(t *testing.T) {
	if CompareIDs("99", "100") >= 0 || CompareIDs("110000000000000005", "110000000000000004") <= 0 || CompareIDs("b", "a") <= 0 || CompareIDs("5", "") <= 0 {
		t.Error("order")
	}
}

func TestPointer(t *testing.T) {
	if got := Pointer("feed", 3, "a/b~c"); got != "/feed/3/a~1b~0c" {
		t.Error(got)
	}
}
