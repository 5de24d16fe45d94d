package warc

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestRecordsReadBackWithWarcio(t *testing.T) {
	file := filepath.Join(t.TempDir(), "t.warc.gz")
	f, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	w := NewRecordWriter(f, "test-seed")
	when := time.Date(2026, 3, 1, 14, 30, 0, 0, time.UTC)
	info, err := w.WriteBytes(Record{Type: TypeWarcinfo, Date: when, ContentType: "application/warc-fields"},
		Fields([]Field{{"software", "osmarc test"}, {"format", "WARC File Format 1.1"}}))
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"text":"Bonjour à tous, élève — ünïcödé"}`)
	res, err := w.WriteBytes(Record{Type: TypeResource, Date: when.Add(time.Millisecond), TargetURI: "https://example.org/api?q=1",
		ContentType: "application/json", PayloadDigest: true, Fields: []Field{{"WARC-Warcinfo-ID", info}}}, body)
	if err != nil {
		t.Fatal(err)
	}
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	if _, err := w.Write(Record{Type: TypeResource, Date: when, TargetURI: "https://example.org/big.bin", ContentType: "application/octet-stream"},
		bytes.NewReader(big), int64(len(big)), sha256.Sum256(big)); err != nil {
		t.Fatal(err)
	}
	meta := []byte("{\"a\":1}\r\nline\nbreak")
	if _, err := w.WriteBytes(Record{Type: TypeMetadata, Date: when, TargetURI: "urn:osmarc:item:x", ContentType: "application/json",
		Fields: []Field{{"WARC-Refers-To", res}, {"WARC-Concurrent-To", res}, {"WARC-Concurrent-To", info}, {"X-Evil", "a\r\nWARC-Type: response"}}}, meta); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Close()

	recs := readWithWarcio(t, file)
	if len(recs) != 4 {
		t.Fatalf("warcio read %d records, want 4", len(recs))
	}
	wantBlocks := [][]byte{nil, body, big, meta}
	for i, r := range recs {
		if r.Protocol != "WARC/1.1" {
			t.Errorf("record %d: protocol %q", i, r.Protocol)
		}
		if wantBlocks[i] != nil && !bytes.Equal(r.Block, wantBlocks[i]) {
			t.Errorf("record %d: block differs", i)
		}
		if got := "sha256:" + r.SHA256; r.Get("WARC-Block-Digest") != got {
			t.Errorf("record %d: WARC-Block-Digest %s, block hashes to %s", i, r.Get("WARC-Block-Digest"), got)
		}
		if r.Get("Content-Length") != itoa(r.Length) {
			t.Errorf("record %d: Content-Length %s, block is %d bytes", i, r.Get("Content-Length"), r.Length)
		}
	}
	if recs[1].Get("WARC-Payload-Digest") != recs[1].Get("WARC-Block-Digest") || recs[1].Get("WARC-Date") != "2026-03-01T14:30:00.001Z" {
		t.Errorf("resource record headers: %v", recs[1].Headers)
	}
	if got := recs[3].Header("WARC-Concurrent-To"); len(got) != 2 || got[0] != res || got[1] != info {
		t.Errorf("WARC-Concurrent-To = %v, want [%s %s]", got, res, info)
	}
	if recs[3].Type != TypeMetadata || recs[3].Get("X-Evil") != "a  WARC-Type: response" {
		t.Errorf("a header value with CRLF was not kept on one line: %v", recs[3].Headers)
	}

	// Each record is its own gzip member, starting at the offset warcio
	// reports.
	raw, _ := os.ReadFile(file)
	offsets := memberOffsets(t, raw)
	if len(offsets) != 4 {
		t.Fatalf("%d gzip members, want one per record (4)", len(offsets))
	}
	for i := range recs {
		if recs[i].Offset != offsets[i] {
			t.Errorf("record %d at offset %d, gzip member at %d", i, recs[i].Offset, offsets[i])
		}
	}
}

// memberOffsets splits a multi-member gzip file into its members.
func memberOffsets(t testing.TB, raw []byte) []int64 {
	t.Helper()
	var offs []int64
	r := bytes.NewReader(raw)
	for r.Len() > 0 {
		offs = append(offs, int64(len(raw)-r.Len()))
		zr, err := gzip.NewReader(r)
		if err != nil {
			t.Fatal(err)
		}
		zr.Multistream(false)
		if _, err := io.Copy(io.Discard, zr); err != nil {
			t.Fatal(err)
		}
	}
	return offs
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestWriteRefusesABlockThatIsNotItsDigest(t *testing.T) {
	var buf bytes.Buffer
	w := NewRecordWriter(&buf, "")
	good := []byte("content")
	_, err := w.Write(Record{Type: TypeResource, TargetURI: "urn:x"}, strings.NewReader("contenT"), 7, sha256.Sum256(good))
	if !errors.Is(err, ErrDigest) {
		t.Fatalf("err = %v, want ErrDigest", err)
	}
	if _, err := w.WriteBytes(Record{Type: TypeResource}, good); err == nil {
		t.Fatal("a writer that failed went on writing")
	}
	w2 := NewRecordWriter(io.Discard, "")
	if _, err := w2.Write(Record{Type: TypeResource}, strings.NewReader("short"), 7, sha256.Sum256(good)); !errors.Is(err, ErrDigest) {
		t.Fatalf("short block: err = %v", err)
	}
}

func TestRecordIDs(t *testing.T) {
	a, b := NewRecordWriter(io.Discard, "export-1"), NewRecordWriter(io.Discard, "export-1")
	c := NewRecordWriter(io.Discard, "export-2")
	ida, idb, idc := a.NewID(), b.NewID(), c.NewID()
	if ida != idb || ida == idc || a.NewID() == ida {
		t.Errorf("seeded ids: %s %s %s", ida, idb, idc)
	}
	if !strings.HasPrefix(ida, "<urn:uuid:") || len(ida) != len("<urn:uuid:>")+36 {
		t.Errorf("id %q is not <urn:uuid:…>", ida)
	}
	r1, r2 := NewRecordWriter(io.Discard, "").NewID(), NewRecordWriter(io.Discard, "").NewID()
	if r1 == r2 {
		t.Error("random ids repeat")
	}
}

func TestTargetURI(t *testing.T) {
	for _, c := range []struct{ in, kind, want string }{
		{"https://graph.facebook.com/v19.0/101/feed?after=abc", "raw", "https://graph.facebook.com/v19.0/101/feed?after=abc"},
		{"https://example.org/a b", "raw", "https://example.org/a%20b"},
		{"tweets.js", "source", "urn:osmarc:source:tweets.js"},
		{"data/your posts 1.json", "source", "urn:osmarc:source:data%2Fyour%20posts%201.json"},
		{"at://did:plc:abc/app.bsky.feed.post/1", "raw", "at://did:plc:abc/app.bsky.feed.post/1"},
	} {
		if got := TargetURI(c.in, c.kind); got != c.want {
			t.Errorf("TargetURI(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// Records compressed on other goroutines are written in the order they
// were given, each its own gzip member, with small and large (streamed)
// blocks interleaved; Offset and Flush see every record given.
func TestRecordsKeepTheirOrder(t *testing.T) {
	var buf bytes.Buffer
	w := NewRecordWriter(&buf, "order")
	var ids []string
	var blocks [][]byte
	for i := range 300 {
		size := 10 + i*37
		if i%50 == 7 {
			size = inlineBlock + 1 + i // streamed
		}
		b := bytes.Repeat([]byte{byte('a' + i%26)}, size)
		copy(b, strconv.Itoa(i))
		var id string
		var err error
		if i%2 == 0 {
			id, err = w.WriteBytes(Record{Type: TypeResource, TargetURI: "urn:x:" + strconv.Itoa(i)}, b)
		} else {
			id, err = w.Write(Record{Type: TypeResource, TargetURI: "urn:x:" + strconv.Itoa(i)}, bytes.NewReader(b), int64(len(b)), sha256.Sum256(b))
		}
		if err != nil {
			t.Fatal(err)
		}
		ids, blocks = append(ids, id), append(blocks, b)
		if i == 150 && w.Offset() != int64(buf.Len())+int64(w.out.Buffered()) {
			t.Fatal("Offset did not wait for the records given")
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	r := bytes.NewReader(buf.Bytes())
	for i := range ids {
		zr, err := gzip.NewReader(r)
		if err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		zr.Multistream(false)
		rec, err := io.ReadAll(zr)
		if err != nil {
			t.Fatal(err)
		}
		head, block, ok := bytes.Cut(rec, []byte("\r\n\r\n"))
		if !ok || !bytes.Contains(head, []byte("WARC-Record-ID: "+ids[i]+"\r\n")) || !bytes.Equal(block, append(blocks[i], "\r\n\r\n"...)) {
			t.Fatalf("record %d is not the %dth given: %.200q", i, i, rec)
		}
	}
	if r.Len() != 0 {
		t.Fatalf("%d bytes after the last record", r.Len())
	}
}
