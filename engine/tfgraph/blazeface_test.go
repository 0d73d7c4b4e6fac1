package tfgraph

import (
	"image"
	"math"
	"testing"
)

// TestBlazefaceFindsTheFace decodes the best-scoring anchor of the blazeface
// graph (16×16×2 anchors at stride 16 in Identity/Identity_2, 8×8×6 at
// stride 32 in Identity_1/Identity_3; regressors start with the box centre
// offset in input pixels) and requires it on the face of a 900×900 crop of
// faces/jimin.jpg whose face centre is at about (470, 410).
func TestBlazefaceFindsTheFace(t *testing.T) {
	m := MustLoad(t, "blazeface")
	img := loadJPEG(t, "faces/jimin.jpg")
	crop := image.Rect(500, 0, 1400, 900)
	out, err := m.Run(map[string]*Tensor{"input": ImageTensor(img, crop, 256, false, RangeSigned)})
	if err != nil {
		t.Fatal(err)
	}
	type grid struct {
		scores, boxes string
		side, per     int
	}
	best, bx, by := math.Inf(-1), 0.0, 0.0
	for _, g := range []grid{{"Identity", "Identity_2", 16, 2}, {"Identity_1", "Identity_3", 8, 6}} {
		s, b := out[g.scores].Data, out[g.boxes].Data
		stride := 256.0 / float64(g.side)
		for a, logit := range s {
			if float64(logit) <= best {
				continue
			}
			cell := a / g.per
			best = float64(logit)
			bx = (float64(cell%g.side)+0.5)*stride + float64(b[16*a])
			by = (float64(cell/g.side)+0.5)*stride + float64(b[16*a+1])
		}
	}
	// Back to crop pixels.
	bx, by = bx*900/256, by*900/256
	if p := 1 / (1 + math.Exp(-best)); p < 0.75 {
		t.Errorf("best face score %.3f, want > 0.75", p)
	}
	if math.Hypot(bx-470, by-410) > 80 {
		t.Errorf("best box centre (%.0f,%.0f), want near (470,410)", bx, by)
	}
	t.Logf("score %.3f centre (%.0f,%.0f)", 1/(1+math.Exp(-best)), bx, by)
}
