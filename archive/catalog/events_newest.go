package catalog

import (
	"encoding/json"
	"iter"

	bolt "go.etcd.io/bbolt"
)

// newestChunk is how many events EventsNewest reads per transaction.
const newestChunk = 256

// EventsNewest yields the events applied with a sequence number below
// before (0: every event), newest first. It reads the catalog in chunks of
// a few hundred events, one read transaction each, so a caller that stops
// after n events has decoded about n events, not the whole journal: pages
// that show the latest events, or scan back to a date, cost what they show.
func (c *Catalog) EventsNewest(before uint64) iter.Seq2[Event, error] {
	return func(yield func(Event, error) bool) {
		next := before
		for {
			var chunk []Event
			err := c.db.View(func(tx *bolt.Tx) error {
				cur := tx.Bucket(bEvents).Cursor()
				var k, v []byte
				if next == 0 {
					k, v = cur.Last()
				} else {
					k, v = cur.Seek(seqKey(next))
					if k == nil {
						k, v = cur.Last()
					} else {
						k, v = cur.Prev()
					}
				}
				for ; k != nil && len(chunk) < newestChunk; k, v = cur.Prev() {
					var e Event
					if err := json.Unmarshal(v, &e); err != nil {
						return err
					}
					chunk = append(chunk, e)
				}
				return nil
			})
			if err != nil {
				yield(Event{}, err)
				return
			}
			for _, e := range chunk {
				if !yield(e, nil) {
					return
				}
			}
			if len(chunk) < newestChunk {
				return
			}
			next = chunk[len(chunk)-1].Seq
			if next <= 1 {
				return
			}
		}
	}
}
