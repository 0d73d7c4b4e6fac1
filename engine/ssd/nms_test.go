package ssd

import (
	"math"
	"math/rand"
	"testing"

	"github.com/facekit/facekit/engine/tfgraph"
)

// TestNMSMatchesBruteForce compares nms with a direct reading of face-api's
// rule on random boxes: a box is kept when no higher-scoring kept box
// overlaps it by more than the threshold.
func TestNMSMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for trial := 0; trial < 200; trial++ {
		var c []candidate
		for i := 0; i < 30; i++ {
			y, x := rng.Float64(), rng.Float64()
			s := 0.05 + 0.2*rng.Float64()
			c = append(c, candidate{y, x, y + s, x + s, rng.Float64()})
		}
		// Reference: repeatedly take the best remaining box, then remove
		// every remaining box overlapping it by more than 0.5.
		rest := append([]candidate(nil), c...)
		var want []candidate
		for len(rest) > 0 {
			b := 0
			for i := range rest {
				if rest[i].score > rest[b].score {
					b = i
				}
			}
			best := rest[b]
			want = append(want, best)
			var next []candidate
			for i, r := range rest {
				if i == b {
					continue
				}
				ih := math.Max(math.Min(r.ymax, best.ymax)-math.Max(r.ymin, best.ymin), 0)
				iw := math.Max(math.Min(r.xmax, best.xmax)-math.Max(r.xmin, best.xmin), 0)
				inter := ih * iw
				u := (r.ymax-r.ymin)*(r.xmax-r.xmin) + (best.ymax-best.ymin)*(best.xmax-best.xmin) - inter
				if inter/u <= 0.5 {
					next = append(next, r)
				}
			}
			rest = next
		}
		got := nms(c, 0.5)
		if len(got) != len(want) {
			t.Fatalf("trial %d: kept %d boxes, reference %d", trial, len(got), len(want))
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("trial %d box %d: %+v, reference %+v", trial, i, got[i], want[i])
			}
		}
	}
}

// TestDecodeBox checks the box decoding on hand-computed values: anchor
// (0.2,0.4)-(0.4,0.8) has centre (0.3,0.6) and size 0.2×0.4; encodings
// (ty,tx,th,tw) = (10, -5, 5·ln 2, 0) move the centre by one anchor height
// down and half an anchor width left and double the height.
func TestDecodeBox(t *testing.T) {
	d := &Detector{anchors: make([]float32, 4*numAnchors)}
	copy(d.anchors, []float32{0.2, 0.4, 0.4, 0.8})
	out := map[string]*tfgraph.Tensor{}
	for i, h := range heads {
		b, c := predictor(i)
		n := h.side * h.side * h.anchors
		out[b] = tfgraph.NewTensor(1, h.side, h.side, 4*h.anchors)
		out[c] = tfgraph.NewTensor(1, h.side, h.side, 3*h.anchors)
		for k := 0; k < n; k++ {
			out[c].Data[3*k+1] = -20 // no face
		}
	}
	b, c := predictor(0)
	copy(out[b].Data, []float32{10, -5, float32(5 * math.Ln2), 0})
	out[c].Data[0], out[c].Data[1], out[c].Data[2] = 9, 2, -9 // background and the third logit are ignored
	got := d.decode(out, 0.5)
	if len(got) != 1 {
		t.Fatalf("%d candidates, want 1", len(got))
	}
	want := candidate{0.5 - 0.2, 0.4 - 0.2, 0.5 + 0.2, 0.4 + 0.2, 1 / (1 + math.Exp(-2))}
	g := got[0]
	for i, p := range [][2]float64{{g.ymin, want.ymin}, {g.xmin, want.xmin}, {g.ymax, want.ymax}, {g.xmax, want.xmax}, {g.score, want.score}} {
		if math.Abs(p[0]-p[1]) > 1e-6 {
			t.Errorf("value %d: %.6f, want %.6f", i, p[0], p[1])
		}
	}
}

// TestInputPadsAndResizes checks the preprocessing on a 2×1 image: padded
// to 2×2 with black below, resized to 512×512 by sampling at
// destination × 2/512, scaled to -1..1.
func TestInputPadsAndResizes(t *testing.T) {
	pix := []byte{0, 100, 200, 255, 255, 255}
	in, side := Input(pix, 6, 2, 1)
	if side != 2 {
		t.Fatalf("side %d, want 2", side)
	}
	at := func(x, y, c int) float32 { return in.Data[(y*inputSize+x)*3+c] }
	cases := []struct {
		x, y, c int
		want    float64
	}{
		{0, 0, 0, 0},       // pixel (0,0) red exactly
		{0, 0, 1, 100},     // green
		{256, 0, 0, 255},   // source x = 1: pixel (1,0)
		{128, 0, 0, 127.5}, // source x = 0.5: halfway
		{0, 128, 1, 50},    // source y = 0.5: halfway to the black padding
		{0, 200, 2, 43.75}, // source y = 0.78125: mostly padding
		{0, 511, 2, 0},     // source y = 1.996: the last row is clamped, all padding
	}
	for _, c := range cases {
		want := c.want/127.5 - 1
		if got := float64(at(c.x, c.y, c.c)); math.Abs(got-want) > 1e-5 {
			t.Errorf("(%d,%d,%d) = %.6f, want %.6f", c.x, c.y, c.c, got, want)
		}
	}
}
