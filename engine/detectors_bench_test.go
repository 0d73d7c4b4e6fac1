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

// annotatedFaces returns the face count of every test photo: pristin.jpg
// has 10 faces, every other photo one (eunseo.jpg and jimin3.jpg are
// profiles).
func annotatedFaces(tb testing.TB) map[string]int {
	tb.Helper()
	entries, err := os.ReadDir(filepath.Join(testenv.TestData(tb), "faces"))
	if err != nil {
		tb.Fatal(err)
	}
	out := map[string]int{}
	for _, e := range entries {
		if filepath.Ext(e.Name()) == ".jpg" {
			out[e.Name()] = 1
		}
	}
	out["pristin.jpg"] = 10
	return out
}

// BenchmarkDetectors reports, per detector, with the server's detect
// options (upsample once when nothing is found at the original size):
//
//   - faces-found: of the 43 annotated faces of the 34 test photos
//     (pristin.jpg's 10, one in every other photo), how many are found (a
//     photo counts at most its faces); extra-boxes: boxes beyond a photo's
//     face count (false positives); group: of pristin.jpg's 10; profiles:
//     of the profile photos eunseo.jpg and jimin3.jpg, how many have a face;
//   - lfw-%: of BENCH_DETECT_LFW LFW images (default 200, the first of each
//     person), the share with a box over the image centre; lfw-extra: boxes
//     not over the centre (false positives, or background people);
//   - ms at 640×480 and 1920×1080 (jimin.jpg scaled), detection alone.
//
// Run with -benchtime 1x and -cpu 1 (one core): the CNN takes seconds per
// Full-HD photo.
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
		detectors = append(detectors, engine.DetectorAuto, engine.DetectorCNN)
	}
	if e.HasSSD() {
		detectors = append(detectors, engine.DetectorSSD)
	}
	annotated := annotatedFaces(b)
	names := make([]string, 0, len(annotated))
	total := 0
	for n, k := range annotated {
		names = append(names, n)
		total += k
	}
	sort.Strings(names)
	photos := map[string]*imageio.Image{}
	for _, n := range names {
		photos[n] = mustImage(b, n)
	}
	lfw := lfwSample(b, nLFW)
	ctx := context.Background()
	for _, d := range detectors {
		opts := engine.Options{Detector: d, Upsample: -1}
		b.Run(fmt.Sprintf("%s/recall", d), func(b *testing.B) {
			var found, extra, group, profiles, lfwHits, lfwExtra int
			for b.Loop() {
				found, extra, group, profiles, lfwHits, lfwExtra = 0, 0, 0, 0, 0, 0
				for _, name := range names {
					faces, err := e.Analyze(ctx, photos[name], opts)
					if err != nil {
						b.Fatal(err)
					}
					want := annotated[name]
					found += min(len(faces), want)
					extra += max(len(faces)-want, 0)
					switch name {
					case "pristin.jpg":
						group = min(len(faces), want)
					case "eunseo.jpg", "jimin3.jpg":
						profiles += min(len(faces), 1)
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
					hit := false
					for _, f := range faces {
						if !hit && image.Pt(img.Width/2, img.Height/2).In(f.Rect) {
							hit = true
							continue
						}
						lfwExtra++
					}
					if hit {
						lfwHits++
					}
				}
			}
			b.ReportMetric(float64(found), fmt.Sprintf("faces-found/%d", total))
			b.ReportMetric(float64(extra), "extra-boxes")
			b.ReportMetric(float64(group), "group/10")
			b.ReportMetric(float64(profiles), "profiles/2")
			if len(lfw) > 0 {
				b.ReportMetric(100*float64(lfwHits)/float64(len(lfw)), "lfw-%")
				b.ReportMetric(float64(lfwExtra), "lfw-extra")
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
