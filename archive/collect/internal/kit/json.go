package kit

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Pointer builds a JSON pointer (RFC 6901) from its reference tokens.
func Pointer(parts ...any) string {
	var b strings.Builder
	for _, p := range parts {
		b.WriteByte('/')
		switch v := p.(type) {
		case int:
			b.WriteString(strconv.Itoa(v))
		case string:
			b.WriteString(strings.ReplaceAll(strings.ReplaceAll(v, "~", "~0"), "/", "~1"))
		default:
			fmt.Fprint(&b, v)
		}
	}
	return b.String()
}

// DescribeJSON says in a line what is wrong with JSON that did not decode:
// where the syntax broke, that it was cut short, or which field had the
// wrong type.
func DescribeJSON(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case err == nil:
		return ""
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "truncated JSON: it ends inside a value"
	case errors.As(err, &se):
		return fmt.Sprintf("malformed JSON at byte %d: %v", se.Offset, se)
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			field = "the body"
		}
		return fmt.Sprintf("%s: want %s, got JSON %s (at byte %d)", field, te.Type, te.Value, te.Offset)
	}
	return err.Error()
}

// Time reads a platform time: RFC 3339, or the zone-less
// "2006-01-02T15:04:05" WordPress gives in its *_gmt fields (read as UTC).
// It returns "" for an empty or unreadable time.
func Time(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02T15:04:05.999999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			if t.Year() < 1970 {
				return ""
			}
			return t.UTC().Format(time.RFC3339Nano)
		}
	}
	return ""
}

// UnmarshalPage decodes a response body that must be one JSON value,
// repairing bytes that are not UTF-8 first (the raw page is kept as it
// came; see ValidUTF8Bytes).
func UnmarshalPage(body []byte, v any) error {
	dec := json.NewDecoder(strings.NewReader(string(ValidUTF8Bytes(body))))
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("more than one JSON value in the body")
	}
	return nil
}
