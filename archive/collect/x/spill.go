package x

import (
	"bufio"
	"encoding/json"
	"os"
	"slices"
)

// spill is a temporary file of JSON records, each read back by where it
// was put: what an import must keep until later but need not hold in
// memory (the held versions of edited tweets, an archive's long posts).
// Memory keeps a spillRef, a few bytes, of each record.
type spill struct {
	f    *os.File
	w    *bufio.Writer
	size int64
	buf  []byte
}

// spillRef is where a record is in its spill file.
type spillRef struct{ off, n int64 }

// newSpill creates the file (named osmarc-x-<what>-… in the temporary
// folder); close removes it.
func newSpill(what string) (*spill, error) {
	f, err := os.CreateTemp("", "osmarc-x-"+what+"-*")
	if err != nil {
		return nil, err
	}
	return &spill{f: f, w: bufio.NewWriterSize(f, 64<<10)}, nil
}

// put appends v as JSON.
func (s *spill) put(v any) (spillRef, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return spillRef{}, err
	}
	if _, err := s.w.Write(b); err != nil {
		return spillRef{}, err
	}
	r := spillRef{off: s.size, n: int64(len(b))}
	s.size += r.n
	return r, nil
}

// get reads the record at r into v. Not safe for concurrent use.
func (s *spill) get(r spillRef, v any) error {
	if s.w.Buffered() > 0 {
		if err := s.w.Flush(); err != nil {
			return err
		}
	}
	s.buf = slices.Grow(s.buf[:0], int(r.n))[:r.n]
	if _, err := s.f.ReadAt(s.buf, r.off); err != nil {
		return err
	}
	return json.Unmarshal(s.buf, v)
}

// close removes the file; a nil spill is closed already.
func (s *spill) close() {
	if s == nil {
		return
	}
	name := s.f.Name()
	s.f.Close()
	os.Remove(name)
}
