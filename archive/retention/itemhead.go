package retention

import (
	"bytes"
	"encoding/json"
	"time"
)

// itemHead is what a disposition plan reads of every catalog item: its
// key, platform, account and creation time.
type itemHead struct {
	Key       string    `json:"key"`
	Platform  string    `json:"platform"`
	Account   string    `json:"account"`
	CreatedAt time.Time `json:"created_at"`
}

// decodeItemHead reads an item head from a catalog record. The catalog
// writes an item's fields in a fixed order (key, platform, account, id,
// kind, created_at, …); when the record starts that way with plain
// strings, they are read directly, which is some hundred times faster
// than decoding the whole record (a plan reads a million of them). Any
// other record is decoded by encoding/json; on any valid JSON the result
// is encoding/json's (FuzzDecodeItemHead checks it). The rest of the
// record is not checked here: osmarc verify checks the catalog.
func decodeItemHead(v []byte, h *itemHead) error {
	if fastItemHead(v, h) {
		return nil
	}
	*h = itemHead{}
	return json.Unmarshal(v, h)
}

func fastItemHead(v []byte, h *itemHead) bool {
	rest := v
	field := func(name string) (string, bool) {
		p := `"` + name + `":"`
		if !bytes.HasPrefix(rest, []byte(p)) {
			return "", false
		}
		rest = rest[len(p):]
		end := bytes.IndexByte(rest, '"')
		if end < 0 {
			return "", false
		}
		s := rest[:end]
		for _, c := range s {
			if c == '\\' || c < 0x20 || c >= 0x80 {
				return "", false // escapes, control or non-ASCII bytes: let encoding/json judge
			}
		}
		rest = rest[end+1:]
		if len(rest) == 0 || rest[0] != ',' {
			return "", false
		}
		rest = rest[1:]
		return string(s), true
	}
	if len(rest) == 0 || rest[0] != '{' {
		return false
	}
	rest = rest[1:]
	var ok bool
	var created string
	if h.Key, ok = field("key"); !ok {
		return false
	}
	if h.Platform, ok = field("platform"); !ok {
		return false
	}
	if h.Account, ok = field("account"); !ok {
		return false
	}
	if _, ok = field("id"); !ok {
		return false
	}
	if _, ok = field("kind"); !ok {
		return false
	}
	if created, ok = field("created_at"); !ok {
		return false
	}
	var t time.Time
	if err := t.UnmarshalText([]byte(created)); err != nil {
		return false // encoding/json's own strict RFC 3339, so it can say what is wrong
	}
	if trimmed := bytes.TrimRight(rest, " \t\r\n"); len(trimmed) == 0 || trimmed[len(trimmed)-1] != '}' {
		return false
	}
	// The same record must not name a field twice (encoding/json would
	// take the last); the catalog never does, but a record that might is
	// decoded in full.
	for i := 0; i < len(rest); i++ {
		j := bytes.IndexByte(rest[i:], '"')
		if j < 0 {
			break
		}
		i += j
		if t := rest[i:]; bytes.HasPrefix(t, []byte(`"key"`)) || bytes.HasPrefix(t, []byte(`"platform"`)) ||
			bytes.HasPrefix(t, []byte(`"account"`)) || bytes.HasPrefix(t, []byte(`"created_at"`)) {
			return false
		}
	}
	h.CreatedAt = t
	return true
}
