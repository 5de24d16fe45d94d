package binrec

import (
	"errors"
	"slices"
	"testing"
)

// What is written reads back field by field, and a record cut short at
// any byte, or with a byte too many, is ErrDamaged, never a panic.
func TestRoundTripAndDamage(t *testing.T) {
	var w Writer
	w.Byte(7)
	w.Uvarint(300)
	w.Varint(-5)
	w.Str("défilé")
	w.Bytes([]byte{0, 1, 2})
	w.Bool(true)
	w.Strs([]string{"a", "", "bc"})
	w.Strs(nil)
	read := func(b []byte) (*Reader, []any) {
		r := &Reader{B: b}
		return r, []any{r.Byte(), r.Uvarint(), r.Varint(), r.Str(), string(r.Raw()), r.Bool(), r.Strs(), r.Strs()}
	}
	r, got := read(w)
	if err := r.End(); err != nil {
		t.Fatal(err)
	}
	want := []any{byte(7), uint64(300), int64(-5), "défilé", "\x00\x01\x02", true, []string{"a", "", "bc"}, []string(nil)}
	for i := range want {
		if a, ok := got[i].([]string); ok {
			if !slices.Equal(a, want[i].([]string)) {
				t.Errorf("field %d: %q, want %q", i, got[i], want[i])
			}
		} else if got[i] != want[i] {
			t.Errorf("field %d: %v, want %v", i, got[i], want[i])
		}
	}
	for n := range len(w) {
		if r, _ := read(w[:n]); !errors.Is(r.End(), ErrDamaged) {
			t.Errorf("cut at %d of %d: %v", n, len(w), r.End())
		}
	}
	if r, _ := read(append(slices.Clip(w), 0)); !errors.Is(r.End(), ErrDamaged) {
		t.Errorf("a byte too many: %v", r.End())
	}
}
