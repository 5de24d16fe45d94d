// Package binrec writes and reads compact binary records: fields in a
// fixed order, unsigned integers as uvarints, signed ones as zigzag
// varints, strings and byte strings as a uvarint length and the bytes,
// lists as a uvarint count and their elements, booleans as one byte. It
// is the form of the catalog's item and sighting records and of an
// export's thread spool, where JSON cost several times the CPU and the
// bytes. A record says nothing of its own layout: each user fixes its
// order (and versions it, where the record outlives a process).
package binrec

import (
	"encoding/binary"
	"errors"
)

// ErrDamaged is a record that does not decode: cut short, a length past
// its end, or bytes left over.
var ErrDamaged = errors.New("damaged record")

// Writer appends fields to a record.
type Writer []byte

func (w *Writer) Byte(c byte)      { *w = append(*w, c) }
func (w *Writer) Uvarint(v uint64) { *w = binary.AppendUvarint(*w, v) }
func (w *Writer) Varint(v int64)   { *w = binary.AppendVarint(*w, v) }
func (w *Writer) Str(s string)     { w.Uvarint(uint64(len(s))); *w = append(*w, s...) }
func (w *Writer) Bytes(b []byte)   { w.Uvarint(uint64(len(b))); *w = append(*w, b...) }
func (w *Writer) Bool(v bool)      { w.Byte(boolByte(v)) }
func (w *Writer) Strs(ss []string) {
	w.Uvarint(uint64(len(ss)))
	for _, s := range ss {
		w.Str(s)
	}
}

func boolByte(v bool) byte {
	if v {
		return 1
	}
	return 0
}

// Reader reads a record's fields in the order they were written. The
// first error sticks (Err): every later read returns a zero value.
type Reader struct {
	B   []byte // what is left to read
	Err error
}

// Fail marks the record damaged.
func (r *Reader) Fail() {
	if r.Err == nil {
		r.Err = ErrDamaged
	}
	r.B = nil
}

func (r *Reader) Byte() byte {
	if len(r.B) == 0 {
		r.Fail()
		return 0
	}
	c := r.B[0]
	r.B = r.B[1:]
	return c
}

func (r *Reader) Uvarint() uint64 {
	v, n := binary.Uvarint(r.B)
	if n <= 0 {
		r.Fail()
		return 0
	}
	r.B = r.B[n:]
	return v
}

func (r *Reader) Varint() int64 {
	v, n := binary.Varint(r.B)
	if n <= 0 {
		r.Fail()
		return 0
	}
	r.B = r.B[n:]
	return v
}

// Raw reads a byte string without copying it (it shares the record).
func (r *Reader) Raw() []byte {
	n := r.Uvarint()
	if n > uint64(len(r.B)) {
		r.Fail()
		return nil
	}
	b := r.B[:n:n]
	r.B = r.B[n:]
	return b
}

func (r *Reader) Str() string { return string(r.Raw()) }

func (r *Reader) Bool() bool { return r.Byte() == 1 }

// Count reads a list's length, which cannot exceed the bytes left (every
// element takes at least one).
func (r *Reader) Count() int {
	n := r.Uvarint()
	if n > uint64(len(r.B)) {
		r.Fail()
		return 0
	}
	return int(n)
}

func (r *Reader) Strs() []string {
	n := r.Count()
	if n == 0 {
		return nil
	}
	ss := make([]string, n)
	for i := range ss {
		ss[i] = r.Str()
	}
	return ss
}

// End is the record's error: Err, or ErrDamaged when bytes are left.
func (r *Reader) End() error {
	if r.Err == nil && len(r.B) != 0 {
		r.Fail()
	}
	return r.Err
}
