package archivetest

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"time"
)

var words = strings.Fields(`parade brigade road closure range training exercise
armoury open house families welcome defence national reserve recruit medal
ceremony veterans remembrance honour duty service community volunteers flood
relief deployment return home band concert public notice noise schedule
weather delay cancelled update photos video question answer thank you great
proud support soldiers sailors aviators base gate traffic parking detour
river bridge school visit museum history anniversary march route safety
défense défilé cérémonie anciens combattants merci famille bienvenue`)

var accounts = []struct{ platform, account string }{
	{"facebook", "3rd-brigade"}, {"x", "Brigade3"}, {"mastodon", "brigade@social.example.gov"},
	{"bluesky", "brigade.example.gov"}, {"youtube", "UC3rdBrigade"}, {"instagram", "brigade3"},
}

// CorpusItem is one generated item in the item format.
type CorpusItem struct {
	Platform  string         `json:"platform"`
	Account   string         `json:"account"`
	ID        string         `json:"id"`
	Kind      string         `json:"kind"`
	CreatedAt string         `json:"created_at"`
	Text      string         `json:"text"`
	Author    map[string]any `json:"author"`
	Parent    string         `json:"parent,omitempty"`
	Thread    string         `json:"thread,omitempty"`
	Lang      string         `json:"lang"`
	Metrics   map[string]int `json:"metrics"`
}

// WriteCorpus writes n items in osmarc's item format, the same for the
// same seed: posts and the comments on them (one post in five, the rest
// comments), 5–60 words each, over six accounts and the years 2019–2026.
// It returns the bytes written.
func WriteCorpus(w io.Writer, n int, seed uint64) (int64, error) {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	bw := bufio.NewWriterSize(w, 1<<20)
	cw := &countWriter{w: bw}
	enc := json.NewEncoder(cw)
	enc.SetEscapeHTML(false)
	base := time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC)
	span := int64(8 * 365 * 24 * time.Hour / time.Second)
	lastPost := map[int]string{}
	var sb strings.Builder
	for i := range n {
		ai := r.IntN(len(accounts))
		acct := accounts[ai]
		sb.Reset()
		nw := 5 + r.IntN(56)
		for j := range nw {
			if j > 0 {
				sb.WriteByte(' ')
			}
			sb.WriteString(words[r.IntN(len(words))])
		}
		it := CorpusItem{
			Platform: acct.platform, Account: acct.account, ID: fmt.Sprintf("%d%06d", ai+1, i),
			CreatedAt: base.Add(time.Duration(r.Int64N(span)) * time.Second).Format(time.RFC3339),
			Text:      sb.String(), Lang: "en",
			Metrics: map[string]int{"likes": r.IntN(500), "shares": r.IntN(50)},
		}
		if parent, ok := lastPost[ai]; ok && r.IntN(5) != 0 {
			it.Kind, it.Parent, it.Thread = "comment", parent, parent
			it.Author = map[string]any{"id": fmt.Sprintf("u%d", r.IntN(100000)), "name": "Member of the public"}
		} else {
			it.Kind = "post"
			it.Author = map[string]any{"id": acct.account, "handle": acct.account}
			lastPost[ai] = it.ID
		}
		if r.IntN(10) == 0 {
			it.Lang = "fr"
		}
		if err := enc.Encode(it); err != nil {
			return cw.n, err
		}
	}
	if err := bw.Flush(); err != nil {
		return cw.n, err
	}
	return cw.n, nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
