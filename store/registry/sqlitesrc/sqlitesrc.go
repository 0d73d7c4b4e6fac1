// Package sqlitesrc is a registry.Source backed by the table registry_photos
// in a SQLite file. The file may be its own or the face library's: the
// package only touches registry_photos and its own migrations table,
// registry_migrations, so it never collides with the library's schema.
package sqlitesrc

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	// The SQLite driver, registered as "sqlite3".
	_ "github.com/mattn/go-sqlite3"

	"github.com/facekit/facekit/store/registry"
	"github.com/facekit/facekit/store/registry/dir"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Source is a SQLite-backed registry. It is safe for concurrent use: writes
// go through one connection, reads through a separate query-only pool.
type Source struct {
	w *sql.DB
	r *sql.DB
}

// Open opens (creating if needed) the SQLite file at path and applies the
// registry migrations.
func Open(path string) (*Source, error) {
	// Pragmas go in the DSN so that every pooled connection gets them:
	// busy_timeout first, then WAL; FULL sync because an acknowledged Add
	// must survive a crash.
	base := "file:" + escapePath(path) + "?_busy_timeout=5000&_journal_mode=WAL&_foreign_keys=on&_synchronous=FULL"
	w, err := sql.Open("sqlite3", base+"&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("sqlitesrc: open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	if err := migrate(context.Background(), w); err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlitesrc: migrate %s: %w", path, err)
	}
	r, err := sql.Open("sqlite3", base+"&_query_only=true")
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlitesrc: open %s: %w", path, err)
	}
	return &Source{w: w, r: r}, nil
}

// escapePath keeps characters that mean something in a URI from cutting the
// file name short.
func escapePath(p string) string {
	return strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(filepath.ToSlash(p))
}

// Close closes both pools. It is safe to call more than once.
func (s *Source) Close() error {
	return errors.Join(s.w.Close(), s.r.Close())
}

// migrate applies each embedded migration not yet recorded, each in its own
// transaction together with its record.
func migrate(ctx context.Context, db *sql.DB) error {
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS registry_migrations (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied TEXT NOT NULL)`); err != nil {
		return err
	}
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, name := range names {
		base := path.Base(name)
		version, err := strconv.Atoi(strings.SplitN(base, "_", 2)[0])
		if err != nil {
			return fmt.Errorf("migration %s: name must start with a number", base)
		}
		body, err := migrations.ReadFile(name)
		if err != nil {
			return err
		}
		if err := applyMigration(ctx, db, version, base, string(body)); err != nil {
			return fmt.Errorf("migration %s: %w", base, err)
		}
	}
	return nil
}

func applyMigration(ctx context.Context, db *sql.DB, version int, name, body string) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM registry_migrations WHERE version = ?`, version).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, body); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO registry_migrations (version, name, applied) VALUES (?, ?, ?)`,
		version, name, time.Now().UTC().Format(time.RFC3339Nano)); err != nil {
		return err
	}
	return tx.Commit()
}

// Lookup returns the photo registered for idNumber if name matches.
// Returns registry.ErrInvalidIDNumber, ErrInvalidName, ErrNotFound,
// ErrNameMismatch, ErrPhotoMissing or ErrUnavailable (database error or the
// context's deadline; a deadline also wraps context.DeadlineExceeded).
func (s *Source) Lookup(ctx context.Context, idNumber, name string) (registry.Photo, error) {
	id, nm, err := registry.Validate(idNumber, name)
	if err != nil {
		return registry.Photo{}, err
	}
	var (
		regName string
		photo   []byte
		ct      string
	)
	err = s.r.QueryRowContext(ctx,
		`SELECT name, photo, content_type FROM registry_photos WHERE id_number = ?`, id).Scan(&regName, &photo, &ct)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return registry.Photo{}, fmt.Errorf("sqlitesrc: %s: %w", id, registry.ErrNotFound)
	case err != nil:
		return registry.Photo{}, fmt.Errorf("sqlitesrc: lookup %s: %w: %w", id, registry.ErrUnavailable, err)
	}
	if err := registry.Check(regName, nm); err != nil {
		return registry.Photo{}, fmt.Errorf("sqlitesrc: %s: %w", id, err)
	}
	if len(photo) == 0 {
		return registry.Photo{}, fmt.Errorf("sqlitesrc: %s: %w", id, registry.ErrPhotoMissing)
	}
	return registry.Photo{IDNumber: id, Name: nm, Image: photo, ContentType: ct}, nil
}

// Add registers p, replacing any record with the same ID number. A Photo
// with no Image registers the person without a photo. Returns
// registry.ErrInvalidIDNumber, ErrInvalidName, or ErrPhotoUnusable when
// Image is not a JPEG or PNG or is larger than registry.MaxPhotoBytes.
func (s *Source) Add(ctx context.Context, p registry.Photo) error {
	return s.add(ctx, s.w, p)
}

// execer is what add needs from *sql.DB and *sql.Tx.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

func (s *Source) add(ctx context.Context, db execer, p registry.Photo) error {
	id, nm, err := registry.Validate(p.IDNumber, p.Name)
	if err != nil {
		return err
	}
	var photo any // NULL for a record without a photo
	ct := ""
	if len(p.Image) > 0 {
		if len(p.Image) > registry.MaxPhotoBytes {
			return fmt.Errorf("sqlitesrc: %s: %w: %d bytes, limit %d", id, registry.ErrPhotoUnusable, len(p.Image), registry.MaxPhotoBytes)
		}
		// The stored type is sniffed, not trusted from the caller, so that
		// Export writes the right extension.
		ct = http.DetectContentType(p.Image)
		if ct != "image/jpeg" && ct != "image/png" {
			return fmt.Errorf("sqlitesrc: %s: %w: content is %s, want JPEG or PNG", id, registry.ErrPhotoUnusable, ct)
		}
		photo = p.Image
	}
	_, err = db.ExecContext(ctx, `INSERT INTO registry_photos (id_number, name, photo, content_type, created)
		VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (id_number) DO UPDATE SET name = excluded.name, photo = excluded.photo,
			content_type = excluded.content_type, created = excluded.created`,
		id, nm, photo, ct, time.Now().UTC().Format(time.RFC3339Nano))
	if err != nil {
		return fmt.Errorf("sqlitesrc: add %s: %w", id, err)
	}
	return nil
}

// Remove deletes the record of idNumber. Returns registry.ErrInvalidIDNumber
// or ErrNotFound.
func (s *Source) Remove(ctx context.Context, idNumber string) error {
	id, err := registry.NormalizeIDNumber(idNumber)
	if err != nil {
		return err
	}
	res, err := s.w.ExecContext(ctx, `DELETE FROM registry_photos WHERE id_number = ?`, id)
	if err != nil {
		return fmt.Errorf("sqlitesrc: remove %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("sqlitesrc: %s: %w", id, registry.ErrNotFound)
	}
	return nil
}

// Count returns the number of registered records (with or without photo).
func (s *Source) Count(ctx context.Context) (int, error) {
	var n int
	if err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM registry_photos`).Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlitesrc: count: %w", err)
	}
	return n, nil
}

// Import adds every record of a registry directory (the registry/dir layout)
// in one transaction: either all records are imported or none. Records
// without a photo file are imported without a photo. It returns the number
// of records imported.
func (s *Source) Import(ctx context.Context, dirPath string) (int, error) {
	src, err := dir.Open(dirPath)
	if err != nil {
		return 0, fmt.Errorf("sqlitesrc: import: %w", err)
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("sqlitesrc: import: %w", err)
	}
	defer tx.Rollback()
	n := 0
	for _, rec := range src.Records() {
		p, err := src.Lookup(ctx, rec.IDNumber, rec.Name)
		if errors.Is(err, registry.ErrPhotoMissing) {
			p, err = registry.Photo{IDNumber: rec.IDNumber, Name: rec.Name}, nil
		}
		if err != nil {
			return 0, fmt.Errorf("sqlitesrc: import %s: %w", rec.IDNumber, err)
		}
		if err := s.add(ctx, tx, p); err != nil {
			return 0, fmt.Errorf("sqlitesrc: import: %w", err)
		}
		n++
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("sqlitesrc: import: %w", err)
	}
	return n, nil
}

// Export writes every record to dirPath in the registry/dir layout
// (<id_number>.jpg or .png and index.csv), creating the directory if needed.
// It refuses to overwrite an existing index. It returns the number of
// records written.
func (s *Source) Export(ctx context.Context, dirPath string) (int, error) {
	if err := os.MkdirAll(dirPath, 0o755); err != nil {
		return 0, fmt.Errorf("sqlitesrc: export: %w", err)
	}
	for _, name := range []string{dir.IndexCSV, dir.IndexJSON} {
		if _, err := os.Stat(filepath.Join(dirPath, name)); err == nil {
			return 0, fmt.Errorf("sqlitesrc: export: %s already has %s", dirPath, name)
		}
	}
	rows, err := s.r.QueryContext(ctx, `SELECT id_number, name, photo, content_type FROM registry_photos ORDER BY id_number`)
	if err != nil {
		return 0, fmt.Errorf("sqlitesrc: export: %w", err)
	}
	defer rows.Close()
	var index strings.Builder
	index.WriteString("id_number,name\n")
	n := 0
	for rows.Next() {
		var (
			id, name, ct string
			photo        []byte
		)
		if err := rows.Scan(&id, &name, &photo, &ct); err != nil {
			return 0, fmt.Errorf("sqlitesrc: export: %w", err)
		}
		if len(photo) > 0 {
			ext := ".jpg"
			if ct == "image/png" {
				ext = ".png"
			}
			if err := os.WriteFile(filepath.Join(dirPath, id+ext), photo, 0o644); err != nil {
				return 0, fmt.Errorf("sqlitesrc: export %s: %w", id, err)
			}
		}
		// Names are validated CJK text and ID numbers digits, so neither
		// needs CSV quoting.
		index.WriteString(id + "," + name + "\n")
		n++
	}
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("sqlitesrc: export: %w", err)
	}
	// The index is written last: a directory with an index is complete.
	if err := os.WriteFile(filepath.Join(dirPath, dir.IndexCSV), []byte(index.String()), 0o644); err != nil {
		return 0, fmt.Errorf("sqlitesrc: export: %w", err)
	}
	return n, nil
}
