package engine_test

import (
	"context"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"testing"

	"golang.org/x/image/draw"

	"github.com/facekit/facekit/engine"
	"github.com/facekit/facekit/engine/imageio"
	"github.com/facekit/facekit/internal/testenv"
)

// lfwSample returns up to n LFW images, the first of each person in
// alphabetical order (one face per image, centred at (125, 125)).
func lfwSample(tb testing.TB, n int) []string {
	tb.Helper()
	dir := filepath.Join(testenv.TestData(tb), "lfw", "images")
	people, err := os.ReadDir(dir)
	if err != nil {
		tb.Skipf("no LFW images: %v", err)
	}
	var paths []string
	for _, p := range people {
		if len(paths) == n {
			break
		}
		files, err := os.ReadDir(filepath.Join(dir, p.Name()))
		if err != nil || len(files) == 0 {
			continue
		}
		paths = append(paths, filepath.Join(dir, p.Name(), files[0].Name()))
	}
	return paths
}

// scaledTo resizes a test photo to exactly w×h (cropped to that aspect).
func scaledTo(tb testing.TB, name string, w, h int) *imageio.Image {
	tb.Helper()
	src := mustImage(tb, name)
	cw, ch := src.Width, src.Width*h/w
	if ch > src.Height {
		ch, cw = src.Height, src.Height*w/h
	}
	crop := image.Rect((src.Width-cw)/2, (src.Height-ch)/2, (src.Width+cw)/2, (src.Height+ch)/2)
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.ApproxBiLinear.Scale(dst, dst.Bounds(), src, crop, draw.Src, nil)
	out := imageio.NewImage(w, h)
	for i, j := 0, 0; i < len(dst.Pix); i, j = i+4, j+3 {
		out.Pix[j], out.Pix[j+1], out.Pix[j+2] = dst.Pix[i], dst.Pix[i+1], dst.Pix[i+2]
	}
	return out
}

// BenchmarkDetectors reports, per detector, with the server's detect
// options (upsample once when nothing is found at the original size):
//
//   - faces-found: of the 12 annotated faces of the test photos with a known
//     face count (pristin.jpg's 10 and the profile photos eunseo.jpg and
//     jimin3.jpg), how many are found (a photo counts at most its faces);
//   - profiles: of those two profile photos, how many have a face;
//   - lfw-%: of BENCH_DETECT_LFW LFW images (default 200, the first of each
//     person), the share with a box over the image centre;
//   - ms at 640×480 and 1920×1080 (jimin.jpg scaled), detection alone.
//
// Run with -benchtime 1x or 3x: the CNN takes seconds per Full-HD photo.
func BenchmarkDetectors(b *testing.B) {
	e := mustEngine(b)
	nLFW := 200
	if v := os.Getenv("BENCH_DETECT_LFW"); v != "" {
		if n, err := strconv.Atoi(v); err == nil {
			nLFW = n
		}
	}
	detectors := []engine.Detector{engine.DetectorHOG}
	if e.HasCNN() {
		detectors = append(detectors, engine.DetectorCNN)
	}
	annotated := map[string]int{"pristin.jpg": 10, "eunseo.jpg": 1, "jimin3.jpg": 1}
	names := make([]string, 0, len(annotated))
	for n := range annotated {
		names = append(names, n)
	}
	sort.Strings(names)
	lfw := lfwSample(b, nLFW)
	ctx := context.Background()
	for _, d := range detectors {
		opts := engine.Options{Detector: d, Upsample: -1}
		b.Run(fmt.Sprintf("%s/recall", d), func(b *testing.B) {
			var found, profiles, lfwHits int
			for b.Loop() {
				found, profiles, lfwHits = 0, 0, 0
				for _, name := range names {
					faces, err := e.Analyze(ctx, mustImage(b, name), opts)
					if err != nil {
						b.Fatal(err)
					}
					found += min(len(faces), annotated[name])
					if annotated[name] == 1 && len(faces) > 0 {
						profiles++
					}
				}
				for _, path := range lfw {
					data, err := os.ReadFile(path)
					if err != nil {
						b.Fatal(err)
					}
					img, err := imageio.Decode(data, imageio.DefaultLimits())
					if err != nil {
						b.Fatal(err)
					}
					faces, err := e.Analyze(ctx, img, opts)
					if err != nil {
						b.Fatal(err)
					}
					for _, f := range faces {
						if image.Pt(img.Width/2, img.Height/2).In(f.Rect) {
							lfwHits++
							break
						}
					}
				}
			}
			b.ReportMetric(float64(found), "faces-found/12")
			b.ReportMetric(float64(profiles), "profiles/2")
			if len(lfw) > 0 {
				b.ReportMetric(100*float64(lfwHits)/float64(len(lfw)), "lfw-%")
				b.ReportMetric(float64(len(lfw)), "lfw-images")
			}
		})
		for _, size := range []image.Point{{640, 480}, {1920, 1080}} {
			img := scaledTo(b, "jimin.jpg", size.X, size.Y)
			b.Run(fmt.Sprintf("%s/%dx%d", d, size.X, size.Y), func(b *testing.B) {
				for b.Loop() {
					if _, err := e.Analyze(ctx, img, engine.Options{Detector: d}); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/detect")
			})
		}
	}
}
