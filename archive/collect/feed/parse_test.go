package feed

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/osmarc/osmarc/archive/collect/internal/fixture"
)

func parseFixture(t *testing.T, name string) []Entry {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixture.Dir(t, "feed"), name))
	if err != nil {
		t.Fatal(err)
	}
	f, err := Parse(b)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	seen := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	return Entries(f, "acct", func(string) time.Time { return seen })
}

func TestParseDrift(t *testing.T) {
	for _, tc := range []struct {
		file   string
		n      int
		check  func(e []Entry) bool
		window bool
	}{
		{"rss.xml", 4, func(e []Entry) bool {
			it := e[0].Item
			return it.ID == "https://news.example.gov/?p=101" && strings.HasPrefix(it.Text, "Road closures this weekend – what’s changing\n\nMain St & 5th Ave close") &&
				it.Author.Name == "Communications Office" && strings.Join(it.Hashtags, ",") == "transport,roadworks" && len(it.Media) == 1 && it.Media[0].Alt == "Detour routes" &&
				e[1].Item.Media[0].Type == "audio" && e[3].Item.CreatedAt == "2025-12-01T19:00:00Z" && it.Lang == "en-ca" && e[0].Path == "/rss/channel/item[1]"
		}, true},
		{"atom-youtube.xml", 1, func(e []Entry) bool {
			it := e[0].Item
			return it.ID == "yt:video:AbCdEfGhIjK" && it.EditedAt == "2026-02-12T08:30:00Z" && it.URL == "https://www.youtube.com/watch?v=AbCdEfGhIjK" &&
				strings.Contains(it.Text, "Full recording of the February council meeting.") && len(it.Media) == 1 && it.Author.Name == "City of Example"
		}, true},
		{"feed.json", 2, func(e []Entry) bool {
			it := e[0].Item
			return it.ID == "notice-2026-007" && it.Text == "Avis public : budget 2026\n\nLe budget 2026 a été adopté le 5\u00a0novembre.\n\nDocument" && it.Lang == "fr-ca" &&
				it.CreatedAt == "2025-11-05T19:00:00Z" && it.EditedAt == "2025-11-06T14:00:00Z" && it.Media[0].Type == "file" && e[1].Item.Text == "Fermeture de la rue Principale samedi." && e[0].Path == "/items/0"
		}, true},
		{"feed-1.0.json", 2, func(e []Entry) bool {
			return e[0].Item.ID == "17" && e[0].Item.Author.Name == "Parks & Recreation" && !e[1].Dated && e[1].Item.CreatedAt == "2026-03-01T00:00:00Z"
		}, false},
		{"rss-0.91.xml", 2, func(e []Entry) bool {
			return e[0].Item.ID == "http://township.example.gov/bulletin/leaf-pickup.html" && !e[0].Dated && e[1].Item.Text == "Dog licences due\n\nRenew by March 1 & avoid the late fee."
		}, false},
		{"rss-windows-1252.xml", 1, func(e []Entry) bool {
			return e[0].Item.Text == "Réouverture du café « Le Central »\n\nLe café rouvre – enfin !"
		}, true},
		{"rss-misencoded.xml", 2, func(e []Entry) bool {
			return e[0].Item.Text == "Café “Le Central” reopens\n\nCrème brûlée – €3" && e[1].Item.Text == "Double-encoded: Café « Le Central »\n\nIt’s back — finally."
		}, true},
	} {
		t.Run(tc.file, func(t *testing.T) {
			e := parseFixture(t, tc.file)
			if len(e) != tc.n {
				t.Fatalf("%d entries", len(e))
			}
			if !tc.check(e) {
				for _, x := range e {
					t.Logf("%+v", x.Item)
				}
				t.Error("entries differ from what the feed says")
			}
			if _, ok := Window(e); ok != tc.window {
				t.Errorf("window %v", ok)
			}
		})
	}
}

func TestTruncatedFeed(t *testing.T) {
	b, _ := os.ReadFile(filepath.Join(fixture.Dir(t, "feed"), "rss-truncated.xml"))
	if _, err := Parse(b); err == nil {
		t.Error("a cut feed parsed")
	}
	if _, err := Parse([]byte(`{"version":"https://jsonfeed.org/version/1.1","items":[{"id":"1",`)); err == nil {
		t.Error("a cut JSON feed parsed")
	}
}
