package engine_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"image"
	"image/jpeg"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	xdraw "golang.org/x/image/draw"

	"github.com/facekit/facekit/engine"
	"github.com/facekit/facekit/engine/imageio"
	"github.com/facekit/facekit/internal/testenv"
)

// dlibReference is face_recognition's detection and landmark pipeline
// written directly against dlib: dlib's own JPEG loader (libjpeg), the
// frontal HOG detector on a pyramid_up copy, boxes mapped back with
// pyramid_down<2>::rect_down (what dlib's Python binding does), and the
// 68-point shape predictor on the original image. It is compiled from this
// source at test time, never committed as a binary.
const dlibReference = `
#include <dlib/image_io.h>
#include <dlib/image_processing.h>
#include <dlib/image_processing/frontal_face_detector.h>
#include <cstdlib>
#include <iostream>
using namespace dlib;
int main(int argc, char **argv) {
  if (argc < 3) { std::cerr << "usage: ref SHAPE_MODEL UPSAMPLE:IMAGE...\n"; return 2; }
  shape_predictor sp;
  deserialize(argv[1]) >> sp;
  frontal_face_detector det = get_frontal_face_detector();
  for (int a = 2; a < argc; a++) {
    const std::string arg = argv[a];
    const int up = std::atoi(arg.substr(0, arg.find(':')).c_str());
    array2d<rgb_pixel> img;
    load_image(img, arg.substr(arg.find(':') + 1));
    std::vector<rect_detection> dets;
    if (up == 0) {
      det(img, dets, 0.0);
    } else {
      pyramid_down<2> pyr;
      array2d<rgb_pixel> big;
      pyramid_up(img, big, pyr);
      for (int i = 1; i < up; i++) pyramid_up(big);
      det(big, dets, 0.0);
      for (auto &d : dets) d.rect = pyr.rect_down(d.rect, up);
    }
    std::cout << "image " << arg << "\n";
    for (auto &d : dets) {
      full_object_detection s = sp(img, d.rect);
      std::cout << "face " << d.rect.left() << " " << d.rect.top() << " " << d.rect.right() << " " << d.rect.bottom();
      for (unsigned long i = 0; i < s.num_parts(); i++) std::cout << " " << s.part(i).x() << " " << s.part(i).y();
      std::cout << "\n";
    }
  }
  return 0;
}
`

var (
	refOnce sync.Once
	refBin  string
	refErr  error
)

// buildReference compiles dlibReference, skipping the test when g++ or
// dlib's development files are missing (outside CI).
func buildReference(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("compiling the dlib reference takes about a minute")
	}
	if _, err := exec.LookPath("g++"); err != nil {
		t.Skip("g++ not installed")
	}
	refOnce.Do(func() {
		flags, err := exec.Command("pkg-config", "--cflags", "--libs", "dlib-1").Output()
		if err != nil {
			refErr = fmt.Errorf("pkg-config dlib-1: %w", err)
			return
		}
		dir, err := os.MkdirTemp("", "facekit-dlib-ref")
		if err != nil {
			refErr = err
			return
		}
		src := filepath.Join(dir, "ref.cc")
		if refErr = os.WriteFile(src, []byte(dlibReference), 0o600); refErr != nil {
			return
		}
		bin := filepath.Join(dir, "ref")
		args := append([]string{"-std=c++14", "-O2", "-DNDEBUG", "-DDLIB_JPEG_SUPPORT", "-DDLIB_NO_GUI_SUPPORT", "-o", bin, src},
			strings.Fields(string(flags))...)
		if out, err := exec.Command("g++", args...).CombinedOutput(); err != nil {
			refErr = fmt.Errorf("g++: %v\n%s", err, out)
			return
		}
		refBin = bin
	})
	if refErr != nil {
		t.Fatalf("building the dlib reference: %v", refErr)
	}
	return refBin
}

type refFace struct {
	rect   image.Rectangle // half-open, like engine.Face.Rect
	points []image.Point
}

// runReference runs the reference once over every "UPSAMPLE:PATH" job
// (loading the shape model once) and returns the faces of each job.
func runReference(t *testing.T, bin string, jobs []string) map[string][]refFace {
	t.Helper()
	out, err := exec.Command(bin, append([]string{engine.DefaultShapeModel}, jobs...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("reference: %v\n%s", err, out)
	}
	all := map[string][]refFace{}
	var job string
	s := bufio.NewScanner(bytes.NewReader(out))
	s.Buffer(nil, 1<<20)
	for s.Scan() {
		if rest, ok := strings.CutPrefix(s.Text(), "image "); ok {
			job = rest
			all[job] = nil
			continue
		}
		f := strings.Fields(s.Text())
		if len(f) != 1+4+68*2 || f[0] != "face" || job == "" {
			t.Fatalf("reference printed %q", s.Text())
		}
		n := make([]int, len(f)-1)
		for i := range n {
			if _, err := fmt.Sscan(f[i+1], &n[i]); err != nil {
				t.Fatal(err)
			}
		}
		rf := refFace{rect: image.Rect(n[0], n[1], n[2]+1, n[3]+1)}
		for i := 0; i < 68; i++ {
			rf.points = append(rf.points, image.Pt(n[4+2*i], n[5+2*i]))
		}
		all[job] = append(all[job], rf)
	}
	if len(all) != len(jobs) {
		t.Fatalf("reference answered %d of %d jobs:\n%s", len(all), len(jobs), out)
	}
	return all
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

// parityPhotos writes the JPEG files both sides read: an LFW image as it is
// and test photos scaled so that one upsampling stays inside the engine's
// detection bound (the reference upsamples without a bound).
func parityPhotos(t *testing.T) map[string]string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{}
	lfw := filepath.Join(testenv.TestData(t), "lfw", "images", "Aaron_Eckhart", "Aaron_Eckhart_0001.jpg")
	if _, err := os.Stat(lfw); err == nil {
		files["lfw/Aaron_Eckhart_0001"] = lfw
	}
	for _, c := range []struct {
		name  string
		width int
	}{{"jimin.jpg", 640}, {"pristin.jpg", 1000}, {"bona2.jpg", 500}} {
		src := mustImage(t, c.name)
		h := c.width * src.Height / src.Width
		dst := image.NewRGBA(image.Rect(0, 0, c.width, h))
		xdraw.CatmullRom.Scale(dst, dst.Bounds(), src, src.Bounds(), xdraw.Src, nil)
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, dst, &jpeg.Options{Quality: 92}); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, fmt.Sprintf("%s-%d.jpg", strings.TrimSuffix(c.name, ".jpg"), c.width))
		if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
		files[filepath.Base(path)] = path
	}
	return files
}

// TestDlibParity: on the same JPEG file at the same upsample, facekit's
// boxes equal those of dlib's own pipeline within 1 px and its landmarks
// within 2 px (libjpeg-turbo decoding, pyramid_up, rect_down mapping).
func TestDlibParity(t *testing.T) {
	bin := buildReference(t)
	e := mustEngine(t)
	photos := parityPhotos(t)
	var jobs []string
	for _, path := range photos {
		jobs = append(jobs, "0:"+path, "1:"+path)
	}
	ref := runReference(t, bin, jobs)
	for name, path := range photos {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		img, err := imageio.Decode(data, imageio.DefaultLimits())
		if err != nil {
			t.Fatal(err)
		}
		for _, up := range []int{0, 1} {
			t.Run(fmt.Sprintf("%s/upsample%d", name, up), func(t *testing.T) {
				want := ref[fmt.Sprintf("%d:%s", up, path)]
				got, err := e.Analyze(context.Background(), img, engine.Options{Upsample: up, Landmarks: true})
				if err != nil {
					t.Fatal(err)
				}
				if len(got) != len(want) {
					t.Fatalf("%d faces, dlib finds %d", len(got), len(want))
				}
				if len(want) == 0 {
					t.Skip("no face at this upsample (nothing to compare)")
				}
				var worstBox, worstPt int
				for _, w := range want {
					// Match by box centre: the two sides may order faces differently.
					best, bestD := -1, 1<<30
					for i, g := range got {
						d := abs(g.Rect.Min.X+g.Rect.Max.X-w.rect.Min.X-w.rect.Max.X) + abs(g.Rect.Min.Y+g.Rect.Max.Y-w.rect.Min.Y-w.rect.Max.Y)
						if d < bestD {
							best, bestD = i, d
						}
					}
					g := got[best]
					for _, d := range []int{g.Rect.Min.X - w.rect.Min.X, g.Rect.Min.Y - w.rect.Min.Y, g.Rect.Max.X - w.rect.Max.X, g.Rect.Max.Y - w.rect.Max.Y} {
						worstBox = max(worstBox, abs(d))
					}
					for i, p := range w.points {
						worstPt = max(worstPt, abs(g.Landmarks[i].X-p.X), abs(g.Landmarks[i].Y-p.Y))
					}
					if worstBox > 1 {
						t.Errorf("box %v, dlib %v", g.Rect, w.rect)
					}
				}
				t.Logf("%d faces: box off by at most %d px, landmarks by at most %d px", len(want), worstBox, worstPt)
				if worstPt > 2 {
					t.Errorf("landmarks off by %d px (want <= 2)", worstPt)
				}
			})
		}
	}
}
