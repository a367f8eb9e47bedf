package export

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// ManifestName is the file, written last, that describes a finished export.
const ManifestName = "manifest.json"

// ErrNotEmpty reports an export directory that already holds files.
var ErrNotEmpty = errors.New("export directory is not empty")

// Manifest describes one export: what was indexed, which tables were written and how many rows each holds.
type Manifest struct {
	SchemaVersion int          `json:"schema_version"`
	Minerscope    string       `json:"minerscope_version"`
	Format        Format       `json:"format"`
	Network       string       `json:"network"`
	TipHeight     int32        `json:"tip_height"`
	TipHash       string       `json:"tip_hash"`
	FromHeight    int32        `json:"from_height"` // the heights exported (per-block tables)
	ToHeight      int32        `json:"to_height"`
	CreatedAt     string       `json:"created_at"` // RFC 3339 UTC
	Tables        []TableEntry `json:"tables"`
}

// TableEntry is one written table in the manifest.
type TableEntry struct {
	Name    string   `json:"name"`
	File    string   `json:"file"`
	Rows    int64    `json:"rows"`
	Columns []Column `json:"columns"`
}

// Entry finds a table of the manifest by name.
func (m *Manifest) Entry(name string) (TableEntry, bool) {
	for _, t := range m.Tables {
		if t.Name == name {
			return t, true
		}
	}
	return TableEntry{}, false
}

// WriteManifest writes m as dir/manifest.json, atomically; an export calls it after closing every table.
func WriteManifest(dir string, m Manifest) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".manifest.*.tmp")
	if err != nil {
		return fmt.Errorf("export manifest: %w", err)
	}
	_, err = tmp.Write(append(b, '\n'))
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), filepath.Join(dir, ManifestName))
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("export manifest: %w", err)
	}
	return syncDir(dir)
}

// ReadManifest reads dir/manifest.json.
func ReadManifest(dir string) (Manifest, error) {
	var m Manifest
	b, err := os.ReadFile(filepath.Join(dir, ManifestName))
	if err != nil {
		return m, err
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("%s: %w", filepath.Join(dir, ManifestName), err)
	}
	return m, nil
}

// PrepareDir makes dir ready for an export: it creates it, or checks that it is empty. With force, a
// non-empty dir is accepted and the files of an earlier export (manifest first, then every table file in
// either format and leftover temporary files) are removed; other files are left alone.
func PrepareDir(dir string, force bool) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create export directory: %w", err)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("read export directory: %w", err)
	}
	if len(ents) == 0 {
		return nil
	}
	if !force {
		return fmt.Errorf("%w: %s holds %d file(s)", ErrNotEmpty, dir, len(ents))
	}
	// The manifest goes first, so an interrupted clean-up still reads as an unfinished export.
	if err := removeIfExists(filepath.Join(dir, ManifestName)); err != nil {
		return err
	}
	ours := map[string]bool{}
	for _, t := range TableNames() {
		ours[FileName(t, FormatCSV)], ours[FileName(t, FormatParquet)] = true, true
	}
	for _, e := range ents {
		name := e.Name()
		tmp := strings.HasPrefix(name, ".") && strings.HasSuffix(name, ".tmp") &&
			(strings.HasPrefix(name, ".manifest.") || slices.ContainsFunc(TableNames(), func(t string) bool {
				return strings.HasPrefix(name, "."+t+".")
			}))
		if ours[name] || tmp {
			if err := removeIfExists(filepath.Join(dir, name)); err != nil {
				return err
			}
		}
	}
	return nil
}

func removeIfExists(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove %s: %w", path, err)
	}
	return nil
}
