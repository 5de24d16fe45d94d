package catalog

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"iter"
	"time"

	bolt "go.etcd.io/bbolt"
)

var bDestroyed = []byte("destroyed")

// Residual is what remains of a destroyed item: who it was and when and
// under what authority it went, not its content.
type Residual struct {
	Key         string    `json:"key"`
	Platform    string    `json:"platform"`
	Account     string    `json:"account"`
	ID          string    `json:"id"`
	Kind        string    `json:"kind"`
	CreatedAt   time.Time `json:"created_at"`
	FirstSeen   time.Time `json:"first_seen"`
	LastSeen    time.Time `json:"last_seen"`
	Versions    []string  `json:"versions"`
	Schedule    string    `json:"schedule"`
	DestroyedAt time.Time `json:"destroyed_at"`
	Certificate string    `json:"certificate"`
}

// Destruction is what a certificate of destruction tells the catalog.
type Destruction struct {
	Certificate string
	At          time.Time
	// Items are the keys destroyed, with the schedule each was under.
	Items map[string]string
	// Blobs are the blobs deleted from the store.
	Blobs []string
}

// Destroy removes destroyed items from the catalog, leaving a residual
// entry for each, and forgets the deleted blobs; then records the event.
// Applying the same destruction twice changes nothing more.
func (c *Catalog) Destroy(ev Event, d Destruction) error {
	return c.db.Update(func(tx *bolt.Tx) error {
		skip, err := checkNext(tx, ev)
		if err != nil || skip {
			return err
		}
		res, err := tx.CreateBucketIfNotExists(bDestroyed)
		if err != nil {
			return err
		}
		n := counters(tx)
		items, sightings, accts, blobs := tx.Bucket(bItems), tx.Bucket(bSightings), tx.Bucket(bAccounts), tx.Bucket(bBlobs)
		for key, schedule := range d.Items {
			v := items.Get([]byte(key))
			if v == nil {
				continue
			}
			var it Item
			if err := decodeItem([]byte(key), v, &it); err != nil {
				return err
			}
			r := Residual{Key: it.Key, Platform: it.Platform, Account: it.Account, ID: it.ID, Kind: it.Kind, CreatedAt: it.CreatedAt,
				FirstSeen: it.FirstSeen, LastSeen: it.LastSeen, Schedule: schedule, DestroyedAt: d.At, Certificate: d.Certificate}
			for _, ver := range it.Versions {
				r.Versions = append(r.Versions, ver.Digest)
			}
			rb, _ := json.Marshal(r)
			if err := res.Put([]byte(key), rb); err != nil {
				return err
			}
			if err := items.Delete([]byte(key)); err != nil {
				return err
			}
			prefix := append([]byte(key), 0)
			var sk [][]byte
			cur := sightings.Cursor()
			for k, _ := cur.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = cur.Next() {
				sk = append(sk, append([]byte(nil), k...))
			}
			for _, k := range sk {
				if err := sightings.Delete(k); err != nil {
					return err
				}
			}
			ak := []byte(it.Platform + "\x00" + it.Account)
			if v := accts.Get(ak); len(v) == 8 {
				cnt := binary.BigEndian.Uint64(v)
				if cnt <= 1 {
					err = accts.Delete(ak)
				} else {
					err = accts.Put(ak, binary.BigEndian.AppendUint64(nil, cnt-1))
				}
				if err != nil {
					return err
				}
			}
			n.Items--
			n.Versions -= int64(len(it.Versions))
			for _, ver := range it.Versions {
				// A version's blob without a record of its own was
				// counted with its item (versionBlobs).
				if blobs.Get([]byte(ver.Digest)) == nil {
					n.Blobs--
					n.Bytes -= ver.Size
				}
			}
			n.Destroyed++
		}
		for _, dg := range d.Blobs {
			v := blobs.Get([]byte(dg))
			if v == nil {
				continue
			}
			n.Blobs--
			if len(v) == 8 {
				n.Bytes -= int64(binary.BigEndian.Uint64(v))
			}
			if err := blobs.Delete([]byte(dg)); err != nil {
				return err
			}
		}
		n.Events++
		if err := putCounters(tx, n); err != nil {
			return err
		}
		if err := applyState(tx, ev); err != nil {
			return err
		}
		return putEvent(tx, ev)
	})
}

// Destroyed returns the residual entry of a destroyed item.
func (c *Catalog) Destroyed(key string) (Residual, error) {
	var r Residual
	err := c.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bDestroyed)
		var v []byte
		if b != nil {
			v = b.Get([]byte(key))
		}
		if v == nil {
			return fmt.Errorf("destroyed item %s: %w", key, ErrNotFound)
		}
		return json.Unmarshal(v, &r)
	})
	return r, err
}

// Residuals yields every residual entry, in key order.
func (c *Catalog) Residuals() iter.Seq2[Residual, error] {
	return func(yield func(Residual, error) bool) {
		var all []Residual
		err := c.db.View(func(tx *bolt.Tx) error {
			b := tx.Bucket(bDestroyed)
			if b == nil {
				return nil
			}
			return b.ForEach(func(k, v []byte) error {
				var r Residual
				if err := json.Unmarshal(v, &r); err != nil {
					return err
				}
				all = append(all, r)
				return nil
			})
		})
		if err != nil {
			yield(Residual{}, err)
			return
		}
		for _, r := range all {
			if !yield(r, nil) {
				return
			}
		}
	}
}

// BlobRefs yields, for every item the catalog holds, the blobs it uses:
// its versions, and the raw input and media of every sighting.
func (c *Catalog) BlobRefs(fn func(key string, digests []string) error) error {
	return c.db.View(func(tx *bolt.Tx) error {
		if err := tx.Bucket(bItems).ForEach(func(k, v []byte) error {
			var it Item
			if err := decodeItem(k, v, &it); err != nil {
				return err
			}
			ds := make([]string, 0, len(it.Versions))
			for _, ver := range it.Versions {
				ds = append(ds, ver.Digest)
			}
			return fn(string(k), ds)
		}); err != nil {
			return err
		}
		return tx.Bucket(bSightings).ForEach(func(k, v []byte) error {
			var s Sighting
			if err := decodeSighting(k, v, &s); err != nil {
				return err
			}
			key, _, _ := bytes.Cut(k, []byte{0})
			ds := s.Media
			if s.Raw != "" {
				ds = append(ds, s.Raw)
			}
			return fn(string(key), ds)
		})
	})
}

// BlobSize is the size the catalog's blobs bucket knows of a blob (0
// when unknown): of raw input and media, and of versions recorded before
// versions' blobs were left to their items (versionBlobs); the size of a
// version is in its item's record.
func (c *Catalog) BlobSize(digest string) int64 {
	var n int64
	c.db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bBlobs).Get([]byte(digest)); len(v) == 8 {
			n = int64(binary.BigEndian.Uint64(v))
		}
		return nil
	})
	return n
}

// ScanItems calls fn with every item's key and record, in key order, from
// one read transaction: for whole-catalog passes (disposition plans) that
// decode only the fields they need (DecodeItemHead, DecodeItem). fn must
// not keep the slices.
func (c *Catalog) ScanItems(fn func(key, value []byte) error) error {
	return c.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bItems).ForEach(fn)
	})
}
