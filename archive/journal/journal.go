// Package journal defines the archive's hash-chained, append-only log of
// record-management events: the format of one event, where it lives in the
// store, and the check that the chain is whole.
//
// Each event is one object, journal/<20-digit seq>.json, holding a JSON
// object with its sequence number, time (UTC), actor, type, data and the
// SHA-256 of the previous event's bytes exactly as stored. Sequence numbers
// start at 1 and have no gaps. Changing, removing or reordering an event
// breaks the chain at that event, and Verifier names the first one that is
// wrong. The package does no I/O: the archive reads and writes the objects
// and hands their bytes here.
package journal

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Prefix is where events live in the store.
const Prefix = "journal/"

// Event types written by the archive core. Later parts add their own.
const (
	TypeArchiveCreated  = "archive.created"
	TypeStoreConfigured = "store.configured"
	TypeArchiveAttached = "archive.attached"
	TypeCapture         = "capture.recorded"
)

// Event is one journal entry.
type Event struct {
	Seq   uint64          `json:"seq"`
	Time  time.Time       `json:"time"`
	Actor string          `json:"actor"`
	Type  string          `json:"type"`
	Data  json.RawMessage `json:"data,omitempty"`
	// Prev is the hex SHA-256 of the previous event's stored bytes; empty
	// for the first event.
	Prev string `json:"prev"`
}

// Head is the end of the chain: the last event's number and hash.
type Head struct {
	Seq  uint64 `json:"seq"`
	Hash string `json:"hash"`
}

// ErrBroken means the chain is not whole; the message names the event.
var ErrBroken = errors.New("journal chain broken")

// Key is the store key of event seq.
func Key(seq uint64) string { return fmt.Sprintf("%s%020d.json", Prefix, seq) }

// ParseKey returns the sequence number a key names.
func ParseKey(key string) (uint64, bool) {
	s, ok := strings.CutPrefix(key, Prefix)
	if !ok {
		return 0, false
	}
	s, ok = strings.CutSuffix(s, ".json")
	if !ok || len(s) != 20 {
		return 0, false
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n == 0 {
		return 0, false
	}
	return n, true
}

// Hash is the chain hash of an event's stored bytes.
func Hash(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// Next builds the event that follows head.
func Next(head Head, at time.Time, actor, typ string, data any) (Event, error) {
	var raw json.RawMessage
	if data != nil {
		b, err := json.Marshal(data)
		if err != nil {
			return Event{}, fmt.Errorf("journal: encode %s data: %w", typ, err)
		}
		raw = b
	}
	if typ == "" {
		return Event{}, fmt.Errorf("journal: event without a type")
	}
	return Event{Seq: head.Seq + 1, Time: at.UTC(), Actor: actor, Type: typ, Data: raw, Prev: head.Hash}, nil
}

// Encode is the stored form of e: compact JSON and a newline.
func Encode(e Event) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(e); err != nil {
		return nil, fmt.Errorf("journal: encode event %d: %w", e.Seq, err)
	}
	return buf.Bytes(), nil
}

// Decode reads a stored event.
func Decode(b []byte) (Event, error) {
	var e Event
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		return Event{}, fmt.Errorf("journal: decode: %w", err)
	}
	if e.Seq == 0 || e.Type == "" {
		return Event{}, fmt.Errorf("journal: decode: event without seq or type")
	}
	return e, nil
}

// Verifier checks events one at a time, in key order, from the first.
type Verifier struct {
	head Head
}

// NewVerifier starts a check at the beginning of the chain.
func NewVerifier() *Verifier { return &Verifier{} }

// Resume continues a check after an already trusted head.
func Resume(h Head) *Verifier { return &Verifier{head: h} }

// Head is the last event accepted.
func (v *Verifier) Head() Head { return v.head }

// Check accepts the event stored under key with bytes b, or says why the
// chain breaks there. After an error the verifier stays where it was.
func (v *Verifier) Check(key string, b []byte) (Event, error) {
	want := v.head.Seq + 1
	seq, ok := ParseKey(key)
	if !ok {
		return Event{}, fmt.Errorf("%w: %s is not an event key", ErrBroken, key)
	}
	if seq != want {
		if seq > want {
			return Event{}, fmt.Errorf("%w: event %d is missing (the journal goes from %d to %d)", ErrBroken, want, v.head.Seq, seq)
		}
		return Event{}, fmt.Errorf("%w: event %d appears twice", ErrBroken, seq)
	}
	e, err := Decode(b)
	if err != nil {
		return Event{}, fmt.Errorf("%w: event %d (%s) does not parse: %v", ErrBroken, seq, key, err)
	}
	if e.Seq != seq {
		return Event{}, fmt.Errorf("%w: %s holds event %d: events were reordered or replaced", ErrBroken, key, e.Seq)
	}
	if e.Prev != v.head.Hash {
		if seq == 1 {
			return Event{}, fmt.Errorf("%w: event 1 names a previous event", ErrBroken)
		}
		return Event{}, fmt.Errorf("%w: event %d does not follow event %d: event %d was changed, or event %d was", ErrBroken, seq, seq-1, seq-1, seq)
	}
	v.head = Head{Seq: seq, Hash: Hash(b)}
	return e, nil
}
