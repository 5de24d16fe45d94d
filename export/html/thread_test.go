package html

import (
	"bytes"
	"html/template"
	"math/rand/v2"
	"os"
	"sort"
	"strings"
	"testing"
)

// oraclePage renders p with its threads with testdata/thread.html.tmpl,
// an html/template page of what AppendPageHead, AppendThread and PageEnd
// write directly.
func oraclePage(t *testing.T, p Page, threads []Thread) []byte {
	t.Helper()
	src, err := os.ReadFile("testdata/thread.html.tmpl")
	if err != nil {
		t.Fatal(err)
	}
	fm := template.FuncMap{"threadID": ThreadID, "threadHref": func(k string) string { return "#" + ThreadID(k) }}
	for k, f := range funcs {
		fm[k] = f
	}
	page := template.Must(template.New("thread").Funcs(fm).Parse(string(src)))
	type section struct {
		Thread
		Roots []*node
	}
	var sections []section
	for _, th := range threads {
		items := append([]Item(nil), th.Items...)
		sort.SliceStable(items, func(i, j int) bool {
			if items[i].Created != items[j].Created {
				return items[i].Created < items[j].Created
			}
			return items[i].Key < items[j].Key
		})
		for i := range items {
			ms := make([]Media, len(items[i].Media))
			for j, m := range items[i].Media {
				if m.Path != "" {
					m.Path = p.Base + m.Path
				}
				ms[j] = m
			}
			items[i].Media = ms
		}
		th.Items = items
		nodes := map[string]*node{}
		for i := range items {
			nodes[items[i].Key] = &node{Item: items[i]}
		}
		var roots []*node
		for i := range items {
			n := nodes[items[i].Key]
			if p, ok := nodes[n.Parent]; ok && n.Parent != n.Key {
				p.Replies = append(p.Replies, n)
				continue
			}
			n.Orphan = n.Parent != ""
			roots = append(roots, n)
		}
		sections = append(sections, section{th, roots})
	}
	var b bytes.Buffer
	if err := page.Execute(&b, struct {
		Page
		Threads []section
	}{p, sections}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// Nasty strings: every character html/template escapes in text,
// attributes and URLs, schemes it filters, escapes it keeps or encodes,
// and invalid UTF-8.
var nasty = []string{"", "plain", `<script>alert("x")</script>`, "a&b", "it's", "1+1", "nul\x00byte", "défilé 🎖", "\xff\xfe invalid",
	"javascript:alert(1)", "JavaScript:x", "data:text/html,<b>", "https://example.gov/p?a=1&b=2#c", "mailto:x@example.gov",
	"../../media/ab/abc.png", "a b/(c)'d\"e", "%41%zz%", "50%", "x%4", "path/with:colon", "/abs:path", "\t\n\r", "](){}|\\^`"}

func pick(r *rand.Rand) string {
	if r.IntN(3) == 0 {
		return nasty[r.IntN(len(nasty))] + nasty[r.IntN(len(nasty))]
	}
	return nasty[r.IntN(len(nasty))]
}

// A thread page written directly is exactly what the html/template page
// writes, for every shape of thread (replies, orphans, versions, media,
// badges), one thread or several on a page, and every string the
// escaping treats specially.
func TestThreadPageIsTheTemplatePage(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for n := 0; n < 400; n++ {
		p := Page{Heading: pick(r), Title: pick(r), Base: strings.Repeat("../", r.IntN(4))}
		if r.IntN(4) == 0 {
			p.Base = pick(r)
		}
		threads := make([]Thread, 1+r.IntN(3))
		for ti := range threads {
			threads[ti] = randomThread(r)
			p.Threads = append(p.Threads, Contents{Key: threads[ti].Key, Items: len(threads[ti].Items)})
		}
		want := oraclePage(t, p, threads)
		got := AppendPageHead(nil, p)
		for _, th := range threads {
			got = AppendThread(got, p.Base, th)
		}
		got = append(got, PageEnd...)
		if !bytes.Equal(got, want) {
			i := 0
			for i < len(got) && i < len(want) && got[i] == want[i] {
				i++
			}
			lo := max(0, i-80)
			t.Fatalf("page %d differs at byte %d:\n got …%q\nwant …%q", n, i, got[lo:min(len(got), i+80)], want[lo:min(len(want), i+80)])
		}
	}
}

func randomThread(r *rand.Rand) Thread {
	{
		th := Thread{Key: pick(r)}
		count := 1 + r.IntN(6)
		used := map[string]bool{} // an item's key is unique
		for i := 0; i < count; i++ {
			it := Item{Key: "k" + string(rune('a'+i)), Kind: pick(r), Author: pick(r), Handle: pick(r), Lang: pick(r), URL: pick(r),
				Created: []string{"2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z", pick(r)}[r.IntN(3)], Edited: pick(r), IsEdited: r.IntN(2) == 0,
				Removed: pick(r), VersionCount: r.IntN(5), Class: pick(r), Schedule: pick(r), Role: []string{"selected", "thread"}[r.IntN(2)]}
			if k := pick(r); r.IntN(4) == 0 && !used[k] {
				it.Key = k
			}
			used[it.Key] = true
			switch r.IntN(3) {
			case 0:
				it.Parent = "ka"
			case 1:
				it.Parent = "k" + string(rune('a'+r.IntN(count+2)))
			}
			for range r.IntN(3) {
				it.Holds = append(it.Holds, pick(r))
			}
			for range r.IntN(2) {
				it.Redactions = append(it.Redactions, pick(r))
			}
			for range 1 + r.IntN(3) {
				it.Versions = append(it.Versions, Version{Digest: pick(r), Captured: pick(r), Text: pick(r), Redacted: r.IntN(3) == 0})
			}
			for range r.IntN(3) {
				m := Media{Path: pick(r), Digest: pick(r), Type: pick(r), Alt: pick(r), URL: pick(r), Image: r.IntN(2) == 0}
				if r.IntN(3) == 0 {
					m.Path = ""
				}
				it.Media = append(it.Media, m)
			}
			th.Items = append(th.Items, it)
		}
		return th
	}
}
