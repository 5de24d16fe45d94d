package x

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/osmarc/osmarc/archive"
)

// MaxElementBytes bounds one element of an archive's .js file: no tweet
// comes near it, and a file whose brackets never close cannot make the
// reader hold more.
const MaxElementBytes = 16 << 20

// YTDReader reads an X account archive's data file, such as data/tweets.js:
//
//	window.YTD.tweets.part0 = [ {"tweet": {…}}, {"tweet": {…}} ]
//
// element by element, without holding more than one element in memory: it
// reads past the JavaScript assignment and then cuts the array into its
// elements by counting brackets outside strings. It does not check that an
// element is valid JSON (the caller decodes it, and an element that does
// not decode is one bad record, not the end of the file); it fails only when
// the file's structure is lost (no array, a file that ends inside an
// element, an element longer than MaxElementBytes).
type YTDReader struct {
	br   *bufio.Reader
	line int // current line, 1-based
	// Name is the assigned name without "window.", such as
	// "YTD.tweets.part0"; empty for a bare JSON array.
	Name    string
	index   int // next element's index
	started bool
	after   bool // an element was read; a ',' or ']' comes next
	done    bool
	elem    []byte
	sep     []byte
}

// NewYTDReader reads r.
func NewYTDReader(r io.Reader) *YTDReader {
	return &YTDReader{br: bufio.NewReaderSize(r, 64<<10), line: 1}
}

// Element is one element of the array.
type Element struct {
	// Index is the element's position in the array, from 0.
	Index int
	// Line is the line the element starts on, from 1.
	Line int
	// Sep is what came between the previous element and this one (the
	// comma and white space), byte for byte; for the first, the white
	// space after '['.
	Sep []byte
	// JSON is the element's bytes as they are in the file.
	JSON []byte
}

// YTDError is a structural error of an archive data file, at a line.
type YTDError struct {
	Line int
	Msg  string
}

func (e *YTDError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

func (y *YTDReader) errorf(line int, format string, args ...any) error {
	return &YTDError{Line: line, Msg: fmt.Sprintf(format, args...)}
}

var errYTDHeader = errors.New("not an archive data file: want \"window.YTD.<name>.part<N> = [\" or a JSON array")

// header reads up to and including the array's '['.
func (y *YTDReader) header() error {
	y.started = true
	var head []byte
	for {
		c, err := y.readByte()
		if err == io.EOF {
			return fmt.Errorf("%w (the file ends before the array)", errYTDHeader)
		}
		if err != nil {
			return err
		}
		if c == '[' {
			break
		}
		head = append(head, c)
		if len(head) > 4096 {
			return errYTDHeader
		}
	}
	h := strings.TrimSpace(strings.TrimPrefix(string(head), "\ufeff"))
	if h == "" {
		return nil // a bare JSON array
	}
	name, ok := strings.CutSuffix(h, "=")
	if !ok || !strings.HasPrefix(name, "window.") {
		return errYTDHeader
	}
	y.Name = strings.TrimSpace(strings.TrimPrefix(name, "window."))
	return nil
}

func (y *YTDReader) readByte() (byte, error) {
	c, err := y.br.ReadByte()
	if err == nil && c == '\n' {
		y.line++
	}
	return c, err
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// skipSpace reads white space into y.sep and returns the next byte, unread.
func (y *YTDReader) skipSpace() (byte, error) {
	for {
		b, err := y.br.Peek(1)
		if err != nil {
			return 0, err
		}
		if !isSpace(b[0]) {
			return b[0], nil
		}
		c, _ := y.readByte()
		y.sep = append(y.sep, c)
	}
}

// Next returns the next element; io.EOF after the array's ']'. The
// element's bytes are valid until the next call.
func (y *YTDReader) Next() (Element, error) {
	if y.done {
		return Element{}, io.EOF
	}
	if !y.started {
		if err := y.header(); err != nil {
			y.done = true
			return Element{}, err
		}
	}
	y.sep = y.sep[:0]
	c, err := y.skipSpace()
	if err != nil {
		return Element{}, y.truncated(err, "before the array closes")
	}
	if y.after {
		if c == ']' {
			return Element{}, y.end()
		}
		if c != ',' {
			y.done = true
			return Element{}, y.errorf(y.line, "after element %d: want ',' or ']', got %q", y.index-1, c)
		}
		y.readByte()
		y.sep = append(y.sep, ',')
		if c, err = y.skipSpace(); err != nil {
			return Element{}, y.truncated(err, "after a comma")
		}
	} else if c == ']' {
		return Element{}, y.end()
	}
	if c == ']' || c == ',' {
		y.done = true
		return Element{}, y.errorf(y.line, "element %d: want a value, got %q", y.index, c)
	}
	el := Element{Index: y.index, Line: y.line}
	if err := y.value(); err != nil {
		y.done = true
		return Element{}, err
	}
	y.index++
	y.after = true
	el.Sep, el.JSON = y.sep, y.elem
	return el, nil
}

func (y *YTDReader) truncated(err error, where string) error {
	y.done = true
	if err == io.EOF {
		return y.errorf(y.line, "truncated: the file ends %s", where)
	}
	return err
}

// end reads the closing ']' and what may follow it: white space and a ';'.
func (y *YTDReader) end() error {
	y.readByte()
	y.done = true
	for {
		c, err := y.readByte()
		if err == io.EOF {
			return io.EOF
		}
		if err != nil {
			return err
		}
		if !isSpace(c) && c != ';' {
			return y.errorf(y.line, "unexpected %q after the array", c)
		}
	}
}

// value reads one JSON value into y.elem, counting brackets outside
// strings. It scans what the buffered reader holds in a tight loop, not a
// call a byte.
func (y *YTDReader) value() error {
	y.elem = y.elem[:0]
	start := y.line
	first, err := y.readByte()
	if err != nil {
		return y.truncated(err, "inside element "+strconv.Itoa(y.index))
	}
	y.elem = append(y.elem, first)
	depth, inString, esc := 0, false, false
	switch first {
	case '{', '[':
		depth = 1
	case '"':
		inString = true
	default:
		// A scalar: read to the next delimiter.
		for {
			b, err := y.br.Peek(1)
			if err != nil || isSpace(b[0]) || b[0] == ',' || b[0] == ']' {
				return nil
			}
			c, _ := y.readByte()
			y.elem = append(y.elem, c)
			if len(y.elem) > MaxElementBytes {
				return y.errorf(start, "element %d is longer than %d bytes", y.index, MaxElementBytes)
			}
		}
	}
	for {
		if y.br.Buffered() == 0 {
			if _, err := y.br.Peek(1); err == io.EOF {
				return y.errorf(y.line, "truncated: the file ends inside element %d (which starts on line %d)", y.index, start)
			} else if err != nil {
				return err
			}
		}
		buf, _ := y.br.Peek(y.br.Buffered())
		n, done := 0, false
	scan:
		for n < len(buf) {
			c := buf[n]
			n++
			switch {
			case c == '\n':
				y.line++
			case inString:
				switch {
				case esc:
					esc = false
				case c == '\\':
					esc = true
				case c == '"':
					inString = false
					if depth == 0 {
						done = true
						break scan
					}
				}
			case c == '"':
				inString = true
			case c == '{' || c == '[':
				depth++
			case c == '}' || c == ']':
				depth--
				if depth == 0 {
					done = true
					break scan
				}
			}
		}
		y.elem = append(y.elem, buf[:n]...)
		y.br.Discard(n)
		if len(y.elem) > MaxElementBytes {
			return y.errorf(start, "element %d is longer than %d bytes", y.index, MaxElementBytes)
		}
		if done {
			return nil
		}
	}
}

// sniffYTD says whether the start of a file looks like an archive data
// file named like one of names ("tweets", "tweet", "deleted_tweets").
func sniffYTD(head []byte, names ...string) bool {
	h := bytes.TrimLeft(bytes.TrimPrefix(head, []byte("\ufeff")), " \t\r\n")
	for _, n := range names {
		if bytes.HasPrefix(h, []byte("window.YTD."+n+".part")) {
			return true
		}
	}
	return false
}

// structureError is the bad record a data file's lost structure makes,
// at the YTDError's line when it has one.
func structureError(source string, err error) *archive.InputError {
	var ye *YTDError
	if errors.As(err, &ye) {
		return &archive.InputError{Source: source, Line: ye.Line, Err: errors.New(ye.Msg)}
	}
	return &archive.InputError{Source: source, Err: err}
}
