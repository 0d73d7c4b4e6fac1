package attributes

import (
	"context"
	"os"
	"sync"
	"testing"

	"github.com/facekit/facekit/engine"
	"github.com/facekit/facekit/engine/imageio"
	"github.com/facekit/facekit/internal/testenv"
)

var (
	anOnce sync.Once
	an     *Analyzer
	anErr  error
)

// mustEngine returns the test binary's one engine (loading takes ~1 s).
func mustEngine(tb testing.TB) *engine.Engine {
	tb.Helper()
	return testenv.Engine(tb)
}

// mustAnalyzer returns the test binary's one Analyzer.
func mustAnalyzer(tb testing.TB) *Analyzer {
	tb.Helper()
	dir := testenv.ModelDir(tb)
	anOnce.Do(func() { an, anErr = New(dir) })
	if anErr != nil {
		tb.Fatalf("New: %v", anErr)
	}
	return an
}

// photoFace is a test photo (shrunk to at most maxSide) with its largest face.
type photoFace struct {
	name string
	img  *imageio.Image
	face engine.Face
}

const maxSide = 1024

// singleFacePhotos are the test photos with one face that HOG finds
// (pristin.jpg is a group photo; eunseo.jpg and jimin3.jpg are profiles).
var singleFacePhotos = []string{
	"bona.jpg", "bona2.jpg", "bona3.jpg", "bona4.jpg", "chaeyeon.jpg", "chaeyeon2.jpg", "chaeyeon3.jpg",
	"chaeyoung.jpg", "chaeyoung2.jpg", "elkie.jpg", "eunseo2.jpg", "eunseo3.jpg", "eunwoo.jpg",
	"jimin.jpg", "jimin2.jpg", "jimin4.jpg", "jimin5.jpg", "jimin6.jpg", "jimin7.jpg", "joy.jpg",
	"luda.jpg", "luda2.jpg", "meiqi.jpg", "nana.jpg", "nayoung.jpg", "rena.jpg", "sejeong.jpg",
	"seulgi.jpg", "tzuyu.jpg", "tzuyu2.jpg", "yujin.jpg",
}

var (
	photosOnce sync.Once
	photos     []photoFace
)

// testPhotos decodes, shrinks and detects every single-face photo once per
// test binary; photos where HOG finds nothing are left out.
func testPhotos(tb testing.TB) []photoFace {
	tb.Helper()
	testenv.TestData(tb)
	e := mustEngine(tb)
	photosOnce.Do(func() {
		for _, n := range singleFacePhotos {
			data, err := os.ReadFile(testenv.Face(tb, n))
			if err != nil {
				tb.Fatal(err)
			}
			img, err := imageio.Decode(data, imageio.DefaultLimits())
			if err != nil {
				tb.Fatalf("decode %s: %v", n, err)
			}
			img = shrinkTo(img, maxSide)
			faces, err := e.Analyze(context.Background(), img, engine.Options{Upsample: -1, Landmarks: true})
			if err != nil {
				tb.Fatalf("analyze %s: %v", n, err)
			}
			if len(faces) > 0 {
				photos = append(photos, photoFace{n, img, faces[0]})
			}
		}
	})
	return photos
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

// clone deep-copies an image.
func clone(img *imageio.Image) *imageio.Image {
	out := *img
	out.Pix = append([]byte(nil), img.Pix...)
	return &out
}

func testenvModelDir(tb testing.TB) string { return testenv.ModelDir(tb) }

// genderName spells a gender as the LFW attribute lists do.
func genderName(g *Gender) string {
	if g.Female {
		return "female"
	}
	return "male"
}
