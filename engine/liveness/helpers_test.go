package liveness

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"

	"github.com/facekit/facekit/engine"
	"github.com/facekit/facekit/engine/imageio"
	"github.com/facekit/facekit/internal/missing"
	"github.com/facekit/facekit/internal/testenv"
)

var (
	chkOnce sync.Once
	chk     *Checker
	chkErr  error
)

func mustEngine(tb testing.TB) *engine.Engine {
	tb.Helper()
	return testenv.Engine(tb)
}

func mustChecker(tb testing.TB) *Checker {
	tb.Helper()
	dir := testenv.ModelDir(tb)
	chkOnce.Do(func() { chk, chkErr = New(dir) })
	if chkErr != nil {
		tb.Fatalf("New: %v", chkErr)
	}
	return chk
}

func decodeFile(tb testing.TB, path string) *imageio.Image {
	tb.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	img, err := imageio.Decode(data, imageio.DefaultLimits())
	if err != nil {
		tb.Fatalf("decode %s: %v", path, err)
	}
	return img
}

// largestFace detects the largest face with landmarks, or false.
func largestFace(tb testing.TB, img *imageio.Image) (engine.Face, bool) {
	tb.Helper()
	faces, err := mustEngine(tb).Analyze(context.Background(), img, engine.Options{Upsample: -1, Landmarks: true})
	if err != nil {
		tb.Fatalf("analyze: %v", err)
	}
	if len(faces) == 0 {
		return engine.Face{}, false
	}
	return faces[0], true
}

// nuaaSample is one NUAA crop with its detected face.
type nuaaSample struct {
	subject int
	live    bool
	path    string
	img     *imageio.Image
	face    engine.Face
}

// trainSubject says which half of NUAA a subject belongs to: odd subjects
// train, even subjects are held out.
func trainSubject(s int) bool { return s%2 == 1 }

// nuaaSamples returns every step-th crop (per subject and kind) of the
// chosen subjects with a detected face, and how many crops had none.
func nuaaSamples(tb testing.TB, step int, want func(subject int) bool) (out []nuaaSample, missed int) {
	tb.Helper()
	root := filepath.Join(testenv.TestData(tb), "spoof-nuaa")
	for _, kind := range []string{"live", "print"} {
		subs, err := os.ReadDir(filepath.Join(root, kind))
		if err != nil {
			missing.Data(tb, missing.TestData, "NUAA crops not found: %v", err)
		}
		for _, sub := range subs {
			var s int
			for _, ch := range sub.Name() {
				s = 10*s + int(ch-'0')
			}
			if !want(s) {
				continue
			}
			files, err := os.ReadDir(filepath.Join(root, kind, sub.Name()))
			if err != nil {
				tb.Fatal(err)
			}
			names := make([]string, 0, len(files))
			for _, f := range files {
				names = append(names, f.Name())
			}
			sort.Strings(names)
			for i := 0; i < len(names); i += step {
				p := filepath.Join(root, kind, sub.Name(), names[i])
				img := decodeFile(tb, p)
				f, ok := largestFace(tb, img)
				if !ok {
					missed++
					continue
				}
				out = append(out, nuaaSample{s, kind == "live", p, img, f})
			}
		}
	}
	return out, missed
}

// auc is the probability that a random positive scores above a random
// negative (ties count half).
func auc(pos, neg []float64) float64 {
	if len(pos) == 0 || len(neg) == 0 {
		return 0.5
	}
	n := append([]float64(nil), neg...)
	sort.Float64s(n)
	var s float64
	for _, p := range pos {
		lo := sort.SearchFloat64s(n, p)
		hi := lo
		for hi < len(n) && n[hi] == p {
			hi++
		}
		s += float64(lo) + 0.5*float64(hi-lo)
	}
	return s / float64(len(pos)*len(neg))
}

// testPhotoNames are single-face test photos that HOG finds.
var testPhotoNames = []string{
	"bona.jpg", "bona2.jpg", "bona3.jpg", "bona4.jpg", "chaeyeon.jpg", "chaeyeon2.jpg", "chaeyeon3.jpg",
	"chaeyoung.jpg", "chaeyoung2.jpg", "elkie.jpg", "eunseo2.jpg", "eunseo3.jpg", "eunwoo.jpg",
	"jimin.jpg", "jimin2.jpg", "jimin4.jpg", "jimin5.jpg", "jimin6.jpg", "jimin7.jpg", "joy.jpg",
	"luda.jpg", "luda2.jpg", "meiqi.jpg", "nana.jpg", "nayoung.jpg", "rena.jpg", "sejeong.jpg",
	"seulgi.jpg", "tzuyu.jpg", "tzuyu2.jpg", "yujin.jpg",
}

type photoFace struct {
	name string
	img  *imageio.Image
	face engine.Face
}

// testPhotos decodes every step-th test photo, shrinks it to at most 1024
// px and detects its face.
func testPhotos(tb testing.TB, step int) []photoFace {
	tb.Helper()
	var out []photoFace
	for i := 0; i < len(testPhotoNames); i += step {
		n := testPhotoNames[i]
		img := shrinkTo(decodeFile(tb, testenv.Face(tb, n)), 1024)
		if f, ok := largestFace(tb, img); ok {
			out = append(out, photoFace{n, img, f})
		}
	}
	return out
}

// shrinkTo box-filters img down by an integer factor until its longer side
// is at most side.
func shrinkTo(img *imageio.Image, side int) *imageio.Image {
	k := (max(img.Width, img.Height) + side - 1) / side
	if k <= 1 {
		return img
	}
	out := imageio.NewImage(img.Width/k, img.Height/k)
	for y := 0; y < out.Height; y++ {
		for x := 0; x < out.Width; x++ {
			var s [3]int
			for dy := 0; dy < k; dy++ {
				for dx := 0; dx < k; dx++ {
					p := img.Pix[(y*k+dy)*img.Stride+3*(x*k+dx):]
					s[0], s[1], s[2] = s[0]+int(p[0]), s[1]+int(p[1]), s[2]+int(p[2])
				}
			}
			n := k * k
			out.SetRGB(x, y, uint8(s[0]/n), uint8(s[1]/n), uint8(s[2]/n))
		}
	}
	return out
}
