package memstore_test

import (
	"testing"

	"github.com/osmarc/osmarc/archive"
	"github.com/osmarc/osmarc/archive/memstore"
	"github.com/osmarc/osmarc/archive/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) archive.BlobStore { return memstore.New(t.Name()) })
}
