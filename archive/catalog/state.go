package catalog

import (
	"encoding/json"
	"fmt"
	"iter"
	"strings"

	bolt "go.etcd.io/bbolt"
)

var bState = []byte("state")

// stateKind says how events of one family keep their object's current
// state: an event whose type starts with Prefix holds the object's whole new
// state under Field in its data, keyed by its KeyField.
type stateKind struct {
	Prefix, Kind, Field, KeyField string
}

// stateKinds lists the record-management objects the catalog materialises
// from the journal. (Accounts keep their own bucket, the registry.)
var stateKinds = []stateKind{
	{Prefix: "schedule.", Kind: "schedules", Field: "schedule", KeyField: "id"},
	{Prefix: "hold.", Kind: "holds", Field: "hold", KeyField: "name"},
	{Prefix: "rules.", Kind: "rules", Field: "rules", KeyField: "id"},
	{Prefix: "classification.", Kind: "classifications", Field: "classification", KeyField: "key"},
	{Prefix: "disposition.", Kind: "plans", Field: "plan", KeyField: "id"},
}

func applyState(tx *bolt.Tx, ev Event) error {
	for _, k := range stateKinds {
		if !strings.HasPrefix(ev.Type, k.Prefix) {
			continue
		}
		var d map[string]json.RawMessage
		if err := json.Unmarshal(ev.Data, &d); err != nil {
			return fmt.Errorf("catalog: event %d (%s): %w", ev.Seq, ev.Type, err)
		}
		obj, ok := d[k.Field]
		if !ok {
			return nil // an event of the family that changes no object
		}
		var key map[string]json.RawMessage
		if err := json.Unmarshal(obj, &key); err != nil {
			return fmt.Errorf("catalog: event %d (%s): %s: %w", ev.Seq, ev.Type, k.Field, err)
		}
		var id string
		if err := json.Unmarshal(key[k.KeyField], &id); err != nil || id == "" {
			return fmt.Errorf("catalog: event %d (%s): %s without its %s", ev.Seq, ev.Type, k.Field, k.KeyField)
		}
		root, err := tx.CreateBucketIfNotExists(bState)
		if err != nil {
			return err
		}
		b, err := root.CreateBucketIfNotExists([]byte(k.Kind))
		if err != nil {
			return err
		}
		return b.Put([]byte(id), obj)
	}
	return nil
}

// State returns the current state of one object of kind ("schedules",
// "holds", …) as JSON.
func (c *Catalog) State(kind, key string) ([]byte, error) {
	var out []byte
	err := c.db.View(func(tx *bolt.Tx) error {
		if root := tx.Bucket(bState); root != nil {
			if b := root.Bucket([]byte(kind)); b != nil {
				if v := b.Get([]byte(key)); v != nil {
					out = append([]byte(nil), v...)
					return nil
				}
			}
		}
		return fmt.Errorf("%s %s: %w", strings.TrimSuffix(kind, "s"), key, ErrNotFound)
	})
	return out, err
}

// States yields every object of kind, in key order.
func (c *Catalog) States(kind string) iter.Seq2[[]byte, error] {
	return func(yield func([]byte, error) bool) {
		var all [][]byte
		err := c.db.View(func(tx *bolt.Tx) error {
			if root := tx.Bucket(bState); root != nil {
				if b := root.Bucket([]byte(kind)); b != nil {
					return b.ForEach(func(k, v []byte) error {
						all = append(all, append([]byte(nil), v...))
						return nil
					})
				}
			}
			return nil
		})
		if err != nil {
			yield(nil, err)
			return
		}
		for _, b := range all {
			if !yield(b, nil) {
				return
			}
		}
	}
}
