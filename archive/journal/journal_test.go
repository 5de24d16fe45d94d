package journal

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func chain(t *testing.T, n int) (keys []string, bodies [][]byte) {
	t.Helper()
	var head Head
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for i := range n {
		e, err := Next(head, at.Add(time.Duration(i)*time.Minute), "records@example.gov", "test.event", map[string]int{"i": i})
		if err != nil {
			t.Fatal(err)
		}
		b, err := Encode(e)
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, Key(e.Seq))
		bodies = append(bodies, b)
		head = Head{Seq: e.Seq, Hash: Hash(b)}
	}
	return keys, bodies
}

func check(keys []string, bodies [][]byte) error {
	v := NewVerifier()
	for i := range keys {
		if _, err := v.Check(keys[i], bodies[i]); err != nil {
			return err
		}
	}
	return nil
}

func TestChainIntact(t *testing.T) {
	keys, bodies := chain(t, 10)
	if err := check(keys, bodies); err != nil {
		t.Fatal(err)
	}
	if keys[0] != "journal/00000000000000000001.json" {
		t.Fatalf("key = %s", keys[0])
	}
}

func TestTamperingNamed(t *testing.T) {
	tests := []struct {
		name   string
		damage func(keys []string, bodies [][]byte) ([]string, [][]byte)
		want   string
	}{
		{"changed", func(k []string, b [][]byte) ([]string, [][]byte) {
			b[3] = []byte(strings.Replace(string(b[3]), "records@", "intruder@", 1))
			return k, b
		}, "event 5 does not follow event 4: event 4 was changed"},
		{"removed", func(k []string, b [][]byte) ([]string, [][]byte) {
			return append(k[:4:4], k[5:]...), append(b[:4:4], b[5:]...)
		}, "event 5 is missing"},
		{"reordered", func(k []string, b [][]byte) ([]string, [][]byte) {
			b[5], b[6] = b[6], b[5]
			return k, b
		}, "holds event 7: events were reordered"},
		{"unparsable", func(k []string, b [][]byte) ([]string, [][]byte) {
			b[2] = b[2][:10]
			return k, b
		}, "event 3 (journal/00000000000000000003.json) does not parse"},
		{"duplicated", func(k []string, b [][]byte) ([]string, [][]byte) {
			return append(k[:3:3], k[2:]...), append(b[:3:3], b[2:]...)
		}, "event 3 appears twice"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			keys, bodies := chain(t, 10)
			err := check(tc.damage(keys, bodies))
			if !errors.Is(err, ErrBroken) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestParseKey(t *testing.T) {
	for key, want := range map[string]uint64{
		"journal/00000000000000000001.json":  1,
		"journal/00000000000000000042.json":  42,
		"journal/0000000000000000001.json":   0,
		"journal/00000000000000000000.json":  0,
		"journal/x0000000000000000001.json":  0,
		"captures/00000000000000000001.json": 0,
	} {
		got, ok := ParseKey(key)
		if got != want || ok != (want != 0) {
			t.Errorf("ParseKey(%q) = %d, %v", key, got, ok)
		}
	}
}

func FuzzDecode(f *testing.F) {
	_, bodies := chain(&testing.T{}, 2)
	for _, b := range bodies {
		f.Add(b)
	}
	f.Add([]byte(`{"seq":1}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := Decode(b)
		if err != nil {
			return
		}
		if e.Seq == 0 || e.Type == "" {
			t.Fatalf("decoded an event without seq or type: %+v", e)
		}
		if _, err := Encode(e); err != nil {
			t.Fatal(err)
		}
	})
}
