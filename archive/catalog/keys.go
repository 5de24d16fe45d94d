package catalog

import (
	"bytes"
	"fmt"
	"iter"

	bolt "go.etcd.io/bbolt"
)

// Keys yields the keys of the items whose keys begin with prefix, in key
// order, without decoding the items (a listing that needs only keys, such
// as an export of every item, then reads each item when it gets to it).
// Like Items it reads chunks of keys, each in its own read transaction,
// so a long listing does not pin one transaction for its whole length.
func (c *Catalog) Keys(prefix string) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		var after []byte
		for {
			chunk := make([]string, 0, 1000)
			done := false
			err := c.db.View(func(tx *bolt.Tx) error {
				cur := tx.Bucket(bItems).Cursor()
				var k []byte
				if after == nil {
					k, _ = cur.Seek([]byte(prefix))
				} else if k, _ = cur.Seek(after); k != nil && bytes.Equal(k, after) {
					k, _ = cur.Next()
				}
				for ; k != nil && len(chunk) < cap(chunk); k, _ = cur.Next() {
					if !bytes.HasPrefix(k, []byte(prefix)) {
						break
					}
					chunk = append(chunk, string(k))
				}
				done = k == nil || !bytes.HasPrefix(k, []byte(prefix))
				return nil
			})
			if err != nil {
				yield("", err)
				return
			}
			for _, k := range chunk {
				if !yield(k, nil) {
					return
				}
			}
			if done || len(chunk) == 0 {
				return
			}
			after = []byte(chunk[len(chunk)-1])
		}
	}
}

// ItemSightings returns an item and every capture that saw it, as Item
// and Sightings do, from one read transaction: for exports, which read
// both for every item.
func (c *Catalog) ItemSightings(key string) (Item, []Sighting, error) {
	var it Item
	var out []Sighting
	err := c.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bItems).Get([]byte(key))
		if v == nil {
			return fmt.Errorf("item %s: %w", key, ErrNotFound)
		}
		if err := decodeItem([]byte(key), v, &it); err != nil {
			return err
		}
		var err error
		out, err = sightingsIn(tx, key)
		return err
	})
	return it, out, err
}
