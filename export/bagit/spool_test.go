package bagit

import (
	"reflect"
	"strconv"
	"testing"

	"github.com/osmarc/osmarc/export/html"
)

// fill sets every field reachable from v to a distinct non-zero value, so
// a field the spool forgets (or one added to html.Item later) shows.
func fill(t *testing.T, v reflect.Value, n *int) {
	t.Helper()
	*n++
	switch v.Kind() {
	case reflect.String:
		v.SetString("s" + strconv.Itoa(*n) + " ünï\x00<&>")
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int:
		v.SetInt(int64(*n) * -3)
	case reflect.Struct:
		for i := range v.NumField() {
			fill(t, v.Field(i), n)
		}
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 2, 2)
		for i := range 2 {
			fill(t, s.Index(i), n)
		}
		v.Set(s)
	default:
		t.Fatalf("spool test: field kind %s of html.Item not handled: teach encodeSpool and this test", v.Kind())
	}
}

func TestSpoolRoundTrip(t *testing.T) {
	var full html.Item
	n := 0
	fill(t, reflect.ValueOf(&full).Elem(), &n)
	for name, it := range map[string]html.Item{"every field set": full, "empty": {}, "one version": {Key: "x:a:1", Versions: []html.Version{{Text: "hello"}}}} {
		b := encodeSpool([]byte("junk before"), &it)
		got, err := decodeSpool(b[len("junk before"):])
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !reflect.DeepEqual(got, it) {
			t.Errorf("%s: round trip changed the item:\n got %#v\nwant %#v", name, got, it)
		}
		// A cut record is an error, never a silently shorter item.
		for cut := range len(b) - len("junk before") {
			if _, err := decodeSpool(b[len("junk before") : len("junk before")+cut]); err == nil {
				t.Fatalf("%s: record cut to %d bytes decoded without error", name, cut)
			}
		}
	}
}
