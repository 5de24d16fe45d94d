package archive

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"hash"
	"io"
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

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
