package archive

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// Files inside a data directory.
const (
	ConfigFile  = "osmarc.json"
	CatalogFile = "catalog.db"
	LockFile    = "lock"
	// DefaultStoreDir is the local store's directory inside the data
	// directory when no --store was given.
	DefaultStoreDir = "store"
)

// Config is what a data directory records about its archive.
type Config struct {
	Format    int       `json:"format"`
	Store     string    `json:"store"`
	ArchiveID string    `json:"archive_id"`
	CreatedAt time.Time `json:"created_at"`
}

// ReadConfig reads a data directory's config.
func ReadConfig(dir string) (Config, error) {
	var c Config
	b, err := os.ReadFile(filepath.Join(dir, ConfigFile))
	if errors.Is(err, fs.ErrNotExist) {
		return c, fmt.Errorf("%s: %w (run osmarc init)", dir, ErrNotInitialized)
	}
	if err != nil {
		return c, fmt.Errorf("read config: %w", err)
	}
	if err := json.Unmarshal(b, &c); err != nil {
		return c, fmt.Errorf("config %s: %w", filepath.Join(dir, ConfigFile), err)
	}
	if c.Store == "" {
		return c, fmt.Errorf("config %s: no store", filepath.Join(dir, ConfigFile))
	}
	return c, nil
}

// writeConfig writes the config atomically and durably.
func writeConfig(dir string, c Config) error {
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(dir, ConfigFile), append(b, '\n'))
}

func writeFileAtomic(path string, b []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path))
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return err
	}
	d, err := os.Open(filepath.Dir(path))
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
