package bagit

import (
	"encoding/binary"
	"errors"

	"github.com/osmarc/osmarc/export/html"
)

// The thread spool holds each exported item's html.Item until Finish
// renders the thread pages. Its records are in a compact binary form
// (lengths as uvarints, then bytes, field by field in a fixed order):
// encoding and decoding them as JSON took a fifth of an export's CPU.
// The spool lives only for one export, so the form is no interface.

func appendStr(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendBool(b []byte, v bool) []byte {
	if v {
		return append(b, 1)
	}
	return append(b, 0)
}

func appendStrs(b []byte, ss []string) []byte {
	b = binary.AppendUvarint(b, uint64(len(ss)))
	for _, s := range ss {
		b = appendStr(b, s)
	}
	return b
}

// encodeSpool appends it's record to b.
func encodeSpool(b []byte, it *html.Item) []byte {
	for _, s := range []string{it.Key, it.Platform, it.Account, it.Kind, it.Role, it.Parent, it.Thread, it.Author, it.Handle,
		it.Lang, it.URL, it.Created, it.Edited, it.Removed, it.Class, it.Schedule, it.ItemPath, it.ThreadPath} {
		b = appendStr(b, s)
	}
	b = appendBool(b, it.IsEdited)
	b = binary.AppendVarint(b, int64(it.VersionCount))
	b = binary.AppendUvarint(b, uint64(len(it.Versions)))
	for _, v := range it.Versions {
		b = appendStr(appendStr(appendStr(appendStr(b, v.Digest), v.Captured), v.Edited), v.Text)
		b = appendBool(b, v.Redacted)
	}
	b = binary.AppendUvarint(b, uint64(len(it.Media)))
	for _, m := range it.Media {
		b = appendStr(appendStr(appendStr(appendStr(appendStr(b, m.Path), m.Digest), m.Type), m.Alt), m.URL)
		b = appendBool(b, m.Image)
	}
	b = appendStrs(b, it.Holds)
	return appendStrs(b, it.Redactions)
}

var errSpool = errors.New("damaged thread spool record")

type spoolReader struct {
	b   []byte
	err error
}

func (r *spoolReader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = errSpool
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *spoolReader) str() string {
	n := r.uvarint()
	if r.err != nil {
		return ""
	}
	if n > uint64(len(r.b)) {
		r.err = errSpool
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}

func (r *spoolReader) bool() bool {
	if r.err != nil || len(r.b) == 0 {
		r.err = errSpool
		return false
	}
	v := r.b[0] == 1
	r.b = r.b[1:]
	return v
}

// count reads a slice length, which cannot exceed the bytes left.
func (r *spoolReader) count() int {
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		r.err = errSpool
		return 0
	}
	return int(n)
}

func (r *spoolReader) strs() []string {
	n := r.count()
	if n == 0 {
		return nil
	}
	ss := make([]string, n)
	for i := range ss {
		ss[i] = r.str()
	}
	return ss
}

// decodeSpool reads one record written by encodeSpool.
func decodeSpool(b []byte) (html.Item, error) {
	r := &spoolReader{b: b}
	var it html.Item
	for _, p := range []*string{&it.Key, &it.Platform, &it.Account, &it.Kind, &it.Role, &it.Parent, &it.Thread, &it.Author, &it.Handle,
		&it.Lang, &it.URL, &it.Created, &it.Edited, &it.Removed, &it.Class, &it.Schedule, &it.ItemPath, &it.ThreadPath} {
		*p = r.str()
	}
	it.IsEdited = r.bool()
	if r.err == nil {
		v, n := binary.Varint(r.b)
		if n <= 0 {
			r.err = errSpool
		} else {
			it.VersionCount, r.b = int(v), r.b[n:]
		}
	}
	if n := r.count(); n > 0 {
		it.Versions = make([]html.Version, n)
		for i := range it.Versions {
			v := &it.Versions[i]
			v.Digest, v.Captured, v.Edited, v.Text = r.str(), r.str(), r.str(), r.str()
			v.Redacted = r.bool()
		}
	}
	if n := r.count(); n > 0 {
		it.Media = make([]html.Media, n)
		for i := range it.Media {
			m := &it.Media[i]
			m.Path, m.Digest, m.Type, m.Alt, m.URL = r.str(), r.str(), r.str(), r.str(), r.str()
			m.Image = r.bool()
		}
	}
	it.Holds = r.strs()
	it.Redactions = r.strs()
	if r.err == nil && len(r.b) != 0 {
		r.err = errSpool
	}
	return it, r.err
}
