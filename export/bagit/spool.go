package bagit

import (
	"errors"

	"github.com/osmarc/osmarc/archive/binrec"
	"github.com/osmarc/osmarc/export/html"
)

// The thread spool holds each exported item's html.Item until Finish
// renders the thread pages. Its records are in binrec's compact binary
// form (lengths as uvarints, then bytes, field by field in a fixed order):
// encoding and decoding them as JSON took a fifth of an export's CPU.
// The spool lives only for one export, so the form is no interface.

// encodeSpool appends its record to b.
func encodeSpool(b []byte, it *html.Item) []byte {
	w := binrec.Writer(b)
	for _, s := range []string{it.Key, it.Platform, it.Account, it.Kind, it.Role, it.Parent, it.Thread, it.Author, it.Handle,
		it.Lang, it.URL, it.Created, it.Edited, it.Removed, it.Class, it.Schedule, it.ItemPath, it.ThreadPath} {
		w.Str(s)
	}
	w.Bool(it.IsEdited)
	w.Varint(int64(it.VersionCount))
	w.Uvarint(uint64(len(it.Versions)))
	for _, v := range it.Versions {
		w.Str(v.Digest)
		w.Str(v.Captured)
		w.Str(v.Edited)
		w.Str(v.Text)
		w.Bool(v.Redacted)
	}
	w.Uvarint(uint64(len(it.Media)))
	for _, m := range it.Media {
		w.Str(m.Path)
		w.Str(m.Digest)
		w.Str(m.Type)
		w.Str(m.Alt)
		w.Str(m.URL)
		w.Bool(m.Image)
	}
	w.Strs(it.Holds)
	w.Strs(it.Redactions)
	return w
}

var errSpool = errors.New("damaged thread spool record")

// decodeSpool reads one record written by encodeSpool.
func decodeSpool(b []byte) (html.Item, error) {
	r := &binrec.Reader{B: b}
	var it html.Item
	for _, p := range []*string{&it.Key, &it.Platform, &it.Account, &it.Kind, &it.Role, &it.Parent, &it.Thread, &it.Author, &it.Handle,
		&it.Lang, &it.URL, &it.Created, &it.Edited, &it.Removed, &it.Class, &it.Schedule, &it.ItemPath, &it.ThreadPath} {
		*p = r.Str()
	}
	it.IsEdited = r.Bool()
	it.VersionCount = int(r.Varint())
	if n := r.Count(); n > 0 {
		it.Versions = make([]html.Version, n)
		for i := range it.Versions {
			v := &it.Versions[i]
			v.Digest, v.Captured, v.Edited, v.Text = r.Str(), r.Str(), r.Str(), r.Str()
			v.Redacted = r.Bool()
		}
	}
	if n := r.Count(); n > 0 {
		it.Media = make([]html.Media, n)
		for i := range it.Media {
			m := &it.Media[i]
			m.Path, m.Digest, m.Type, m.Alt, m.URL = r.Str(), r.Str(), r.Str(), r.Str(), r.Str()
			m.Image = r.Bool()
		}
	}
	it.Holds = r.Strs()
	it.Redactions = r.Strs()
	if r.End() != nil {
		return it, errSpool
	}
	return it, nil
}
