// Package catalog is the archive's materialised view, kept in bbolt: the
// items and their versions, the captures and the sightings of each item in
// each capture, the blobs the store holds, and the journal events applied so
// far. It is derived from the store alone and can be thrown away and rebuilt
// by replaying the journal (each capture event names its manifest).
//
// Applying an event is idempotent: events at or below the head are skipped,
// and a capture applied twice (after a crash in the middle of applying it)
// ends in the same state as one applied once. The package does no store
// I/O; the archive reads manifests and hands their entries here.
package catalog

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"os"
	"slices"
	"sort"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterr "go.etcd.io/bbolt/errors"
)

// SchemaVersion changes when the layout of the buckets does; a catalog of
// another version is rebuilt.
const SchemaVersion = "2"

var (
	bMeta      = []byte("meta")
	bEvents    = []byte("events")
	bCaptures  = []byte("captures")
	bItems     = []byte("items")
	bSightings = []byte("sightings")
	bBlobs     = []byte("blobs")
	bAccounts  = []byte("accounts")
	bRegistry  = []byte("registry")

	kSchema   = []byte("schema")
	kHead     = []byte("head")
	kCounters = []byte("counters")
)

// ErrNotFound: no such item, capture or event in the catalog.
var ErrNotFound = errors.New("not found")

// ErrTimeout: the catalog file is held by another process.
var ErrTimeout = errors.New("catalog is in use by another process")

// Catalog is an open bbolt catalog.
type Catalog struct {
	db       *bolt.DB
	readOnly bool
}

// Head is the last journal event applied.
type Head struct {
	Seq  uint64 `json:"seq"`
	Hash string `json:"hash"`
}

// Open opens or creates the catalog at path. A read-only catalog must exist.
func Open(path string, readOnly bool) (*Catalog, error) {
	if readOnly {
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("catalog: %w", err)
		}
	}
	db, err := bolt.Open(path, 0o640, &bolt.Options{Timeout: time.Second, ReadOnly: readOnly, NoFreelistSync: true, FreelistType: bolt.FreelistMapType})
	if err != nil {
		if errors.Is(err, bolterr.ErrTimeout) {
			return nil, fmt.Errorf("catalog: open %s: %w", path, ErrTimeout)
		}
		return nil, fmt.Errorf("catalog: open %s: %w", path, err)
	}
	c := &Catalog{db: db, readOnly: readOnly}
	if !readOnly {
		err = db.Update(func(tx *bolt.Tx) error {
			for _, b := range [][]byte{bMeta, bEvents, bCaptures, bItems, bSightings, bBlobs, bAccounts, bRegistry} {
				if _, err := tx.CreateBucketIfNotExists(b); err != nil {
					return err
				}
			}
			m := tx.Bucket(bMeta)
			if v := m.Get(kSchema); v == nil {
				return m.Put(kSchema, []byte(SchemaVersion))
			}
			return nil
		})
		if err != nil {
			db.Close()
			return nil, fmt.Errorf("catalog: init %s: %w", path, err)
		}
	}
	var schema string
	err = db.View(func(tx *bolt.Tx) error {
		if m := tx.Bucket(bMeta); m != nil {
			schema = string(m.Get(kSchema))
		}
		return nil
	})
	if err == nil && schema != SchemaVersion {
		err = fmt.Errorf("schema %q, want %q: run osmarc rebuild", schema, SchemaVersion)
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("catalog: %s: %w", path, err)
	}
	return c, nil
}

// Close closes the catalog.
func (c *Catalog) Close() error { return c.db.Close() }

// Counters are the running totals that stats reports.
type Counters struct {
	Items        int64 `json:"items"`
	Versions     int64 `json:"versions"`
	Captures     int64 `json:"captures"`
	Blobs        int64 `json:"blobs"`
	Bytes        int64 `json:"bytes"`
	ManifestSize int64 `json:"manifest_bytes"`
	Events       int64 `json:"events"`
	Destroyed    int64 `json:"destroyed"`
}

// Item is what the catalog knows of one item.
type Item struct {
	Key       string    `json:"key"`
	Platform  string    `json:"platform"`
	Account   string    `json:"account"`
	ID        string    `json:"id"`
	Kind      string    `json:"kind"`
	CreatedAt time.Time `json:"created_at"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	Versions  []Version `json:"versions"`
	// RemovedAt is when the item was found gone from its source: a
	// complete capture that did not see it, or the source's own word. The
	// content stays; an item seen again is no longer removed.
	RemovedAt *time.Time `json:"removed_at,omitempty"`
	// RemovedBy is the capture that found it gone.
	RemovedBy string `json:"removed_by,omitempty"`
	// SeenBy are the collectors that have seen the item: a complete
	// capture marks removed only what its own collector saw before.
	SeenBy []string `json:"seen_by,omitempty"`
}

// Latest is the most recently first-seen version.
func (it *Item) Latest() Version { return it.Versions[len(it.Versions)-1] }

// Version is one distinct content of an item.
type Version struct {
	Digest     string    `json:"digest"`
	Size       int64     `json:"size"`
	CapturedAt time.Time `json:"captured_at"`
	Capture    string    `json:"capture"`
}

// Capture summarises one capture manifest.
type Capture struct {
	ID               string    `json:"id"`
	Key              string    `json:"key"`
	Digest           string    `json:"digest"`
	Size             int64     `json:"size"`
	Collector        string    `json:"collector"`
	CollectorVersion string    `json:"collector_version"`
	Accounts         []string  `json:"accounts"`
	Sources          []string  `json:"sources,omitempty"`
	StartedAt        time.Time `json:"started_at"`
	EndedAt          time.Time `json:"ended_at"`
	Complete         bool      `json:"complete"`
	Items            int64     `json:"items"`
	NewVersions      int64     `json:"new_versions"`
	Errors           int64     `json:"errors"`
	Event            uint64    `json:"event"`
	Actor            string    `json:"actor"`
	// Scope is what a complete capture listed completely.
	Scope *Scope `json:"scope,omitempty"`
	// Removed counts the items this capture found removed at the source.
	Removed int64 `json:"removed"`
	// State is the collector's note of where it got to.
	State json.RawMessage `json:"state,omitempty"`
}

// Scope is what a complete capture listed: an account's items, perhaps
// only from a date, perhaps only some kinds.
type Scope struct {
	Account string    `json:"account"`
	Since   time.Time `json:"since,omitzero"`
	Kinds   []string  `json:"kinds,omitempty"`
}

// Sighting is one item seen in one capture.
type Sighting struct {
	Capture string          `json:"capture"`
	Version string          `json:"version"`
	Raw     string          `json:"raw,omitempty"`
	SeenAt  time.Time       `json:"seen_at"`
	Metrics json.RawMessage `json:"metrics,omitempty"`
	// Media are the digests of the media the item carried in this capture.
	Media []string `json:"media,omitempty"`
}

// Blob is one content-addressed object, as a capture names it.
type Blob struct {
	Digest string
	Size   int64
}

// Entry is one line of a capture manifest that the catalog applies: a blob
// (raw input or media) or an item seen.
type Entry struct {
	Blob *Blob
	Item *ItemEntry
}

// ItemEntry is an item seen in a capture.
type ItemEntry struct {
	Key       string
	Platform  string
	Account   string
	ID        string
	Kind      string
	CreatedAt time.Time
	Version   Blob
	Raw       string
	Media     []Blob
	SeenAt    time.Time
	Metrics   json.RawMessage
	// RemovedAt is the source's own word that the item is gone.
	RemovedAt *time.Time
}

// Event is a journal event as the catalog keeps it.
type Event struct {
	Seq   uint64          `json:"seq"`
	Time  time.Time       `json:"time"`
	Actor string          `json:"actor"`
	Type  string          `json:"type"`
	Data  json.RawMessage `json:"data,omitempty"`
	Hash  string          `json:"hash"`
}

// Head returns the last event applied (zero when none).
func (c *Catalog) Head() (Head, error) {
	var h Head
	err := c.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bMeta).Get(kHead)
		if v == nil {
			return nil
		}
		return json.Unmarshal(v, &h)
	})
	return h, err
}

// Counters returns the running totals.
func (c *Catalog) Counters() (Counters, error) {
	var n Counters
	err := c.db.View(func(tx *bolt.Tx) error {
		n = counters(tx)
		return nil
	})
	return n, err
}

func counters(tx *bolt.Tx) Counters {
	var n Counters
	if v := tx.Bucket(bMeta).Get(kCounters); v != nil {
		json.Unmarshal(v, &n)
	}
	return n
}

func putCounters(tx *bolt.Tx, n Counters) error {
	b, _ := json.Marshal(n)
	return tx.Bucket(bMeta).Put(kCounters, b)
}

func seqKey(seq uint64) []byte {
	return binary.BigEndian.AppendUint64(nil, seq)
}

// checkNext refuses an event that does not follow the head.
func checkNext(tx *bolt.Tx, ev Event) (skip bool, err error) {
	var h Head
	if v := tx.Bucket(bMeta).Get(kHead); v != nil {
		if err := json.Unmarshal(v, &h); err != nil {
			return false, err
		}
	}
	switch {
	case ev.Seq <= h.Seq:
		return true, nil
	case ev.Seq != h.Seq+1:
		return false, fmt.Errorf("catalog: event %d does not follow head %d", ev.Seq, h.Seq)
	}
	return false, nil
}

func putEvent(tx *bolt.Tx, ev Event) error {
	b, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	if err := tx.Bucket(bEvents).Put(seqKey(ev.Seq), b); err != nil {
		return err
	}
	hb, _ := json.Marshal(Head{Seq: ev.Seq, Hash: ev.Hash})
	return tx.Bucket(bMeta).Put(kHead, hb)
}

// ApplyEvent records an event that names no capture.
func (c *Catalog) ApplyEvent(ev Event) error {
	return c.db.Update(func(tx *bolt.Tx) error {
		skip, err := checkNext(tx, ev)
		if err != nil || skip {
			return err
		}
		n := counters(tx)
		n.Events++
		if err := putCounters(tx, n); err != nil {
			return err
		}
		if err := applyRegistry(tx, ev); err != nil {
			return err
		}
		if err := applyState(tx, ev); err != nil {
			return err
		}
		if err := applyRequest(tx, ev); err != nil {
			return err
		}
		return putEvent(tx, ev)
	})
}

// applyRegistry keeps the account registry: an "account.*" event's data
// holds the account's whole new state under "account", keyed by its "key".
func applyRegistry(tx *bolt.Tx, ev Event) error {
	if !strings.HasPrefix(ev.Type, "account.") {
		return nil
	}
	var d struct {
		Account json.RawMessage `json:"account"`
	}
	if err := json.Unmarshal(ev.Data, &d); err != nil || len(d.Account) == 0 {
		return fmt.Errorf("catalog: event %d (%s) has no account", ev.Seq, ev.Type)
	}
	var k struct {
		Key string `json:"key"`
	}
	if err := json.Unmarshal(d.Account, &k); err != nil || k.Key == "" {
		return fmt.Errorf("catalog: event %d (%s): account without a key", ev.Seq, ev.Type)
	}
	return tx.Bucket(bRegistry).Put([]byte(k.Key), d.Account)
}

// Registered returns the registry's record of an account, as JSON.
func (c *Catalog) Registered(key string) ([]byte, error) {
	var out []byte
	err := c.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bRegistry).Get([]byte(key))
		if v == nil {
			return fmt.Errorf("account %s: %w", key, ErrNotFound)
		}
		out = append([]byte(nil), v...)
		return nil
	})
	return out, err
}

// Registry yields every registered account's record, in key order.
func (c *Catalog) Registry() iter.Seq2[[]byte, error] {
	return func(yield func([]byte, error) bool) {
		var all [][]byte
		err := c.db.View(func(tx *bolt.Tx) error {
			return tx.Bucket(bRegistry).ForEach(func(k, v []byte) error {
				all = append(all, append([]byte(nil), v...))
				return nil
			})
		})
		if err != nil {
			yield(nil, err)
			return
		}
		for _, b := range all {
			if !yield(b, nil) {
				return
			}
		}
	}
}

// BatchSize is how many manifest entries go into one bbolt transaction.
const BatchSize = 1000

// ApplyCapture records a capture event with the entries of its manifest,
// in batches; the event and the capture summary go in the last transaction,
// so a crash part-way leaves the head where it was and the capture is
// applied again (idempotently) on the next open.
//
// applied, when not nil, is told after each batch how many of the
// manifest's item entries are now in the catalog (counting from the
// first), so that what follows from them (the search index) can start
// while the rest are applied.
func (c *Catalog) ApplyCapture(ev Event, cp *Capture, entries iter.Seq2[Entry, error], applied func(items int)) error {
	skip := false
	if err := c.db.View(func(tx *bolt.Tx) (err error) {
		skip, err = checkNext(tx, ev)
		return err
	}); err != nil || skip {
		return err
	}
	var batch []Entry
	itemsDone, itemsInBatch := 0, 0
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		// In key order, so the writes walk the B+trees once rather than
		// touching pages at random.
		sort.SliceStable(batch, func(i, j int) bool { return entryKey(batch[i]) < entryKey(batch[j]) })
		err := c.db.Update(func(tx *bolt.Tx) error {
			packPages(tx)
			n := counters(tx)
			for _, e := range batch {
				if err := applyEntry(tx, &n, e, cp); err != nil {
					return err
				}
			}
			return putCounters(tx, n)
		})
		batch = batch[:0]
		if err == nil && itemsInBatch > 0 && applied != nil {
			itemsDone += itemsInBatch
			applied(itemsDone)
		}
		itemsInBatch = 0
		return err
	}
	for e, err := range entries {
		if err != nil {
			return err
		}
		batch = append(batch, e)
		if e.Item != nil {
			itemsInBatch++
		}
		if len(batch) >= BatchSize {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := flush(); err != nil {
		return err
	}
	return c.db.Update(func(tx *bolt.Tx) error {
		skip, err := checkNext(tx, ev)
		if err != nil || skip {
			return err
		}
		n := counters(tx)
		caps := tx.Bucket(bCaptures)
		if caps.Get([]byte(cp.ID)) == nil {
			n.Captures++
			n.ManifestSize += cp.Size
		}
		if cp.Complete && cp.Scope != nil {
			removed, err := markRemoved(tx, cp)
			if err != nil {
				return err
			}
			cp.Removed = removed
		}
		n.Events++
		b, err := json.Marshal(cp)
		if err != nil {
			return err
		}
		if err := caps.Put([]byte(cp.ID), b); err != nil {
			return err
		}
		if err := putCounters(tx, n); err != nil {
			return err
		}
		return putEvent(tx, ev)
	})
}

// markRemoved marks as removed at source every item in a complete
// capture's scope that its collector saw before and that it did not see.
func markRemoved(tx *bolt.Tx, cp *Capture) (int64, error) {
	prefix := []byte(cp.Scope.Account + "/")
	items := tx.Bucket(bItems)
	sightings := tx.Bucket(bSightings)
	var n int64
	var updates [][2][]byte
	cur := items.Cursor()
	for k, v := cur.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = cur.Next() {
		var it Item
		if err := decodeItem(k, v, &it); err != nil {
			return 0, err
		}
		switch {
		case it.RemovedAt != nil,
			!slices.Contains(it.SeenBy, cp.Collector),
			!cp.Scope.Since.IsZero() && it.CreatedAt.Before(cp.Scope.Since),
			len(cp.Scope.Kinds) > 0 && !slices.Contains(cp.Scope.Kinds, it.Kind),
			sightings.Get(sightingKey(it.Key, cp.ID)) != nil:
			continue
		}
		at := cp.EndedAt
		it.RemovedAt, it.RemovedBy = &at, cp.ID
		updates = append(updates, [2][]byte{append([]byte(nil), k...), encodeItem(&it)})
		n++
	}
	for _, u := range updates {
		if err := items.Put(u[0], u[1]); err != nil {
			return 0, err
		}
	}
	return n, nil
}

// packedFill is how full bbolt fills the pages it splits in the items and
// sightings buckets. Its default, half full, suits keys that arrive at
// random (the blobs bucket's digests, which keep it); item keys of one
// account arrive in runs (an export lists posts by time, and their ids
// grow with it; a sighting's key is the item's and the capture's), and
// their records are large (about 540 bytes), so a page holds only seven
// or so and half-full pages made the catalog about 2.5 KB per item, nearly
// all of it mapped and resident while a large import runs. Packed pages
// halve those buckets, the pages each batch rewrites and the memory they
// map.
const packedFill = 0.95

// packPages sets packedFill on the items and sightings buckets for a write transaction
// (bbolt keeps the setting per transaction, not in the file).
func packPages(tx *bolt.Tx) {
	for _, name := range [][]byte{bItems, bSightings} {
		if b := tx.Bucket(name); b != nil {
			b.FillPercent = packedFill
		}
	}
}

func entryKey(e Entry) string {
	if e.Item != nil {
		return e.Item.Key
	}
	return ""
}

func putBlob(tx *bolt.Tx, n *Counters, b Blob) error {
	k := []byte(b.Digest)
	bk := tx.Bucket(bBlobs)
	if bk.Get(k) != nil {
		return nil
	}
	n.Blobs++
	n.Bytes += b.Size
	return bk.Put(k, binary.BigEndian.AppendUint64(nil, uint64(b.Size)))
}

func sightingKey(itemKey, capture string) []byte {
	return append(append([]byte(itemKey), 0), capture...)
}

func applyEntry(tx *bolt.Tx, n *Counters, e Entry, cp *Capture) error {
	captureID := cp.ID
	if e.Blob != nil {
		return putBlob(tx, n, *e.Blob)
	}
	ie := e.Item
	if ie == nil {
		return nil
	}
	for _, m := range ie.Media {
		if err := putBlob(tx, n, m); err != nil {
			return err
		}
	}
	items := tx.Bucket(bItems)
	var it Item
	if v := items.Get([]byte(ie.Key)); v != nil {
		if err := decodeItem([]byte(ie.Key), v, &it); err != nil {
			return err
		}
	} else {
		it = Item{Key: ie.Key, Platform: ie.Platform, Account: ie.Account, ID: ie.ID, FirstSeen: ie.SeenAt}
		n.Items++
		ak := []byte(ie.Platform + "\x00" + ie.Account)
		ab := tx.Bucket(bAccounts)
		var cnt uint64
		if v := ab.Get(ak); len(v) == 8 {
			cnt = binary.BigEndian.Uint64(v)
		}
		if err := ab.Put(ak, binary.BigEndian.AppendUint64(nil, cnt+1)); err != nil {
			return err
		}
	}
	known := false
	for _, v := range it.Versions {
		if v.Digest == ie.Version.Digest {
			known = true
			break
		}
	}
	if !known {
		it.Versions = append(it.Versions, Version{Digest: ie.Version.Digest, Size: ie.Version.Size, CapturedAt: ie.SeenAt, Capture: captureID})
		n.Versions++
		// A version's blob is recorded in its item's record alone, not in
		// the blobs bucket (see versionBlobs); it is counted there unless
		// a record made before counts it already.
		if tx.Bucket(bBlobs).Get([]byte(ie.Version.Digest)) == nil {
			n.Blobs++
			n.Bytes += ie.Version.Size
		}
		// The latest version's kind and time describe the item.
		it.Kind, it.CreatedAt = ie.Kind, ie.CreatedAt
	}
	if ie.SeenAt.Before(it.FirstSeen) {
		it.FirstSeen = ie.SeenAt
	}
	if !ie.SeenAt.Before(it.LastSeen) {
		it.LastSeen = ie.SeenAt
		// The newest word on removal wins: gone by the source's own
		// account, or present again.
		it.RemovedAt, it.RemovedBy = ie.RemovedAt, ""
		if ie.RemovedAt != nil {
			it.RemovedBy = captureID
		}
	}
	if cp.Collector != "" && !slices.Contains(it.SeenBy, cp.Collector) {
		it.SeenBy = append(it.SeenBy, cp.Collector)
	}
	if err := items.Put([]byte(ie.Key), encodeItem(&it)); err != nil {
		return err
	}
	sg := Sighting{Capture: captureID, Version: ie.Version.Digest, Raw: ie.Raw, SeenAt: ie.SeenAt, Metrics: ie.Metrics}
	for _, m := range ie.Media {
		sg.Media = append(sg.Media, m.Digest)
	}
	return tx.Bucket(bSightings).Put(sightingKey(ie.Key, captureID), encodeSighting(&sg))
}

// HasBlobs reports which of the digests of raw input and media the
// catalog already knows. A version's blob is known by its item
// (HasVersions).
func (c *Catalog) HasBlobs(digests []string) ([]bool, error) { return c.has(bBlobs, digests) }

// versionBlobs: the blobs bucket, keyed by digest, holds the blobs of raw
// input and media, which many items may share. A version's blob is its
// item's own content (the canonical item names the item), so no other
// item has it: the item's record, which lists its versions with their
// digests and sizes, is its record too. Keeping it in the blobs bucket as
// well cost a write at a random place in a B+tree keyed by digest for
// every new version, which rewrote most of that tree's pages in each
// transaction of a large capture (about half of applying it). Catalogs
// made before keep those records; they are read as before.

// HasVersions reports, for each item key and the digest of a version of
// it, whether the catalog holds the item (have) and that version of it
// (known), in one read transaction.
func (c *Catalog) HasVersions(keys, digests []string) (have, known []bool, err error) {
	have, known = make([]bool, len(keys)), make([]bool, len(keys))
	err = c.db.View(func(tx *bolt.Tx) error {
		items := tx.Bucket(bItems)
		for i, k := range keys {
			v := items.Get([]byte(k))
			if v == nil {
				continue
			}
			have[i] = true
			var it Item
			if err := decodeItem([]byte(k), v, &it); err != nil {
				return err
			}
			known[i] = slices.ContainsFunc(it.Versions, func(ver Version) bool { return ver.Digest == digests[i] })
		}
		return nil
	})
	return have, known, err
}

// has reports which of keys a bucket holds, in one read transaction.
func (c *Catalog) has(bucket []byte, keys []string) ([]bool, error) {
	out := make([]bool, len(keys))
	err := c.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucket)
		for i, k := range keys {
			out[i] = b.Get([]byte(k)) != nil
		}
		return nil
	})
	return out, err
}

// Item returns one item.
func (c *Catalog) Item(key string) (Item, error) {
	var it Item
	err := c.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bItems).Get([]byte(key))
		if v == nil {
			return fmt.Errorf("item %s: %w", key, ErrNotFound)
		}
		return decodeItem([]byte(key), v, &it)
	})
	return it, err
}

// Filter narrows a listing of items.
type Filter struct {
	// Prefix is a prefix of item keys where the scan starts and ends.
	Prefix string
	// Platform and Account, when set, must equal the item's.
	Platform string
	Account  string
}

// Items yields items in key order, scanning only the keys with the prefix.
func (c *Catalog) Items(f Filter) iter.Seq2[Item, error] {
	return func(yield func(Item, error) bool) {
		prefix := f.Prefix
		// Yield in chunks, each from its own read transaction, so a long
		// listing does not pin one transaction for its whole length.
		after := []byte(nil)
		for {
			var chunk []Item
			err := c.db.View(func(tx *bolt.Tx) error {
				cur := tx.Bucket(bItems).Cursor()
				var k, v []byte
				if after == nil {
					k, v = cur.Seek([]byte(prefix))
				} else {
					k, v = cur.Seek(after)
					if k != nil && bytes.Equal(k, after) {
						k, v = cur.Next()
					}
				}
				for ; k != nil && len(chunk) < 1000; k, v = cur.Next() {
					if !bytes.HasPrefix(k, []byte(prefix)) {
						break
					}
					after = append(after[:0], k...)
					var it Item
					if err := decodeItem(k, v, &it); err != nil {
						return err
					}
					if (f.Account != "" && it.Account != f.Account) || (f.Platform != "" && it.Platform != f.Platform) {
						continue
					}
					chunk = append(chunk, it)
				}
				if k == nil || !bytes.HasPrefix(k, []byte(prefix)) {
					after = nil
				}
				return nil
			})
			if err != nil {
				yield(Item{}, err)
				return
			}
			for _, it := range chunk {
				if !yield(it, nil) {
					return
				}
			}
			if after == nil {
				return
			}
		}
	}
}

// Sightings returns every capture that saw the item, in capture order.
func (c *Catalog) Sightings(key string) ([]Sighting, error) {
	var out []Sighting
	err := c.db.View(func(tx *bolt.Tx) (err error) {
		out, err = sightingsIn(tx, key)
		return err
	})
	return out, err
}

// sightingsIn reads an item's sightings in a transaction, in capture order.
func sightingsIn(tx *bolt.Tx, key string) ([]Sighting, error) {
	var out []Sighting
	prefix := append([]byte(key), 0)
	cur := tx.Bucket(bSightings).Cursor()
	for k, v := cur.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = cur.Next() {
		var s Sighting
		if err := decodeSighting(k, v, &s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// Capture returns one capture summary.
func (c *Catalog) Capture(id string) (Capture, error) {
	var cp Capture
	err := c.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bCaptures).Get([]byte(id))
		if v == nil {
			return fmt.Errorf("capture %s: %w", id, ErrNotFound)
		}
		return json.Unmarshal(v, &cp)
	})
	return cp, err
}

// Captures yields every capture in id order (ids sort by start time).
func (c *Catalog) Captures() ([]Capture, error) {
	var out []Capture
	err := c.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bCaptures).ForEach(func(k, v []byte) error {
			var cp Capture
			if err := json.Unmarshal(v, &cp); err != nil {
				return err
			}
			out = append(out, cp)
			return nil
		})
	})
	return out, err
}

// Events returns the events applied, from seq onwards.
func (c *Catalog) Events(from uint64) iter.Seq2[Event, error] {
	return func(yield func(Event, error) bool) {
		var evs []Event
		err := c.db.View(func(tx *bolt.Tx) error {
			cur := tx.Bucket(bEvents).Cursor()
			for k, v := cur.Seek(seqKey(from)); k != nil; k, v = cur.Next() {
				var e Event
				if err := json.Unmarshal(v, &e); err != nil {
					return err
				}
				evs = append(evs, e)
			}
			return nil
		})
		if err != nil {
			yield(Event{}, err)
			return
		}
		for _, e := range evs {
			if !yield(e, nil) {
				return
			}
		}
	}
}

// Account is a platform account with the number of items it has.
type Account struct {
	Platform string `json:"platform"`
	Account  string `json:"account"`
	Items    int64  `json:"items"`
}

// Accounts lists the accounts items were captured for.
func (c *Catalog) Accounts() ([]Account, error) {
	var out []Account
	err := c.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bAccounts).ForEach(func(k, v []byte) error {
			p, a, _ := bytes.Cut(k, []byte{0})
			out = append(out, Account{Platform: string(p), Account: string(a), Items: int64(binary.BigEndian.Uint64(v))})
			return nil
		})
	})
	return out, err
}

// Path of the database file.
func (c *Catalog) Path() string { return c.db.Path() }
