// Package dir is a registry.Source backed by a directory: one photo per
// person named <id_number>.jpg (or .jpeg, .png) next to an index that gives
// each ID number its name, either index.csv (rows "id_number,name", an
// optional header row) or index.json (an array of {"id_number","name"}).
//
// The index is re-read when its modification time or size changes, so an
// operator can edit it in place; photos are read from disk on every lookup.
// A record in the index without a photo file is a record without a photo
// (registry.ErrPhotoMissing); a photo without an index row is not found.
package dir

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/facekit/facekit/store/registry"
)

// Index file names, tried in this order.
const (
	IndexCSV  = "index.csv"
	IndexJSON = "index.json"
)

// PhotoExtensions are the photo file extensions looked for, in order.
var PhotoExtensions = []string{".jpg", ".jpeg", ".png"}

// ErrNoIndex is returned by Open when the directory has neither index file.
var ErrNoIndex = errors.New("dir: no index.csv or index.json")

// Record is one index row: a normalised ID number and name.
type Record struct {
	IDNumber string `json:"id_number"`
	Name     string `json:"name"`
}

type entry struct {
	name  string
	stems []string // file names without extension to try: normalised, then as written
}

// Source is a directory of registered photos. It is safe for concurrent use.
type Source struct {
	dir   string
	index string // path of the index file in use

	mu      sync.RWMutex
	entries map[string]entry
	modTime time.Time
	size    int64
}

// Open reads the index of the directory at path. Every index row must hold a
// valid ID number and name (an invalid row is a configuration error,
// reported with its line or position); an ID number may appear once.
func Open(path string) (*Source, error) {
	s := &Source{dir: path}
	for _, name := range []string{IndexCSV, IndexJSON} {
		p := filepath.Join(path, name)
		if _, err := os.Stat(p); err == nil {
			s.index = p
			break
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("dir: open registry %s: %w", path, err)
		}
	}
	if s.index == "" {
		return nil, fmt.Errorf("dir: open registry %s: %w", path, ErrNoIndex)
	}
	if err := s.Reload(); err != nil {
		return nil, err
	}
	return s, nil
}

// Reload re-reads the index. On error the previous index stays in use.
func (s *Source) Reload() error {
	fi, err := os.Stat(s.index)
	if err != nil {
		return fmt.Errorf("dir: stat index: %w", err)
	}
	data, err := os.ReadFile(s.index)
	if err != nil {
		return fmt.Errorf("dir: read index: %w", err)
	}
	var entries map[string]entry
	if strings.HasSuffix(s.index, ".json") {
		entries, err = parseJSON(data)
	} else {
		entries, err = parseCSV(data)
	}
	if err != nil {
		return fmt.Errorf("dir: %s: %w", s.index, err)
	}
	s.mu.Lock()
	s.entries, s.modTime, s.size = entries, fi.ModTime(), fi.Size()
	s.mu.Unlock()
	return nil
}

// reloadIfChanged picks up edits to the index. A stat per lookup costs
// microseconds; a broken edit keeps the previous index serving.
func (s *Source) reloadIfChanged() {
	fi, err := os.Stat(s.index)
	if err != nil {
		return
	}
	s.mu.RLock()
	same := fi.ModTime().Equal(s.modTime) && fi.Size() == s.size
	s.mu.RUnlock()
	if !same {
		_ = s.Reload()
	}
}

// Records returns the index rows sorted by ID number.
func (s *Source) Records() []Record {
	s.reloadIfChanged()
	s.mu.RLock()
	out := make([]Record, 0, len(s.entries))
	for id, e := range s.entries {
		out = append(out, Record{IDNumber: id, Name: e.name})
	}
	s.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].IDNumber < out[j].IDNumber })
	return out
}

// Lookup returns the photo of idNumber if name matches its index row.
// Returns registry.ErrInvalidIDNumber, ErrInvalidName, ErrNotFound,
// ErrNameMismatch, ErrPhotoMissing (no photo file, or an empty one),
// ErrPhotoUnusable (too large or not an image) or ErrUnavailable (I/O error).
func (s *Source) Lookup(ctx context.Context, idNumber, name string) (registry.Photo, error) {
	id, nm, err := registry.Validate(idNumber, name)
	if err != nil {
		return registry.Photo{}, err
	}
	if err := ctx.Err(); err != nil {
		return registry.Photo{}, fmt.Errorf("%w: %w", registry.ErrUnavailable, err)
	}
	s.reloadIfChanged()
	s.mu.RLock()
	e, ok := s.entries[id]
	s.mu.RUnlock()
	if !ok {
		return registry.Photo{}, fmt.Errorf("dir: %s: %w", id, registry.ErrNotFound)
	}
	if e.name != nm {
		return registry.Photo{}, fmt.Errorf("dir: %s: %w", id, registry.ErrNameMismatch)
	}
	img, err := s.readPhoto(e)
	if err != nil {
		return registry.Photo{}, fmt.Errorf("dir: %s: %w", id, err)
	}
	ct := http.DetectContentType(img)
	if !strings.HasPrefix(ct, "image/") {
		return registry.Photo{}, fmt.Errorf("dir: %s: %w: content is %s", id, registry.ErrPhotoUnusable, ct)
	}
	return registry.Photo{IDNumber: id, Name: nm, Image: img, ContentType: ct}, nil
}

func (s *Source) readPhoto(e entry) ([]byte, error) {
	for _, stem := range e.stems {
		for _, ext := range PhotoExtensions {
			p := filepath.Join(s.dir, stem+ext)
			f, err := os.Open(p)
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("%w: %w", registry.ErrUnavailable, err)
			}
			data, err := io.ReadAll(io.LimitReader(f, registry.MaxPhotoBytes+1))
			f.Close()
			switch {
			case err != nil:
				return nil, fmt.Errorf("%w: read %s: %w", registry.ErrUnavailable, p, err)
			case len(data) == 0:
				return nil, registry.ErrPhotoMissing
			case len(data) > registry.MaxPhotoBytes:
				return nil, fmt.Errorf("%w: %s larger than %d bytes", registry.ErrPhotoUnusable, p, registry.MaxPhotoBytes)
			}
			return data, nil
		}
	}
	return nil, registry.ErrPhotoMissing
}

func parseCSV(data []byte) (map[string]entry, error) {
	r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))))
	r.FieldsPerRecord = 2
	r.TrimLeadingSpace = true
	entries := map[string]entry{}
	for first := true; ; first = false {
		row, err := r.Read()
		if err == io.EOF {
			return entries, nil
		}
		if err != nil {
			return nil, err
		}
		if first && strings.EqualFold(strings.TrimSpace(row[0]), "id_number") {
			continue // header
		}
		line, _ := r.FieldPos(0)
		if err := add(entries, row[0], row[1]); err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
	}
}

func parseJSON(data []byte) (map[string]entry, error) {
	var rows []Record
	if err := json.Unmarshal(data, &rows); err != nil {
		return nil, err
	}
	entries := map[string]entry{}
	for i, r := range rows {
		if err := add(entries, r.IDNumber, r.Name); err != nil {
			return nil, fmt.Errorf("entry %d: %w", i, err)
		}
	}
	return entries, nil
}

func add(entries map[string]entry, rawID, rawName string) error {
	rawID = strings.TrimSpace(rawID)
	id, name, err := registry.Validate(rawID, rawName)
	if err != nil {
		return err
	}
	if _, dup := entries[id]; dup {
		return fmt.Errorf("ID number %s listed twice", id)
	}
	e := entry{name: name, stems: []string{id}}
	// Files may be named as the index writes the number (15 digits, or a
	// lower-case x) rather than in normalised form.
	if rawID != id {
		e.stems = append(e.stems, rawID)
	}
	entries[id] = e
	return nil
}
