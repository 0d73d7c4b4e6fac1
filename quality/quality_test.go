package quality

import (
	"errors"
	"fmt"
	"image"
	"math"
	"slices"
	"sync"
	"testing"

	"github.com/facekit/facekit/engine"
	"github.com/facekit/facekit/engine/imageio"
	"github.com/facekit/facekit/quality/internal/qtest"
)

// photosForTest returns the single-face test photos; -short keeps the
// first eight (still the ≥ 8 the occlusion criteria are stated over).
func photosForTest(tb testing.TB) []qtest.PhotoFace {
	ps := qtest.Photos(tb)
	if testing.Short() && len(ps) > 8 {
		ps = ps[:8]
	}
	if len(ps) < 8 {
		tb.Fatalf("only %d test photos with a detected face; the criteria need at least 8", len(ps))
	}
	return ps
}

func TestMeasureRejectsBadInput(t *testing.T) {
	good := make([]image.Point, 68)
	for i := range good {
		good[i] = image.Pt(10+i, 20+i%7)
	}
	collapsed := make([]image.Point, 68)
	for i := range collapsed {
		collapsed[i] = image.Pt(50, 50)
	}
	img := imageio.NewImage(100, 100)
	tests := []struct {
		name string
		img  *imageio.Image
		face engine.Face
		want error
	}{
		{"NilImage", nil, engine.Face{Landmarks: good}, ErrEmptyImage},
		{"EmptyImage", imageio.NewImage(0, 0), engine.Face{Landmarks: good}, ErrEmptyImage},
		{"NoLandmarks", img, engine.Face{}, ErrLandmarks},
		{"FiveLandmarks", img, engine.Face{Landmarks: good[:5]}, ErrLandmarks},
		{"CollapsedLandmarks", img, engine.Face{Landmarks: collapsed}, ErrDegenerateFace},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Measure(tt.img, tt.face); !errors.Is(err, tt.want) {
				t.Fatalf("Measure: got %v, want %v", err, tt.want)
			}
		})
	}
}

func TestMeasureCleanPhotosInRange(t *testing.T) {
	for _, p := range photosForTest(t) {
		t.Run(p.Name, func(t *testing.T) {
			r, err := Measure(p.Img, p.Face)
			if err != nil {
				t.Fatal(err)
			}
			if r.Blur < 0 || r.Blur > 1 || r.Illumination < 0 || r.Illumination > 255 || r.Completeness != 1 {
				t.Errorf("out of range: %+v", r)
			}
			for i, v := range r.Occlusion.values() {
				if v < 0 || v > 1 || math.IsNaN(v) {
					t.Errorf("%s occlusion %v out of range", regionNames[i], v)
				}
			}
			if r.FaceWidth != p.Face.Rect.Dx() || r.Pose != p.Face.Pose {
				t.Errorf("size/pose not carried over: %+v", r)
			}
		})
	}
}

// rawBlur is the blur effect before the linear rescaling, so that the
// monotonicity test is not hidden by clamping at 0 or 1.
func rawBlur(tb testing.TB, img *imageio.Image, f engine.Face) float64 {
	tb.Helper()
	c, err := engine.Chip(img, f, blurChipSize, blurChipPadding)
	if err != nil {
		tb.Fatal(err)
	}
	g := make([]float64, c.Width*c.Height)
	for y := 0; y < c.Height; y++ {
		for x := 0; x < c.Width; x++ {
			r, gg, b := c.RGBAt(x, y)
			g[y*c.Width+x] = 0.299*float64(r) + 0.587*float64(gg) + 0.114*float64(b)
		}
	}
	return blurEffect(g, c.Width, c.Height)
}

// blurSigmas are the Gaussian blurs (in source pixels) of the blur tests
// and figures; 0 is the photo as taken.
var blurSigmas = []float64{0, 1, 2, 4}

func TestBlurIncreasesWithSigma(t *testing.T) {
	ps := photosForTest(t)[:6]
	var sharp, sigma4 []float64
	for _, p := range ps {
		t.Run(p.Name, func(t *testing.T) {
			prevRaw, prevScore := -1.0, -1.0
			for _, s := range blurSigmas {
				img := p.Img
				if s > 0 {
					img = qtest.GaussianBlur(p.Img, s)
				}
				raw := rawBlur(t, img, p.Face)
				r, err := Measure(img, p.Face)
				if err != nil {
					t.Fatal(err)
				}
				if raw <= prevRaw || r.Blur < prevScore {
					t.Errorf("sigma %v: raw %.3f score %.3f, not above the previous %.3f / %.3f", s, raw, r.Blur, prevRaw, prevScore)
				}
				prevRaw, prevScore = raw, r.Blur
				switch s {
				case 0:
					sharp = append(sharp, r.Blur)
				case 4:
					sigma4 = append(sigma4, r.Blur)
				}
			}
		})
	}
	// Faces differ in size, so a fixed sigma blurs them by different
	// amounts; the calibration targets hold for the typical face.
	if m := quantile(sharp, 0.5); m > 0.3 {
		t.Errorf("median blur of sharp photos %.2f, want ≤ 0.3", m)
	}
	if m := quantile(sigma4, 0.5); m < 0.7 {
		t.Errorf("median blur at sigma 4 %.2f, want ≥ 0.7", m)
	}
}

func TestBlurEffectOfFlatPatchIsOne(t *testing.T) {
	g := make([]float64, 40*40)
	for i := range g {
		g[i] = 128
	}
	if b := blurEffect(g, 40, 40); b != 1 {
		t.Fatalf("flat patch: %v, want 1", b)
	}
	if b := blurEffect(g[:4], 2, 2); b != 1 {
		t.Fatalf("tiny patch: %v, want 1", b)
	}
}

func TestIlluminationTracksBrightness(t *testing.T) {
	for _, p := range photosForTest(t)[:4] {
		t.Run(p.Name, func(t *testing.T) {
			base, err := Measure(p.Img, p.Face)
			if err != nil {
				t.Fatal(err)
			}
			prev := -1.0
			for _, k := range []float64{0.25, 0.5, 0.75, 1} {
				r, err := Measure(qtest.ScaleBrightness(p.Img, k), p.Face)
				if err != nil {
					t.Fatal(err)
				}
				if r.Illumination <= prev {
					t.Errorf("×%.2f: illumination %.1f not above %.1f", k, r.Illumination, prev)
				}
				prev = r.Illumination
				// Darkening scales luma linearly (nothing clips), up to
				// rounding of each channel.
				if want := k * base.Illumination; math.Abs(r.Illumination-want) > 1.5 {
					t.Errorf("×%.2f: illumination %.1f, want %.1f", k, r.Illumination, want)
				}
			}
		})
	}
	t.Run("UniformGrey", func(t *testing.T) {
		p := photosForTest(t)[0]
		grey := imageio.NewImage(p.Img.Width, p.Img.Height)
		for i := range grey.Pix {
			grey.Pix[i] = 77
		}
		r, err := Measure(grey, p.Face)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(r.Illumination-77) > 0.5 {
			t.Fatalf("illumination of a uniform 77 image: %.1f", r.Illumination)
		}
	})
}

// cropFrom returns the part of img right of x, with f moved into the new
// coordinates.
func cropFrom(img *imageio.Image, f engine.Face, x int) (*imageio.Image, engine.Face) {
	out := imageio.NewImage(img.Width-x, img.Height)
	for y := 0; y < img.Height; y++ {
		copy(out.Pix[y*out.Stride:], img.Pix[y*img.Stride+3*x:y*img.Stride+3*img.Width])
	}
	g := f
	g.Rect = f.Rect.Sub(image.Pt(x, 0))
	g.Landmarks = make([]image.Point, len(f.Landmarks))
	for i, p := range f.Landmarks {
		g.Landmarks[i] = p.Sub(image.Pt(x, 0))
	}
	return out, g
}

func TestCompleteness(t *testing.T) {
	p := photosForTest(t)[0]
	cx := (p.Face.Rect.Min.X + p.Face.Rect.Max.X) / 2
	half, halfFace := cropFrom(p.Img, p.Face, cx)
	left := p.Face.Rect.Min.X
	for _, q := range p.Face.Landmarks {
		left = min(left, q.X)
	}
	edge, edgeFace := cropFrom(p.Img, p.Face, max(left-2, 0))
	tests := []struct {
		name string
		img  *imageio.Image
		face engine.Face
		want int
	}{
		{"WholeFaceIsComplete", p.Img, p.Face, 1},
		{"FaceJustInsideIsComplete", edge, edgeFace, 1},
		{"HalfCroppedIsIncomplete", half, halfFace, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Measure(tt.img, tt.face)
			if err != nil {
				t.Fatal(err)
			}
			if r.Completeness != tt.want {
				t.Fatalf("completeness %d, want %d", r.Completeness, tt.want)
			}
			if tt.want == 0 {
				// The missing half is not visible, so the regions on it
				// must read as covered.
				if r.Occlusion.LeftEye < 0.6 || r.Occlusion.LeftCheek < 0.8 {
					t.Errorf("cut-off regions read visible: %+v", r.Occlusion)
				}
			}
		})
	}
}

// trial is one occluder pasted on one photo.
type trial struct {
	occluder int
	photo    string
	scores   [numRegions]float64
	// redetected is true when the face was found again on the doctored
	// photo (its landmarks are used), false when the clean photo's
	// landmarks had to stand in.
	redetected bool
}

var (
	trialsOnce  sync.Once
	trialsCache []trial
	trialsShort bool
)

// occlusionTrials pastes every occluder on every photo and measures it.
// The face is detected again on the doctored photo, as the service would;
// when the occluder hides it from the detector (or moves the box so that
// it overlaps the clean box by less than half), the clean photo's
// landmarks stand in, since the estimator, not the detector, is under
// test here.
func occlusionTrials(tb testing.TB) []trial {
	tb.Helper()
	ps := photosForTest(tb)
	trialsOnce.Do(func() {
		trialsShort = testing.Short()
		for oi, oc := range occluders {
			for _, p := range ps {
				img := qtest.Clone(p.Img)
				oc.paste(img, frameOf(p.Face))
				f, ok := qtest.Detect(tb, img)
				re := ok && iou(f.Rect, p.Face.Rect) >= 0.5
				if !re {
					f = p.Face
				}
				r, err := Measure(img, f)
				if err != nil {
					tb.Fatalf("%s on %s: %v", oc.name, p.Name, err)
				}
				trialsCache = append(trialsCache, trial{oi, p.Name, r.Occlusion.values(), re})
			}
		}
	})
	return trialsCache
}

// minOccluderPassRate is the share of photos on which an occluder must be
// read exactly right (every covered region at or above its NORMAL limit,
// every uncovered one below it). It is not 1 because the doctored photos
// are re-detected: a pasted patch shifts dlib's landmark fit on some
// faces, and three photos carry real occluders of their own (eunwoo.jpg:
// round glasses and a hand on the cheek; jimin7.jpg and bona4.jpg: hair
// over an eye), which push an "uncovered" region over its limit. On the
// 31 photos this allows 4 misses per occluder; the measured misses are in
// docs/quality.md.
const minOccluderPassRate = 0.87

func TestOcclusionSeparatesPastedOccluders(t *testing.T) {
	normal, _ := LevelThresholds(LevelNormal)
	trials := occlusionTrials(t)
	for oi, oc := range occluders {
		t.Run(oc.name, func(t *testing.T) {
			n, pass := 0, 0
			for _, tr := range trials {
				if tr.occluder != oi {
					continue
				}
				n++
				ok := true
				for _, r := range oc.covered {
					if tr.scores[r] < normal.Occlusion[r] {
						ok = false
						t.Logf("%s: covered %s scored %.2f (limit %.2f)", tr.photo, regionNames[r], tr.scores[r], normal.Occlusion[r])
					}
				}
				for _, r := range oc.uncovered {
					if tr.scores[r] >= normal.Occlusion[r] {
						ok = false
						t.Logf("%s: uncovered %s scored %.2f (limit %.2f)", tr.photo, regionNames[r], tr.scores[r], normal.Occlusion[r])
					}
				}
				if ok {
					pass++
				}
			}
			if rate := float64(pass) / float64(n); rate < minOccluderPassRate {
				t.Errorf("read right on %d of %d photos (%.0f%%), want ≥ %.0f%%", pass, n, 100*rate, 100*minOccluderPassRate)
			}
		})
	}
}

func TestOcclusionOfCleanPhotosIsLow(t *testing.T) {
	normal, _ := LevelThresholds(LevelNormal)
	n, over := 0, 0
	for _, p := range photosForTest(t) {
		r, err := Measure(p.Img, p.Face)
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range r.Occlusion.values() {
			n++
			if v >= normal.Occlusion[i] {
				over++
				t.Logf("%s: %s %.2f", p.Name, regionNames[i], v)
			}
		}
	}
	// Only eunwoo.jpg's glasses have been seen to cross a limit.
	if float64(over) > 0.02*float64(n) {
		t.Errorf("%d of %d clean regions over the NORMAL limit", over, n)
	}
}

func TestOcclusionGreyscalePhoto(t *testing.T) {
	// Without colour only brightness and structure are left; a black bar
	// must still read as covering the eyes.
	p := photosForTest(t)[0]
	grey := qtest.Clone(p.Img)
	for i := 0; i+2 < len(grey.Pix); i += 3 {
		y := uint8((299*int(grey.Pix[i]) + 587*int(grey.Pix[i+1]) + 114*int(grey.Pix[i+2])) / 1000)
		grey.Pix[i], grey.Pix[i+1], grey.Pix[i+2] = y, y, y
	}
	clean, err := Measure(grey, p.Face)
	if err != nil {
		t.Fatal(err)
	}
	bar := qtest.Clone(grey)
	occluders[0].paste(bar, frameOf(p.Face))
	covered, err := Measure(bar, p.Face)
	if err != nil {
		t.Fatal(err)
	}
	if covered.Occlusion.LeftEye < 0.6 || covered.Occlusion.RightEye < 0.6 {
		t.Errorf("greyscale black bar: eyes %.2f %.2f", covered.Occlusion.LeftEye, covered.Occlusion.RightEye)
	}
	if clean.Occlusion.LeftEye >= 0.6 || clean.Occlusion.RightEye >= 0.6 || clean.Occlusion.Mouth >= 0.7 {
		t.Errorf("greyscale clean face reads occluded: %+v", clean.Occlusion)
	}
}

func BenchmarkMeasure640x480(b *testing.B) {
	src := qtest.Photo(b, "jimin.jpg")
	// A 4:3 crop around the face, resampled to VGA.
	w := src.Height * 4 / 3
	x0 := max(0, min(src.Width-w, src.Width/2-w/2))
	crop, _ := cropFrom(src, engine.Face{}, x0)
	crop.Width = w
	img := qtest.Resize(crop, 640, 480)
	f, ok := qtest.Detect(b, img)
	if !ok {
		b.Skip("no face in the 640×480 copy")
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := Measure(img, f); err != nil {
			b.Fatal(err)
		}
	}
}

func ExampleCheck() {
	r := Report{Blur: 0.2, Illumination: 150, Completeness: 1, FaceWidth: 200, FaceHeight: 200,
		Occlusion: Occlusion{LeftEye: 0.9}}
	err := Check(r, LevelNormal)
	fmt.Println(errors.Is(err, ErrOcclusionLeftEye))
	// Output: true
}

// TestOcclusionGreyscaleMouthOccluders: in greyscale photos, where lip
// colour is no evidence, the mask and the hand over the mouth still read as
// covering it. The LFW faces of TestBeardsAreNotOcclusion are greyscale, so
// this is the check that letting beards through did not let these through.
// The clean photos' landmarks are used (no re-detection), as only the
// estimator is under test.
func TestOcclusionGreyscaleMouthOccluders(t *testing.T) {
	normal, _ := LevelThresholds(LevelNormal)
	ps := photosForTest(t)
	for _, oc := range occluders {
		if !slices.Contains(oc.covered, regMouth) {
			continue
		}
		t.Run(oc.name, func(t *testing.T) {
			pass := 0
			for _, p := range ps {
				img := qtest.Clone(p.Img)
				for i := 0; i+2 < len(img.Pix); i += 3 {
					y := uint8((299*int(img.Pix[i]) + 587*int(img.Pix[i+1]) + 114*int(img.Pix[i+2])) / 1000)
					img.Pix[i], img.Pix[i+1], img.Pix[i+2] = y, y, y
				}
				oc.paste(img, frameOf(p.Face))
				r, err := Measure(img, p.Face)
				if err != nil {
					t.Fatalf("%s: %v", p.Name, err)
				}
				if r.Occlusion.Mouth >= normal.Occlusion[regMouth] {
					pass++
				} else {
					t.Logf("%s: mouth scored %.2f (limit %.2f)", p.Name, r.Occlusion.Mouth, normal.Occlusion[regMouth])
				}
			}
			if rate := float64(pass) / float64(len(ps)); rate < minOccluderPassRate {
				t.Errorf("mouth read covered on %d of %d greyscale photos (%.0f%%), want ≥ %.0f%%", pass, len(ps), 100*rate, 100*minOccluderPassRate)
			}
		})
	}
}
