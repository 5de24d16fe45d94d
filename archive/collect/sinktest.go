package collect

import (
	"context"
	"encoding/json"
	"sync"

	"github.com/osmarc/osmarc/archive"
)

// MemorySink records what a collector sends, for unit tests. Real tests of
// a collector also run it into an archive (see RunInto).
type MemorySink struct {
	mu         sync.Mutex
	Raws       map[archive.Digest][]byte
	Items      []archive.Item
	Opts       []archive.ItemOptions
	Bads       []*archive.InputError
	Scope      *archive.Scope
	State      json.RawMessage
	Media      []archive.Digest
	MediaBytes map[archive.Digest][]byte
}

var _ Sink = (*MemorySink)(nil)

// NewMemorySink returns an empty sink.
func NewMemorySink() *MemorySink {
	return &MemorySink{Raws: map[archive.Digest][]byte{}, MediaBytes: map[archive.Digest][]byte{}}
}

func (m *MemorySink) PutRaw(ctx context.Context, body []byte, source, lines, mediaType string) (archive.Digest, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	d := archive.Sum(body)
	m.Raws[d] = append([]byte(nil), body...)
	return d, nil
}

func (m *MemorySink) AddItem(ctx context.Context, it archive.Item, o archive.ItemOptions) error {
	if err := archive.NormaliseItem(&it); err != nil {
		return &badItemError{err}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.Items = append(m.Items, it)
	m.Opts = append(m.Opts, o)
	return nil
}

type badItemError struct{ err error }

func (b *badItemError) Error() string { return b.err.Error() }
func (b *badItemError) Unwrap() error { return archive.ErrBadInput }

func (m *MemorySink) Bad(e *archive.InputError) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.Bads = append(m.Bads, e)
}

func (m *MemorySink) Complete(s archive.Scope) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.Scope = &s
}

func (m *MemorySink) SetState(state json.RawMessage) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.State = state
}

func (m *MemorySink) PutMediaFile(ctx context.Context, d *Download) error {
	b := make([]byte, d.Size)
	if _, err := d.File.ReadAt(b, 0); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.Media = append(m.Media, d.Digest)
	m.MediaBytes[d.Digest] = b
	return nil
}

// Item returns the recorded item with this id, or nil.
func (m *MemorySink) Item(id string) *archive.Item {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := len(m.Items) - 1; i >= 0; i-- {
		if m.Items[i].ID == id {
			return &m.Items[i]
		}
	}
	return nil
}
