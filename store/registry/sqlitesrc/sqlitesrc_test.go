package sqlitesrc

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/facekit/facekit/store/registry"
)

const (
	idZhang   = "11010519491231002X"
	idLi      = "440304199001011233"
	idWang    = "320106198503152714"
	idUnknown = "11010519000101001X"
)

// MustOpen opens a source in a fresh temporary file.
func MustOpen(tb testing.TB) (*Source, string) {
	tb.Helper()
	p := filepath.Join(tb.TempDir(), "registry.db")
	s, err := Open(p)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s, p
}

// MustAdd adds a record or fails the test.
func MustAdd(tb testing.TB, s *Source, p registry.Photo) {
	tb.Helper()
	if err := s.Add(context.Background(), p); err != nil {
		tb.Fatal(err)
	}
}

func TestLookup(t *testing.T) {
	s, _ := MustOpen(t)
	jpg := jpegBytes(t)
	MustAdd(t, s, registry.Photo{IDNumber: "110105491231002", Name: "张三", Image: jpg}) // legacy number
	MustAdd(t, s, registry.Photo{IDNumber: idLi, Name: "买买提・艾力", Image: pngBytes(t)})
	MustAdd(t, s, registry.Photo{IDNumber: idWang, Name: "王五"}) // no photo

	tests := []struct {
		name     string
		id, nm   string
		wantErr  error
		wantType string
	}{
		{name: "Found/JPEG", id: idZhang, nm: "张三", wantType: "image/jpeg"},
		{name: "Found/LegacyNumber", id: "110105491231002", nm: "张三", wantType: "image/jpeg"},
		{name: "Found/PNGDotVariant", id: idLi, nm: "买买提·艾力", wantType: "image/png"},
		{name: "NameMismatch", id: idZhang, nm: "张四", wantErr: registry.ErrNameMismatch},
		{name: "NotFound", id: idUnknown, nm: "张三", wantErr: registry.ErrNotFound},
		{name: "PhotoMissing", id: idWang, nm: "王五", wantErr: registry.ErrPhotoMissing},
		{name: "InvalidIDNumber", id: "11010519491231002Y", nm: "张三", wantErr: registry.ErrInvalidIDNumber},
		{name: "InvalidName", id: idZhang, nm: "张", wantErr: registry.ErrInvalidName},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := s.Lookup(context.Background(), tt.id, tt.nm)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Lookup = %v; want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.ContentType != tt.wantType || len(p.Image) == 0 {
				t.Fatalf("Lookup = %s %s %s %d bytes", p.IDNumber, p.Name, p.ContentType, len(p.Image))
			}
			if tt.name == "Found/JPEG" && !bytes.Equal(p.Image, jpg) {
				t.Fatal("photo bytes changed in storage")
			}
		})
	}
}

func TestLookupTimeout(t *testing.T) {
	s, _ := MustOpen(t)
	MustAdd(t, s, registry.Photo{IDNumber: idZhang, Name: "张三", Image: jpegBytes(t)})
	ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	_, err := s.Lookup(ctx, idZhang, "张三")
	if !errors.Is(err, registry.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Lookup past deadline = %v; want ErrUnavailable wrapping DeadlineExceeded", err)
	}
}

func TestAdd(t *testing.T) {
	s, _ := MustOpen(t)
	tests := []struct {
		name    string
		p       registry.Photo
		wantErr error
	}{
		{name: "InvalidIDNumber", p: registry.Photo{IDNumber: "123", Name: "张三"}, wantErr: registry.ErrInvalidIDNumber},
		{name: "InvalidName", p: registry.Photo{IDNumber: idZhang, Name: "Z3"}, wantErr: registry.ErrInvalidName},
		{name: "NotAnImage", p: registry.Photo{IDNumber: idZhang, Name: "张三", Image: []byte("GIF89a....")}, wantErr: registry.ErrPhotoUnusable},
		{name: "TooLarge", p: registry.Photo{IDNumber: idZhang, Name: "张三", Image: make([]byte, registry.MaxPhotoBytes+1)}, wantErr: registry.ErrPhotoUnusable},
		{name: "Replace", p: registry.Photo{IDNumber: idZhang, Name: "张三", Image: pngBytes(t)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := s.Add(context.Background(), tt.p); !errors.Is(err, tt.wantErr) {
				t.Fatalf("Add = %v; want %v", err, tt.wantErr)
			}
		})
	}
	// Replace: the second Add wins, and there is still one record.
	MustAdd(t, s, registry.Photo{IDNumber: idZhang, Name: "张叁", Image: jpegBytes(t)})
	if p, err := s.Lookup(context.Background(), idZhang, "张叁"); err != nil || p.ContentType != "image/jpeg" {
		t.Fatalf("after replace: %v %s", err, p.ContentType)
	}
	if n, err := s.Count(context.Background()); err != nil || n != 1 {
		t.Fatalf("Count = %d, %v; want 1", n, err)
	}
}

func TestRemove(t *testing.T) {
	s, _ := MustOpen(t)
	MustAdd(t, s, registry.Photo{IDNumber: idZhang, Name: "张三"})
	if err := s.Remove(context.Background(), idZhang); err != nil {
		t.Fatal(err)
	}
	if err := s.Remove(context.Background(), idZhang); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("second Remove = %v; want ErrNotFound", err)
	}
	if _, err := s.Lookup(context.Background(), idZhang, "张三"); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("Lookup after Remove = %v", err)
	}
}

func TestImportExportRoundTrip(t *testing.T) {
	src := t.TempDir()
	writeFile(t, src, idZhang+".jpg", jpegBytes(t))
	writeFile(t, src, idLi+".png", pngBytes(t))
	writeFile(t, src, "index.csv", []byte(idZhang+",张三\n"+idLi+",李四\n"+idWang+",王五\n"))

	a, _ := MustOpen(t)
	n, err := a.Import(context.Background(), src)
	if err != nil || n != 3 {
		t.Fatalf("Import = %d, %v; want 3", n, err)
	}
	out := filepath.Join(t.TempDir(), "export")
	if n, err := a.Export(context.Background(), out); err != nil || n != 3 {
		t.Fatalf("Export = %d, %v; want 3", n, err)
	}
	if _, err := a.Export(context.Background(), out); err == nil {
		t.Fatal("second Export over an existing index succeeded")
	}
	b, _ := MustOpen(t)
	if n, err := b.Import(context.Background(), out); err != nil || n != 3 {
		t.Fatalf("re-Import = %d, %v", n, err)
	}
	for _, c := range []struct {
		id, name string
		wantErr  error
	}{{idZhang, "张三", nil}, {idLi, "李四", nil}, {idWang, "王五", registry.ErrPhotoMissing}} {
		pa, errA := a.Lookup(context.Background(), c.id, c.name)
		pb, errB := b.Lookup(context.Background(), c.id, c.name)
		if !errors.Is(errA, c.wantErr) || !errors.Is(errB, c.wantErr) || !bytes.Equal(pa.Image, pb.Image) || pa.ContentType != pb.ContentType {
			t.Errorf("%s: original %v %s, round trip %v %s", c.id, errA, pa.ContentType, errB, pb.ContentType)
		}
	}
}

func TestImportIsAtomic(t *testing.T) {
	src := t.TempDir()
	writeFile(t, src, idZhang+".jpg", jpegBytes(t))
	writeFile(t, src, idLi+".jpg", []byte("not an image"))
	writeFile(t, src, "index.csv", []byte(idZhang+",张三\n"+idLi+",李四\n"))
	s, _ := MustOpen(t)
	if _, err := s.Import(context.Background(), src); !errors.Is(err, registry.ErrPhotoUnusable) {
		t.Fatalf("Import = %v; want ErrPhotoUnusable", err)
	}
	if n, _ := s.Count(context.Background()); n != 0 {
		t.Fatalf("%d records left after a failed import; want 0", n)
	}
}

func TestSharesLibraryFile(t *testing.T) {
	// A database that already holds other tables (the face library) gains
	// the registry table without disturbing them, and reopening is a no-op.
	p := filepath.Join(t.TempDir(), "library.db")
	db, err := sql.Open("sqlite3", p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CREATE TABLE migrations (version INTEGER); CREATE TABLE faces (token TEXT); INSERT INTO faces VALUES ('x')`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	for i := 0; i < 2; i++ {
		s, err := Open(p)
		if err != nil {
			t.Fatalf("open #%d: %v", i+1, err)
		}
		MustAdd(t, s, registry.Photo{IDNumber: idZhang, Name: "张三"})
		s.Close()
	}
	db, _ = sql.Open("sqlite3", p)
	defer db.Close()
	var faces, migs int
	db.QueryRow(`SELECT count(*) FROM faces`).Scan(&faces)
	db.QueryRow(`SELECT count(*) FROM registry_migrations`).Scan(&migs)
	if faces != 1 || migs != 1 {
		t.Fatalf("faces %d, registry migrations %d; want 1 and 1", faces, migs)
	}
}

func TestConcurrentReadWrite(t *testing.T) {
	s, _ := MustOpen(t)
	MustAdd(t, s, registry.Photo{IDNumber: idZhang, Name: "张三", Image: jpegBytes(t)})
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for g := 0; g < 4; g++ {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				if _, err := s.Lookup(context.Background(), idZhang, "张三"); err != nil {
					errs <- err
				}
			}
		}()
		go func() {
			defer wg.Done()
			for i := 0; i < 5; i++ {
				if err := s.Add(context.Background(), registry.Photo{IDNumber: idLi, Name: "李四", Image: pngBytes(t)}); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestEscapePath(t *testing.T) {
	d := filepath.Join(t.TempDir(), "odd?name#dir")
	if err := os.MkdirAll(d, 0o755); err != nil {
		t.Fatal(err)
	}
	s, err := Open(filepath.Join(d, "r.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := os.Stat(filepath.Join(d, "r.db")); err != nil {
		t.Fatalf("database not created at the given path: %v", err)
	}
	if strings.Contains(escapePath("a?b"), "?") {
		t.Fatal("? not escaped")
	}
}

func testImage() image.Image {
	img := image.NewRGBA(image.Rect(0, 0, 24, 30))
	for y := 0; y < 30; y++ {
		for x := 0; x < 24; x++ {
			img.Set(x, y, color.RGBA{uint8(x * 10), uint8(y * 8), 90, 255})
		}
	}
	return img
}

func jpegBytes(tb testing.TB) []byte {
	var b bytes.Buffer
	if err := jpeg.Encode(&b, testImage(), nil); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

func pngBytes(tb testing.TB) []byte {
	var b bytes.Buffer
	if err := png.Encode(&b, testImage()); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

func writeFile(tb testing.TB, dir, name string, data []byte) {
	tb.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
		tb.Fatal(err)
	}
}
