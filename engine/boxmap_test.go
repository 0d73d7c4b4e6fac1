package engine_test

import (
	"context"
	"image"
	"math"
	"os"
	"testing"

	"github.com/facekit/facekit/engine"
	"github.com/facekit/facekit/engine/imageio"
)

// interocular is the distance between the outer eye corners (points 36 and
// 45), the usual normaliser of landmark error.
func interocular(p []image.Point) float64 {
	return math.Hypot(float64(p[45].X-p[36].X), float64(p[45].Y-p[36].Y))
}

// meanPointError is the mean distance between two 68-point shapes over
// their interocular distance.
func meanPointError(a, b []image.Point) float64 {
	var sum float64
	for i := range a {
		sum += math.Hypot(float64(a[i].X-b[i].X), float64(a[i].Y-b[i].Y))
	}
	return sum / float64(len(a)) / interocular(b)
}

// TestCNNBoxesMapToHOGConvention: the shape predictor was trained on HOG's
// boxes. On LFW faces that both detectors find, landmarks fitted to the
// MMOD box mapped by CNNToHOGBox must agree with the landmarks fitted to
// the HOG box better than landmarks fitted to the raw MMOD box do, and to
// within a few percent of the interocular distance.
func TestCNNBoxesMapToHOGConvention(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the CNN detector on LFW images")
	}
	e := mustEngine(t)
	if !e.HasCNN() {
		t.Skip("mmod_human_face_detector.dat not provisioned")
	}
	ctx := context.Background()
	// Images 150-209 of the sample: the mapping was fitted on the first 150.
	paths := lfwSample(t, 210)
	if len(paths) < 210 {
		t.Skipf("only %d LFW images", len(paths))
	}
	var raw, mapped []float64
	for _, p := range paths[150:] {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		img, err := imageio.Decode(data, imageio.DefaultLimits())
		if err != nil {
			t.Fatal(err)
		}
		hog, err := e.Analyze(ctx, img, engine.Options{MaxFaces: 1, SortByCenter: true, Landmarks: true})
		if err != nil {
			t.Fatal(err)
		}
		cnn, err := e.Analyze(ctx, img, engine.Options{Detector: engine.DetectorCNN, MaxFaces: 1, SortByCenter: true, Landmarks: true})
		if err != nil {
			t.Fatal(err)
		}
		if len(hog) == 0 || len(cnn) == 0 {
			continue
		}
		// Analyze reports CNN boxes mapped; undo that for the raw box.
		unmapped := engine.CNNToHOGBoxInverse(cnn[0].Rect)
		shapes, err := e.LandmarksForBoxes(ctx, img, []image.Rectangle{unmapped})
		if err != nil {
			t.Fatal(err)
		}
		raw = append(raw, meanPointError(shapes[0], hog[0].Landmarks))
		mapped = append(mapped, meanPointError(cnn[0].Landmarks, hog[0].Landmarks))
	}
	if len(raw) < 40 {
		t.Fatalf("only %d faces found by both detectors", len(raw))
	}
	mr, mm := mean(raw), mean(mapped)
	t.Logf("%d LFW faces: landmark error against HOG-box landmarks %.2f%% of the interocular distance from raw MMOD boxes, %.2f%% from mapped ones", len(raw), 100*mr, 100*mm)
	if mm >= mr {
		t.Errorf("the mapping does not help: %.4f mapped vs %.4f raw", mm, mr)
	}
	if mm > 0.05 {
		t.Errorf("mapped boxes give landmarks %.1f%% of the interocular distance off HOG's, want < 5%%", 100*mm)
	}
}

// TestAutoDetector: "auto" finds the profile photos HOG misses (through the
// CNN fallback, with landmarks fitted to the mapped box), and on a photo
// where HOG finds faces it is HOG exactly.
func TestAutoDetector(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the CNN detector")
	}
	e := mustEngine(t)
	if !e.HasCNN() {
		t.Skip("mmod_human_face_detector.dat not provisioned")
	}
	for name := range profiles {
		t.Run(name, func(t *testing.T) {
			img := mustImage(t, name)
			if hog := analyze(t, img, engine.Options{Upsample: -1}); len(hog) != 0 {
				t.Logf("HOG now finds %d faces here", len(hog))
			}
			faces := analyze(t, img, engine.Options{Detector: engine.DetectorAuto, Upsample: -1, Landmarks: true})
			if len(faces) == 0 {
				t.Fatal("auto found no face")
			}
			f := faces[0]
			in := 0
			for _, p := range f.Landmarks {
				if p.In(f.Rect.Inset(-f.Rect.Dx() / 4)) {
					in++
				}
			}
			if in < 60 {
				t.Errorf("only %d of 68 landmarks near the box %v", in, f.Rect)
			}
		})
	}
	group := mustImage(t, "pristin.jpg")
	hog := analyze(t, group, engine.Options{})
	auto := analyze(t, group, engine.Options{Detector: engine.DetectorAuto})
	if len(hog) != len(auto) {
		t.Fatalf("auto found %d faces where HOG finds %d", len(auto), len(hog))
	}
	for i := range hog {
		if hog[i].Rect != auto[i].Rect {
			t.Errorf("face %d: auto %v, HOG %v", i, auto[i].Rect, hog[i].Rect)
		}
	}
}
