package archive

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"sort"
	"strings"
	"time"

	"github.com/osmarc/osmarc/archive/catalog"
)

// ListFilter narrows List.
type ListFilter struct {
	Platform string
	Account  string
}

// List yields the catalog's items in key order.
func (a *Archive) List(f ListFilter) iter.Seq2[catalog.Item, error] {
	cf := catalog.Filter{Platform: strings.ToLower(strings.TrimSpace(f.Platform)), Account: strings.TrimSpace(f.Account)}
	if cf.Platform != "" {
		// Keys begin with the escaped platform and account: scan only those.
		cf.Prefix = EscapeKeyPart(cf.Platform) + "/"
		if cf.Account != "" {
			cf.Prefix += EscapeKeyPart(cf.Account) + "/"
		}
	}
	return a.cat.Items(cf)
}

// ItemVersion is one version of an item with its content.
type ItemVersion struct {
	catalog.Version
	Item *Item `json:"item,omitempty"`
	// Error says why the content could not be read (a damaged store).
	Error string `json:"error,omitempty"`
}

// ItemDetail is an item with every version and every capture that saw it.
type ItemDetail struct {
	catalog.Item
	Versions  []ItemVersion       `json:"versions"`
	Sightings []catalog.Sighting  `json:"sightings"`
	Captures  map[string]Captured `json:"captures"`
}

// Captured is what show says of a capture that saw an item.
type Captured struct {
	Collector string    `json:"collector"`
	StartedAt time.Time `json:"started_at"`
	Complete  bool      `json:"complete"`
	Manifest  string    `json:"manifest"`
}

// Show returns an item with all its versions, read from the store and
// checked against their digests.
func (a *Archive) Show(ctx context.Context, key string) (ItemDetail, error) {
	it, err := a.cat.Item(key)
	if errors.Is(err, catalog.ErrNotFound) {
		return ItemDetail{}, fmt.Errorf("item %s: %w", key, ErrNotFound)
	}
	if err != nil {
		return ItemDetail{}, err
	}
	d := ItemDetail{Item: it, Captures: map[string]Captured{}}
	for _, v := range it.Versions {
		iv := ItemVersion{Version: v}
		dg, err := ParseDigest(v.Digest)
		if err == nil {
			var b []byte
			if b, err = ReadBlob(ctx, a.store, dg); err == nil {
				var item Item
				if err = json.Unmarshal(b, &item); err == nil {
					iv.Item = &item
				}
			}
		}
		if err != nil {
			iv.Error = err.Error()
		}
		d.Versions = append(d.Versions, iv)
	}
	if d.Sightings, err = a.cat.Sightings(key); err != nil {
		return d, err
	}
	sort.SliceStable(d.Sightings, func(i, j int) bool { return d.Sightings[i].SeenAt.Before(d.Sightings[j].SeenAt) })
	for _, s := range d.Sightings {
		if _, ok := d.Captures[s.Capture]; ok {
			continue
		}
		if cp, err := a.cat.Capture(s.Capture); err == nil {
			d.Captures[s.Capture] = Captured{Collector: cp.Collector, StartedAt: cp.StartedAt, Complete: cp.Complete, Manifest: cp.Key}
		}
	}
	return d, nil
}

// Stats are the archive's counts and sizes.
type Stats struct {
	Items         int64     `json:"items"`
	Versions      int64     `json:"versions"`
	Captures      int64     `json:"captures"`
	Blobs         int64     `json:"blobs"`
	Bytes         int64     `json:"bytes"`
	ManifestBytes int64     `json:"manifest_bytes"`
	Events        int64     `json:"events"`
	JournalHead   string    `json:"journal_head"`
	Accounts      int       `json:"accounts"`
	Store         string    `json:"store"`
	ArchiveID     string    `json:"archive_id"`
	LastCapture   time.Time `json:"last_capture,omitzero"`
}

// Stats reports counts and sizes from the catalog.
func (a *Archive) Stats() (Stats, error) {
	n, err := a.cat.Counters()
	if err != nil {
		return Stats{}, err
	}
	h, err := a.cat.Head()
	if err != nil {
		return Stats{}, err
	}
	accts, err := a.cat.Accounts()
	if err != nil {
		return Stats{}, err
	}
	s := Stats{
		Items: n.Items, Versions: n.Versions, Captures: n.Captures, Blobs: n.Blobs, Bytes: n.Bytes,
		ManifestBytes: n.ManifestSize, Events: n.Events, JournalHead: h.Hash, Accounts: len(accts),
		Store: a.store.Location(), ArchiveID: a.cfg.ArchiveID,
	}
	caps, err := a.cat.Captures()
	if err != nil {
		return s, err
	}
	for _, cp := range caps {
		if cp.EndedAt.After(s.LastCapture) {
			s.LastCapture = cp.EndedAt
		}
	}
	return s, nil
}
