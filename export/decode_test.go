package export

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/osmarc/osmarc/archive"
)

// decodeVersion decodes what encoding/json decodes, as it decodes it:
// canonical JSON, and input the faster decoder refuses or reads
// otherwise (duplicate members, invalid UTF-8, members named in another
// case, unknown members, nulls).
func TestDecodeVersionIsEncodingJSON(t *testing.T) {
	canonical, err := (&archive.Item{Platform: "x", Account: "a", ID: "1", Kind: "post", Text: "<b>é & \u2028", CreatedAt: "2024-01-01T00:00:00Z",
		Author: &archive.Author{Handle: "h"}, Media: []archive.Media{{URL: "https://example.org/1.png", Alt: "alt"}}, Hashtags: []string{"a"}}).CanonicalJSON()
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range []string{
		string(canonical),
		`{"id":"1","text":"first","text":"second"}`,
		"{\"id\":\"1\",\"text\":\"bad \xff utf-8\"}",
		`{"ID":"1","Text":"other case","PLATFORM":"x"}`,
		`{"id":"1","unknown":{"nested":[1,2]},"text":null,"author":null}`,
	} {
		var want archive.Item
		if err := json.Unmarshal([]byte(in), &want); err != nil {
			t.Fatalf("%s: encoding/json: %v", in, err)
		}
		got, err := decodeVersion([]byte(in))
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		if !reflect.DeepEqual(*got, want) {
			t.Errorf("%s:\n got %+v\nwant %+v", in, *got, want)
		}
	}
	if _, err := decodeVersion([]byte(`{"id":`)); err == nil {
		t.Error("truncated JSON decoded")
	}
}
