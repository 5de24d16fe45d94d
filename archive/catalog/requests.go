package catalog

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strings"

	bolt "go.etcd.io/bbolt"
)

// bRequests holds the events of open-records requests ("request.*"), each
// filed under the request it names; archive/request folds them into the
// request's state.
var bRequests = []byte("requests")

// applyRequest files a "request.*" event under the open-records request
// it names (its data's "request" field), so the request's events can be
// read back in order without scanning the journal: key id, 0, seq.
func applyRequest(tx *bolt.Tx, ev Event) error {
	if !strings.HasPrefix(ev.Type, "request.") {
		return nil
	}
	var d struct {
		Request string `json:"request"`
	}
	if err := json.Unmarshal(ev.Data, &d); err != nil || d.Request == "" || strings.IndexByte(d.Request, 0) >= 0 {
		return fmt.Errorf("catalog: event %d (%s) names no request", ev.Seq, ev.Type)
	}
	b, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	bk, err := tx.CreateBucketIfNotExists(bRequests)
	if err != nil {
		return err
	}
	return bk.Put(requestKey(d.Request, ev.Seq), b)
}

func requestKey(id string, seq uint64) []byte {
	return binary.BigEndian.AppendUint64(append([]byte(id), 0), seq)
}

// RequestIDs lists the ids of the open-records requests that have events,
// in id order.
func (c *Catalog) RequestIDs() ([]string, error) {
	var out []string
	err := c.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bRequests)
		if b == nil {
			return nil
		}
		cur := b.Cursor()
		for k, _ := cur.First(); k != nil; {
			id, _, _ := bytes.Cut(k, []byte{0})
			out = append(out, string(id))
			// Skip to the first key after this id's events.
			k, _ = cur.Seek(append(append([]byte(nil), id...), 1))
		}
		return nil
	})
	return out, err
}

// RequestEvents returns the events of one request in journal order;
// ErrNotFound when it has none.
func (c *Catalog) RequestEvents(id string) ([]Event, error) {
	var out []Event
	err := c.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bRequests)
		if b == nil {
			return nil
		}
		prefix := append([]byte(id), 0)
		cur := b.Cursor()
		for k, v := cur.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = cur.Next() {
			var e Event
			if err := json.Unmarshal(v, &e); err != nil {
				return fmt.Errorf("catalog: request %s event: %w", id, err)
			}
			out = append(out, e)
		}
		return nil
	})
	if err == nil && len(out) == 0 {
		err = fmt.Errorf("request %s: %w", id, ErrNotFound)
	}
	return out, err
}
