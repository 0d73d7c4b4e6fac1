package liveness

import (
	"context"
	"image"
	"os"
	"path/filepath"
	"testing"

	"github.com/facekit/facekit/engine/ocvdnn"
	"github.com/facekit/facekit/internal/testenv"
)

// TestFRLivenessNetOnNUAA measures faceplugin's fr_liveness net as a
// feature of the liveness model under three framings: the univariate AUC
// (live above print) of each class on each half of NUAA, and the held-out
// AUC of the model fitted with and without it (docs/faceplugin.md records
// the figures that chose the framing; FACEKIT_NUAA_STEP=2 uses every
// second crop).
func TestFRLivenessNetOnNUAA(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a network on NUAA crops")
	}
	p := filepath.Join(testenv.ModelDir(t), "faceplugin", "fr_liveness.onnx")
	if _, err := os.Stat(p); err != nil {
		t.Skipf("%s not provisioned", p)
	}
	m, err := ocvdnn.Open(ocvdnn.Config{Path: p, Input: []int{1, 3, 128, 128}, Instances: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	step := 4
	if s := os.Getenv("FACEKIT_NUAA_STEP"); s != "" {
		step = int(s[0] - '0')
	}
	samples, _ := nuaaSamples(t, step, func(int) bool { return true })
	c := mustChecker(t)
	base := make([][numFeatures]float64, len(samples))
	for i, s := range samples {
		if base[i], err = c.features(s.img, s.face, false); err != nil {
			t.Fatalf("%s: %v", s.path, err)
		}
	}
	// heldOut fits the logistic model on one half and returns its AUC on
	// the other, both ways (odd→even, even→odd).
	heldOut := func(xs [][numFeatures]float64, use [numFeatures]bool) (oddToEven, evenToOdd float64) {
		fitTest := func(trainOdd bool) float64 {
			var trX [][numFeatures]float64
			var trY []float64
			for i, s := range samples {
				if trainSubject(s.subject) == trainOdd {
					trX = append(trX, xs[i])
					trY = append(trY, map[bool]float64{true: 1, false: 0}[s.live])
				}
			}
			m := fitLogistic(trX, trY, use, l2)
			var live, spoof []float64
			for i, s := range samples {
				if trainSubject(s.subject) != trainOdd {
					if p := m.prob(xs[i]); s.live {
						live = append(live, p)
					} else {
						spoof = append(spoof, p)
					}
				}
			}
			return auc(live, spoof)
		}
		return fitTest(true), fitTest(false)
	}
	without := usedFeatures
	without[featFRLiveness] = false
	a, b := heldOut(base, without)
	t.Logf("the model without fr_liveness refitted on these %d crops: held-out AUC %.3f (odd→even), %.3f (even→odd)", len(samples), a, b)
	framings := []struct {
		name string
		box  func(s nuaaSample) image.Rectangle
	}{
		{"whole crop", func(s nuaaSample) image.Rectangle { return image.Rect(0, 0, s.img.Width, s.img.Height) }},
		{"face box ×2.7 (the JavaScript's)", func(s nuaaSample) image.Rectangle { return frBox(s.face.Rect, s.img.Width, s.img.Height) }},
		{"landmark square ×1.15 (the model's)", func(s nuaaSample) image.Rectangle { return faceSquare(s.face.Landmarks, cropScale) }},
	}
	for _, fr := range framings {
		var pos, neg [3][2][]float64 // [class][train half? 1 : 0]
		with := append([][numFeatures]float64(nil), base...)
		for i, s := range samples {
			out, err := m.Run(context.Background(), frInput(s.img, fr.box(s)))
			if err != nil {
				t.Fatal(err)
			}
			if len(out) != 3 {
				t.Fatalf("%d outputs, want 3", len(out))
			}
			h := 0
			if trainSubject(s.subject) {
				h = 1
			}
			with[i][featFRLiveness] = logSoftmax(out, 0)
			for k := range out {
				x := logSoftmax(out, k)
				if s.live {
					pos[k][h] = append(pos[k][h], x)
				} else {
					neg[k][h] = append(neg[k][h], x)
				}
			}
		}
		a, b := heldOut(with, usedFeatures)
		t.Logf("%s: the model with fr_liveness log P(class 0): held-out AUC %.3f (odd→even), %.3f (even→odd)", fr.name, a, b)
		for k := range pos {
			t.Logf("%s: AUC of log P(class %d) (live above print): odd subjects %.3f, even subjects %.3f (%d+%d / %d+%d crops)",
				fr.name, k, auc(pos[k][1], neg[k][1]), auc(pos[k][0], neg[k][0]), len(pos[k][1]), len(neg[k][1]), len(pos[k][0]), len(neg[k][0]))
		}
	}
}
