package main

import (
	"github.com/osmarc/osmarc/archive/collect"
	"github.com/osmarc/osmarc/archive/collect/bluesky"
	"github.com/osmarc/osmarc/archive/collect/facebook"
	"github.com/osmarc/osmarc/archive/collect/feed"
	"github.com/osmarc/osmarc/archive/collect/instagram"
	"github.com/osmarc/osmarc/archive/collect/mastodon"
	"github.com/osmarc/osmarc/archive/collect/wordpress"
	"github.com/osmarc/osmarc/archive/collect/x"
	"github.com/osmarc/osmarc/archive/collect/youtube"
)

// defaultRegistry is the list of collectors and importers osmarc offers,
// written out here rather than registered from init functions.
func defaultRegistry() *collect.Registry {
	return &collect.Registry{
		Collectors: []collect.Collector{
			feed.New(),
			mastodon.New(),
			bluesky.New(),
			wordpress.New(),
			facebook.New(),
			instagram.New(),
			x.New(),
			youtube.New(),
		},
		Importers: []collect.Importer{
			x.NewArchiveImporter(),
			facebook.NewDYIImporter(),
			instagram.NewExportImporter(),
			mastodon.NewOutboxImporter(),
			feed.NewImporter(),
			mastodon.NewAPIImporter(),
			bluesky.NewAPIImporter(),
			facebook.NewGraphImporter(),
			instagram.NewGraphImporter(),
			youtube.NewAPIImporter(),
			wordpress.NewAPIImporter(),
			x.NewAPIImporter(),
		},
	}
}
