package archive

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"io"

	jsonv1 "github.com/go-json-experiment/json/v1"
)

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }

type hashingReader struct {
	r io.Reader
	h hash.Hash
}

func newHashingReader(r io.Reader) *hashingReader { return &hashingReader{r: r, h: sha256.New()} }

func (h *hashingReader) Read(p []byte) (int, error) {
	n, err := h.r.Read(p)
	h.h.Write(p[:n])
	return n, err
}

func (h *hashingReader) Sum() string { return hex.EncodeToString(h.h.Sum(nil)) }

// jsonUnmarshal decodes the archive's own JSON (item versions it wrote)
// with go-json-experiment/json's v1 package: encoding/json's semantics in
// about half the time, for the paths that read every item (indexing).
func jsonUnmarshal(b []byte, v any) error { return jsonv1.Unmarshal(b, v) }
