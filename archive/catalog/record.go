package catalog

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// Item and sighting records are kept in a compact binary form rather than
// JSON: they are most of the catalog (one of each per item, and another
// sighting per capture that sees the item again), every capture writes
// them and every index update and export reads them. In JSON an item took
// about 540 bytes and a sighting about 330, with field names, hex digests
// and RFC 3339 times; in this form they take about a third of that, so
// the catalog a large import writes, and the pages of it the process
// maps, shrink with them, and encoding and decoding cost a fraction of
// JSON's. The catalog is derived from the store, so the form is private
// to this package: SchemaVersion names it, and a catalog in another form
// is rebuilt.
//
// A record is a format byte, then its fields in a fixed order: strings as
// a uvarint length and the bytes; times as a zigzag varint of Unix
// seconds and a uvarint of nanoseconds (UTC; the zero time is its own
// value); digests as 32 bytes when they are the catalog's usual 64
// lower-case hex characters, else as a string; lists as a uvarint count
// and their elements.
const (
	recItem     = 1
	recSighting = 1
)

// errRecord is a record that does not decode: the catalog file is damaged
// (the catalog can be rebuilt from the store).
var errRecord = errors.New("damaged catalog record")

// Digest forms in a record.
const (
	digestRaw    = 1 // 32 bytes, written back as 64 lower-case hex characters
	digestString = 2 // any other text, kept as it is
)

// Item record flags.
const (
	itemRemoved = 1 << iota
)

type recWriter []byte

func (w *recWriter) uvarint(v uint64) { *w = binary.AppendUvarint(*w, v) }

func (w *recWriter) str(s string) {
	w.uvarint(uint64(len(s)))
	*w = append(*w, s...)
}

func (w *recWriter) bytes(b []byte) {
	w.uvarint(uint64(len(b)))
	*w = append(*w, b...)
}

func (w *recWriter) time(t time.Time) {
	*w = binary.AppendVarint(*w, t.Unix())
	w.uvarint(uint64(t.Nanosecond()))
}

func (w *recWriter) digest(d string) {
	if len(d) == 64 && isLowerHex(d) {
		*w = append(*w, digestRaw)
		*w, _ = hex.AppendDecode(*w, []byte(d)) // checked above: it is hex
		return
	}
	*w = append(*w, digestString)
	w.str(d)
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

func (w *recWriter) strs(ss []string) {
	w.uvarint(uint64(len(ss)))
	for _, s := range ss {
		w.str(s)
	}
}

// recReader reads a record; the first error sticks and every later read
// returns zero values.
type recReader struct {
	b   []byte
	err error
}

func (r *recReader) fail() {
	if r.err == nil {
		r.err = errRecord
	}
	r.b = nil
}

func (r *recReader) byte() byte {
	if len(r.b) == 0 {
		r.fail()
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *recReader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *recReader) varint() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *recReader) raw() []byte {
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		r.fail()
		return nil
	}
	b := r.b[:n:n]
	r.b = r.b[n:]
	return b
}

func (r *recReader) str() string { return string(r.raw()) }

func (r *recReader) time() time.Time {
	s := r.varint()
	ns := r.uvarint()
	if ns >= 1e9 {
		r.fail()
		return time.Time{}
	}
	return time.Unix(s, int64(ns)).UTC()
}

func (r *recReader) digest() string {
	switch r.byte() {
	case digestRaw:
		if len(r.b) < 32 {
			r.fail()
			return ""
		}
		s := hex.EncodeToString(r.b[:32])
		r.b = r.b[32:]
		return s
	case digestString:
		return r.str()
	}
	r.fail()
	return ""
}

func (r *recReader) count() int {
	n := r.uvarint()
	// Every element takes at least one byte.
	if n > uint64(len(r.b)) {
		r.fail()
		return 0
	}
	return int(n)
}

func (r *recReader) strs() []string {
	n := r.count()
	if n == 0 {
		return nil
	}
	out := make([]string, n)
	for i := range out {
		out[i] = r.str()
	}
	return out
}

func (r *recReader) end(what string, key []byte) error {
	if r.err == nil && len(r.b) != 0 {
		r.err = errRecord
	}
	if r.err != nil {
		return fmt.Errorf("catalog: %s %q: %w", what, key, r.err)
	}
	return nil
}

// encodeItem is an item's record (its key is the record's key, not in it).
func encodeItem(it *Item) []byte {
	w := make(recWriter, 0, 160+len(it.Versions)*48)
	w = append(w, recItem)
	var flags uint64
	if it.RemovedAt != nil {
		flags |= itemRemoved
	}
	w.uvarint(flags)
	w.str(it.Platform)
	w.str(it.Account)
	w.str(it.ID)
	w.str(it.Kind)
	w.time(it.CreatedAt)
	w.time(it.FirstSeen)
	w.time(it.LastSeen)
	w.uvarint(uint64(len(it.Versions)))
	for _, v := range it.Versions {
		w.digest(v.Digest)
		w.uvarint(uint64(v.Size))
		w.time(v.CapturedAt)
		w.str(v.Capture)
	}
	if it.RemovedAt != nil {
		w.time(*it.RemovedAt)
	}
	w.str(it.RemovedBy)
	w.strs(it.SeenBy)
	return w
}

// decodeItem reads the record v of the item whose key is k.
func decodeItem(k, v []byte, it *Item) error {
	r := recReader{b: v}
	if r.byte() != recItem {
		r.fail()
	}
	flags := r.uvarint()
	*it = Item{Key: string(k)}
	it.Platform = r.str()
	it.Account = r.str()
	it.ID = r.str()
	it.Kind = r.str()
	it.CreatedAt = r.time()
	it.FirstSeen = r.time()
	it.LastSeen = r.time()
	if n := r.count(); n > 0 {
		it.Versions = make([]Version, n)
		for i := range it.Versions {
			v := &it.Versions[i]
			v.Digest = r.digest()
			v.Size = int64(r.uvarint())
			v.CapturedAt = r.time()
			v.Capture = r.str()
		}
	}
	if flags&itemRemoved != 0 {
		t := r.time()
		it.RemovedAt = &t
	}
	it.RemovedBy = r.str()
	it.SeenBy = r.strs()
	return r.end("item", k)
}

// encodeSighting is a sighting's record (its key is the item's key, a
// zero byte and the capture's id).
func encodeSighting(s *Sighting) []byte {
	w := make(recWriter, 0, 112+len(s.Metrics)+len(s.Media)*33)
	w = append(w, recSighting)
	w.str(s.Capture)
	w.digest(s.Version)
	w.digest(s.Raw)
	w.time(s.SeenAt)
	w.bytes(s.Metrics)
	w.uvarint(uint64(len(s.Media)))
	for _, m := range s.Media {
		w.digest(m)
	}
	return w
}

// decodeSighting reads the record v, whose key is k.
func decodeSighting(k, v []byte, s *Sighting) error {
	r := recReader{b: v}
	if r.byte() != recSighting {
		r.fail()
	}
	*s = Sighting{}
	s.Capture = r.str()
	s.Version = r.digest()
	s.Raw = r.digest()
	s.SeenAt = r.time()
	if m := r.raw(); len(m) > 0 {
		s.Metrics = append([]byte(nil), m...)
	}
	if n := r.count(); n > 0 {
		s.Media = make([]string, n)
		for i := range s.Media {
			s.Media[i] = r.digest()
		}
	}
	return r.end("sighting", k)
}

// ItemHead is what a whole-catalog pass (a disposition plan, over a
// million items) needs of most items: which account and when.
type ItemHead struct {
	Key       string
	Platform  string
	Account   string
	CreatedAt time.Time
}

// DecodeItemHead reads an item record's head, without the rest: key and
// record as ScanItems gives them.
func DecodeItemHead(key, rec []byte, h *ItemHead) error {
	r := recReader{b: rec}
	if r.byte() != recItem {
		r.fail()
	}
	r.uvarint() // flags
	h.Key = string(key)
	h.Platform = r.str()
	h.Account = r.str()
	r.raw() // id
	r.raw() // kind
	h.CreatedAt = r.time()
	if r.err != nil {
		return fmt.Errorf("catalog: item %q: %w", key, r.err)
	}
	return nil
}

// DecodeItem reads a whole item record, as ScanItems gives it.
func DecodeItem(key, rec []byte, it *Item) error { return decodeItem(key, rec, it) }
