package catalog

import (
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/osmarc/osmarc/archive/binrec"
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

// recWriter writes a record: binrec's fields, and times and digests.
type recWriter struct{ binrec.Writer }

func (w *recWriter) time(t time.Time) {
	w.Varint(t.Unix())
	w.Uvarint(uint64(t.Nanosecond()))
}

func (w *recWriter) digest(d string) {
	if len(d) == 64 && isLowerHex(d) {
		w.Byte(digestRaw)
		w.Writer, _ = hex.AppendDecode(w.Writer, []byte(d)) // checked above: it is hex
		return
	}
	w.Byte(digestString)
	w.Str(d)
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

// recReader reads a record: binrec's fields, and times and digests.
type recReader struct{ binrec.Reader }

func (r *recReader) time() time.Time {
	s := r.Varint()
	ns := r.Uvarint()
	if ns >= 1e9 {
		r.Fail()
		return time.Time{}
	}
	return time.Unix(s, int64(ns)).UTC()
}

func (r *recReader) digest() string {
	switch r.Byte() {
	case digestRaw:
		if len(r.B) < 32 {
			r.Fail()
			return ""
		}
		s := hex.EncodeToString(r.B[:32])
		r.B = r.B[32:]
		return s
	case digestString:
		return r.Str()
	}
	r.Fail()
	return ""
}

func (r *recReader) end(what string, key []byte) error {
	if r.End() != nil {
		return fmt.Errorf("catalog: %s %q: %w", what, key, errRecord)
	}
	return nil
}

// encodeItem is an item's record (its key is the record's key, not in it).
func encodeItem(it *Item) []byte {
	w := recWriter{make(binrec.Writer, 0, 160+len(it.Versions)*48)}
	w.Byte(recItem)
	var flags uint64
	if it.RemovedAt != nil {
		flags |= itemRemoved
	}
	w.Uvarint(flags)
	w.Str(it.Platform)
	w.Str(it.Account)
	w.Str(it.ID)
	w.Str(it.Kind)
	w.time(it.CreatedAt)
	w.time(it.FirstSeen)
	w.time(it.LastSeen)
	w.Uvarint(uint64(len(it.Versions)))
	for _, v := range it.Versions {
		w.digest(v.Digest)
		w.Uvarint(uint64(v.Size))
		w.time(v.CapturedAt)
		w.Str(v.Capture)
	}
	if it.RemovedAt != nil {
		w.time(*it.RemovedAt)
	}
	w.Str(it.RemovedBy)
	w.Strs(it.SeenBy)
	return w.Writer
}

// decodeItem reads the record v of the item whose key is k.
func decodeItem(k, v []byte, it *Item) error {
	r := recReader{binrec.Reader{B: v}}
	if r.Byte() != recItem {
		r.Fail()
	}
	flags := r.Uvarint()
	*it = Item{Key: string(k)}
	it.Platform = r.Str()
	it.Account = r.Str()
	it.ID = r.Str()
	it.Kind = r.Str()
	it.CreatedAt = r.time()
	it.FirstSeen = r.time()
	it.LastSeen = r.time()
	if n := r.Count(); n > 0 {
		it.Versions = make([]Version, n)
		for i := range it.Versions {
			v := &it.Versions[i]
			v.Digest = r.digest()
			v.Size = int64(r.Uvarint())
			v.CapturedAt = r.time()
			v.Capture = r.Str()
		}
	}
	if flags&itemRemoved != 0 {
		t := r.time()
		it.RemovedAt = &t
	}
	it.RemovedBy = r.Str()
	it.SeenBy = r.Strs()
	return r.end("item", k)
}

// encodeSighting is a sighting's record (its key is the item's key, a
// zero byte and the capture's id).
func encodeSighting(s *Sighting) []byte {
	w := recWriter{make(binrec.Writer, 0, 112+len(s.Metrics)+len(s.Media)*33)}
	w.Byte(recSighting)
	w.Str(s.Capture)
	w.digest(s.Version)
	w.digest(s.Raw)
	w.time(s.SeenAt)
	w.Bytes(s.Metrics)
	w.Uvarint(uint64(len(s.Media)))
	for _, m := range s.Media {
		w.digest(m)
	}
	return w.Writer
}

// decodeSighting reads the record v, whose key is k.
func decodeSighting(k, v []byte, s *Sighting) error {
	r := recReader{binrec.Reader{B: v}}
	if r.Byte() != recSighting {
		r.Fail()
	}
	*s = Sighting{}
	s.Capture = r.Str()
	s.Version = r.digest()
	s.Raw = r.digest()
	s.SeenAt = r.time()
	if m := r.Raw(); len(m) > 0 {
		s.Metrics = append([]byte(nil), m...)
	}
	if n := r.Count(); n > 0 {
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
	r := recReader{binrec.Reader{B: rec}}
	if r.Byte() != recItem {
		r.Fail()
	}
	r.Uvarint() // flags
	h.Key = string(key)
	h.Platform = r.Str()
	h.Account = r.Str()
	r.Raw() // id
	r.Raw() // kind
	h.CreatedAt = r.time()
	if r.Err != nil {
		return fmt.Errorf("catalog: item %q: %w", key, errRecord)
	}
	return nil
}

// DecodeItem reads a whole item record, as ScanItems gives it.
func DecodeItem(key, rec []byte, it *Item) error { return decodeItem(key, rec, it) }
