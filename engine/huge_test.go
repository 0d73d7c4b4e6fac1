package engine_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	xdraw "golang.org/x/image/draw"

	"github.com/facekit/facekit/engine"
	"github.com/facekit/facekit/engine/imageio"
	"github.com/facekit/facekit/internal/testenv"
)

// hugeCanvas returns a w×h flat grey canvas with the single-face test photo
// jimin.jpg pasted at (x, y), scaled to pw pixels wide: the kind of huge,
// highly compressible upload that once held an engine slot for half a
// minute. It also returns where the photo went.
func hugeCanvas(tb testing.TB, w, h, x, y, pw int) (*image.RGBA, image.Rectangle) {
	tb.Helper()
	canvas := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(canvas, canvas.Bounds(), &image.Uniform{color.RGBA{118, 121, 125, 255}}, image.Point{}, draw.Src)
	if pw == 0 {
		return canvas, image.Rectangle{}
	}
	src := mustImage(tb, "jimin.jpg")
	ph := pw * src.Height / src.Width
	at := image.Rect(x, y, x+pw, y+ph)
	xdraw.ApproxBiLinear.Scale(canvas, at, src, src.Bounds(), draw.Src, nil)
	return canvas, at
}

// rgbOf copies an RGBA canvas into the engine's packed RGB image.
func rgbOf(m *image.RGBA) *imageio.Image {
	out := imageio.NewImage(m.Bounds().Dx(), m.Bounds().Dy())
	for i, j := 0, 0; i < len(m.Pix); i, j = i+4, j+3 {
		out.Pix[j], out.Pix[j+1], out.Pix[j+2] = m.Pix[i], m.Pix[i+1], m.Pix[i+2]
	}
	return out
}

// TestHugePhotoDetectsOnBoundedCopy analyses a 6320×6320 photo (40 MP,
// the intake's limit): detection runs on a copy bounded by the engine's
// DetectMaxSide, the box is mapped back to full resolution, and the
// landmarks and descriptor read the full image, so the descriptor matches
// the one of the original photo.
func TestHugePhotoDetectsOnBoundedCopy(t *testing.T) {
	e := mustEngine(t)
	canvas, at := hugeCanvas(t, 6320, 6320, 2500, 3100, 2400)
	img := rgbOf(canvas)
	canvas = nil
	faces, err := e.Analyze(context.Background(), img, engine.Options{Upsample: -1, Descriptors: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(faces) != 1 {
		t.Fatalf("got %d faces, want the pasted one", len(faces))
	}
	f := faces[0]
	if !f.Rect.In(at) || f.Rect.Dx() < at.Dx()/8 {
		t.Fatalf("box %v is not a face inside the pasted photo %v", f.Rect, at)
	}
	for i, p := range f.Landmarks {
		if !p.In(f.Rect.Inset(-f.Rect.Dx() / 3)) {
			t.Fatalf("landmark %d at %v is far outside the box %v", i, p, f.Rect)
		}
	}
	orig := analyze(t, mustImage(t, "jimin.jpg"), engine.Options{Descriptors: true, MaxFaces: 1})
	if len(orig) != 1 {
		t.Fatal("no face in jimin.jpg")
	}
	// The same face resampled: far below dlib's 0.6 same-person threshold.
	if d := engine.Distance(orig[0].Descriptor, f.Descriptor); d > 0.25 {
		t.Fatalf("descriptor distance to the original photo %.3f, want < 0.25 (landmarks or descriptor read a lossy copy?)", d)
	}
}

// hugeChildEnv names the crafted file a re-executed test binary analyses
// for BenchmarkHugePhoto.
const hugeChildEnv = "FACEKIT_HUGE_PHOTO_CHILD"

// TestHugePhotoChild is not a test: BenchmarkHugePhoto re-executes the test
// binary with it so that one process analyses one huge upload, and its
// peak RSS belongs to that analysis alone. It prints one line of results.
func TestHugePhotoChild(t *testing.T) {
	path := os.Getenv(hugeChildEnv)
	if path == "" {
		t.Skip("only run by BenchmarkHugePhoto")
	}
	e, err := engine.New(engine.Config{ModelDir: testenv.ModelDir(t), PoolSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	base := procStatusKB(t, "VmRSS")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	img, err := imageio.Decode(data, imageio.DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	decoded := time.Since(start)
	// The server's options for a detect request.
	faces, err := e.Analyze(context.Background(), img, engine.Options{Upsample: -1, Descriptors: true})
	if err != nil {
		t.Fatal(err)
	}
	total := time.Since(start)
	fmt.Printf("HUGE decode_ms=%d total_ms=%d base_kb=%d peak_kb=%d faces=%d\n",
		decoded.Milliseconds(), total.Milliseconds(), base, procStatusKB(t, "VmHWM"), len(faces))
}

// procStatusKB reads one kB field of /proc/self/status.
func procStatusKB(tb testing.TB, field string) int {
	tb.Helper()
	f, err := os.Open("/proc/self/status")
	if err != nil {
		tb.Skipf("no /proc: %v", err)
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if rest, ok := strings.CutPrefix(s.Text(), field+":"); ok {
			n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
			if err != nil {
				tb.Fatal(err)
			}
			return n
		}
	}
	tb.Fatalf("no %s in /proc/self/status", field)
	return 0
}

// BenchmarkHugePhoto decodes and analyses crafted huge uploads (the
// server's detect options: upsample when nothing is found, landmarks and
// descriptor), each in a fresh process, and reports the time of the
// analysis and that process's peak RSS beyond its RSS with the models
// loaded. The files are crafted in a temporary directory (never committed):
// a 6320×6320 PNG of flat grey without a face (so the server's options
// retry upsampled; 30 s and 2-3 GB before detection was bounded), and a
// 6320×6320 PNG, a 10000×4000 JPEG and a 7744×5164 (40 MP) JPEG, each
// holding one face.
func BenchmarkHugePhoto(b *testing.B) {
	testenv.ModelDir(b)
	dir := b.TempDir()
	cases := []struct {
		name        string
		w, h, pw    int
		png         bool
		wantFaceMin int
	}{
		{"png6320x6320NoFace", 6320, 6320, 0, true, 0},
		{"png6320x6320", 6320, 6320, 2400, true, 1},
		{"jpeg10000x4000", 10000, 4000, 3000, false, 1},
		{"jpeg7744x5164", 7744, 5164, 3000, false, 1},
	}
	for _, c := range cases {
		canvas, _ := hugeCanvas(b, c.w, c.h, c.w/3, c.h/4, c.pw)
		var buf bytes.Buffer
		var err error
		if c.png {
			err = png.Encode(&buf, canvas)
		} else {
			err = jpeg.Encode(&buf, canvas, &jpeg.Options{Quality: 85})
		}
		if err != nil {
			b.Fatal(err)
		}
		path := filepath.Join(dir, c.name)
		if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
			b.Fatal(err)
		}
		size := buf.Len()
		b.Run(c.name, func(b *testing.B) {
			var ms, decodeMS, peakMB, baseMB float64
			for b.Loop() {
				cmd := exec.Command(os.Args[0], "-test.run=^TestHugePhotoChild$", "-test.v")
				cmd.Env = append(os.Environ(), hugeChildEnv+"="+path)
				out, err := cmd.CombinedOutput()
				if err != nil {
					b.Fatalf("child: %v\n%s", err, out)
				}
				var dec, total, base, peak, faces int
				i := bytes.Index(out, []byte("HUGE "))
				if i < 0 {
					b.Fatalf("child printed no result:\n%s", out)
				}
				if _, err := fmt.Sscanf(string(out[i:]), "HUGE decode_ms=%d total_ms=%d base_kb=%d peak_kb=%d faces=%d",
					&dec, &total, &base, &peak, &faces); err != nil {
					b.Fatalf("parse %q: %v", out[i:], err)
				}
				if faces < c.wantFaceMin {
					b.Fatalf("%d faces, want the pasted one", faces)
				}
				ms, decodeMS, baseMB, peakMB = float64(total), float64(dec), float64(base)/1024, float64(peak)/1024
			}
			b.ReportMetric(ms, "ms/analysis")
			b.ReportMetric(decodeMS, "ms/decode")
			b.ReportMetric(peakMB-baseMB, "MB-peak-over-base")
			b.ReportMetric(peakMB, "MB-peak-RSS")
			b.ReportMetric(float64(size)/1024, "kB-file")
		})
	}
}
