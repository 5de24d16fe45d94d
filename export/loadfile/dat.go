package loadfile

import (
	"bufio"
	"io"
	"strconv"
	"strings"
)

// Concordance DAT delimiters: þ (U+00FE) quotes each field, ASCII 20
// (DC4, 0x14) separates fields, ® (U+00AE) stands for a line break inside
// a field, and each record ends with CR LF.
const (
	Quote     = '\u00fe'
	Separator = '\x14'
	Newline   = '\u00ae'
)

// DATWriter writes a Concordance DAT file in UTF-8.
type DATWriter struct {
	w      *bufio.Writer
	fields int
}

// NewDATWriter writes the header row of fields to w.
func NewDATWriter(w io.Writer, fields []string) (*DATWriter, error) {
	d := &DATWriter{w: bufio.NewWriterSize(w, 64<<10), fields: len(fields)}
	return d, d.Row(fields)
}

// Row writes one record; values are made safe for the format: a quote
// character in a value becomes Þ (U+00DE, the capital letter, since the
// format has no escape), a separator becomes a space, and line breaks
// become ®.
func (d *DATWriter) Row(values []string) error {
	for i, v := range values {
		if i > 0 {
			d.w.WriteRune(Separator)
		}
		d.w.WriteRune(Quote)
		d.w.WriteString(DATValue(v))
		d.w.WriteRune(Quote)
	}
	_, err := d.w.WriteString("\r\n")
	return err
}

// Flush writes what is buffered.
func (d *DATWriter) Flush() error { return d.w.Flush() }

var datReplacer = strings.NewReplacer(
	"\r\n", string(Newline), "\n", string(Newline), "\r", string(Newline),
	string(Quote), "\u00de", string(Separator), " ",
)

// DATValue is v as a DAT field holds it (see Row).
func DATValue(v string) string { return datReplacer.Replace(strings.ToValidUTF8(v, "\uFFFD")) }

// OptLine is one line of an Opticon image cross-reference (.opt): the
// image key (the page's Bates number, here the DOCID), the volume, the
// image's path, "Y" on a document's first page, and the document's page
// count on its first page.
func OptLine(imageKey, volume, path string, first bool, pages int) string {
	brk, count := "", ""
	if first {
		brk, count = "Y", strconv.Itoa(pages)
	}
	return imageKey + "," + volume + "," + path + "," + brk + ",,," + count + "\r\n"
}
