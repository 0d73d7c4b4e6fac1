package dir

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/facekit/facekit/store/registry"
)

const (
	idZhang   = "11010519491231002X"
	idLi      = "440304199001011233"
	idWang    = "320106198503152714" // in the index, no photo file
	idEmpty   = "65010219800229001X" // zero-byte photo
	idText    = "51010719760708432X" // photo file that is not an image
	idLegacy  = "110105491231002"    // 15-digit form of idZhang
	idUnknown = "11010519000101001X"
)

func TestLookup(t *testing.T) {
	for _, format := range []string{"csv", "json"} {
		t.Run(format, func(t *testing.T) {
			src := MustOpen(t, newRegistryDir(t, format))
			tests := []struct {
				name     string
				id, nm   string
				wantErr  error
				wantType string
			}{
				{name: "Found/JPEG", id: idZhang, nm: "张三", wantType: "image/jpeg"},
				{name: "Found/PNG", id: idLi, nm: "李四", wantType: "image/png"},
				{name: "Found/LegacyNumber", id: idLegacy, nm: "张三", wantType: "image/jpeg"},
				{name: "Found/LowerX", id: strings.ToLower(idZhang), nm: " 张三 ", wantType: "image/jpeg"},
				{name: "NameMismatch", id: idZhang, nm: "李四", wantErr: registry.ErrNameMismatch},
				{name: "NotFound", id: idUnknown, nm: "张三", wantErr: registry.ErrNotFound},
				{name: "PhotoMissing", id: idWang, nm: "王五", wantErr: registry.ErrPhotoMissing},
				{name: "PhotoMissing/EmptyFile", id: idEmpty, nm: "买买提·艾力", wantErr: registry.ErrPhotoMissing},
				{name: "PhotoUnusable/NotImage", id: idText, nm: "赵六", wantErr: registry.ErrPhotoUnusable},
				{name: "InvalidIDNumber", id: "110105194912310021", nm: "张三", wantErr: registry.ErrInvalidIDNumber},
				{name: "InvalidName", id: idZhang, nm: "Zhang San", wantErr: registry.ErrInvalidName},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					p, err := src.Lookup(context.Background(), tt.id, tt.nm)
					if tt.wantErr != nil {
						if !errors.Is(err, tt.wantErr) {
							t.Fatalf("Lookup = %v; want %v", err, tt.wantErr)
						}
						return
					}
					if err != nil {
						t.Fatalf("Lookup: %v", err)
					}
					if p.ContentType != tt.wantType || len(p.Image) == 0 || p.IDNumber != idZhang && p.IDNumber != idLi {
						t.Fatalf("Lookup = {%s %s %d bytes %s}", p.IDNumber, p.Name, len(p.Image), p.ContentType)
					}
					if _, _, err := image.Decode(bytes.NewReader(p.Image)); err != nil {
						t.Fatalf("returned photo does not decode: %v", err)
					}
				})
			}
		})
	}
}

func TestLookupCancelled(t *testing.T) {
	src := MustOpen(t, newRegistryDir(t, "csv"))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := src.Lookup(ctx, idZhang, "张三"); !errors.Is(err, registry.ErrUnavailable) {
		t.Fatalf("Lookup with cancelled context = %v; want ErrUnavailable", err)
	}
}

func TestReloadOnChange(t *testing.T) {
	d := newRegistryDir(t, "csv")
	src := MustOpen(t, d)
	if _, err := src.Lookup(context.Background(), idUnknown, "孙七"); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("before edit: %v", err)
	}
	writeFile(t, d, idUnknown+".png", pngBytes(t))
	appendFile(t, filepath.Join(d, IndexCSV), idUnknown+",孙七\n")
	// Make sure the modification time differs even on coarse file systems.
	future := time.Now().Add(2 * time.Second)
	if err := os.Chtimes(filepath.Join(d, IndexCSV), future, future); err != nil {
		t.Fatal(err)
	}
	if _, err := src.Lookup(context.Background(), idUnknown, "孙七"); err != nil {
		t.Fatalf("after edit: %v", err)
	}

	// A broken edit keeps the previous index.
	appendFile(t, filepath.Join(d, IndexCSV), "not-a-number,孙七\n")
	later := future.Add(2 * time.Second)
	if err := os.Chtimes(filepath.Join(d, IndexCSV), later, later); err != nil {
		t.Fatal(err)
	}
	if err := src.Reload(); err == nil {
		t.Fatal("Reload of a broken index succeeded")
	}
	if _, err := src.Lookup(context.Background(), idUnknown, "孙七"); err != nil {
		t.Fatalf("after broken edit: %v", err)
	}
}

func TestOpenErrors(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  string
	}{
		{name: "NoIndex", files: map[string]string{}, want: "no index"},
		{name: "InvalidIDNumber", files: map[string]string{IndexCSV: idZhang + ",张三\n110105194912310021,李四\n"}, want: "line 2"},
		{name: "InvalidName", files: map[string]string{IndexCSV: idZhang + ",Z\n"}, want: "invalid name"},
		{name: "Duplicate", files: map[string]string{IndexCSV: idZhang + ",张三\n" + idLegacy + ",张三\n"}, want: "twice"},
		{name: "WrongColumns", files: map[string]string{IndexCSV: idZhang + ",张三,extra\n"}, want: "fields"},
		{name: "BadJSON", files: map[string]string{IndexJSON: `{"id_number":1}`}, want: "json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := t.TempDir()
			for name, content := range tt.files {
				writeFile(t, d, name, []byte(content))
			}
			_, err := Open(d)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Open = %v; want an error mentioning %q", err, tt.want)
			}
		})
	}
}

func TestRecords(t *testing.T) {
	src := MustOpen(t, newRegistryDir(t, "json"))
	recs := src.Records()
	if len(recs) != 5 || recs[0].IDNumber != idZhang || recs[len(recs)-1].IDNumber != idEmpty {
		t.Fatalf("Records = %+v", recs)
	}
}

// MustOpen opens a directory source or fails the test.
func MustOpen(tb testing.TB, path string) *Source {
	tb.Helper()
	s, err := Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// newRegistryDir builds a registry directory with one record per outcome.
// The photo of 张三 is named by its 15-digit legacy number to test that files
// may be named as the index writes them.
func newRegistryDir(tb testing.TB, format string) string {
	tb.Helper()
	d := tb.TempDir()
	writeFile(tb, d, idLegacy+".jpg", jpegBytes(tb))
	writeFile(tb, d, idLi+".png", pngBytes(tb))
	writeFile(tb, d, idEmpty+".jpg", nil)
	writeFile(tb, d, idText+".jpg", []byte("this is not a photo"))
	rows := [][2]string{{idLegacy, "张三"}, {idLi, "李四"}, {idWang, "王五"}, {idEmpty, "买买提・艾力"}, {idText, "赵六"}}
	switch format {
	case "csv":
		var b strings.Builder
		b.WriteString("\xef\xbb\xbfid_number,name\n") // BOM and header, as spreadsheets write them
		for _, r := range rows {
			b.WriteString(r[0] + "," + r[1] + "\n")
		}
		writeFile(tb, d, IndexCSV, []byte(b.String()))
	case "json":
		var b strings.Builder
		b.WriteString("[")
		for i, r := range rows {
			if i > 0 {
				b.WriteString(",")
			}
			b.WriteString(`{"id_number":"` + r[0] + `","name":"` + r[1] + `"}`)
		}
		b.WriteString("]")
		writeFile(tb, d, IndexJSON, []byte(b.String()))
	}
	return d
}

func testImage() image.Image {
	img := image.NewRGBA(image.Rect(0, 0, 32, 40))
	for y := 0; y < 40; y++ {
		for x := 0; x < 32; x++ {
			img.Set(x, y, color.RGBA{uint8(x * 8), uint8(y * 6), 128, 255})
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

func appendFile(tb testing.TB, path, s string) {
	tb.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(s); err != nil {
		tb.Fatal(err)
	}
}
