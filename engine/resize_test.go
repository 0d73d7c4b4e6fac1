package engine

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/facekit/facekit/engine/dlib"
)

// downscaleReference is the straightforward per-box area average that
// downscale must reproduce byte for byte.
func downscaleReference(src *dlib.RGB, maxSide int) (*dlib.RGB, float64) {
	long := max(src.Width, src.Height)
	if maxSide <= 0 || long <= maxSide {
		return src, 1
	}
	scale := float64(long) / float64(maxSide)
	w := max(1, int(float64(src.Width)/scale+0.5))
	h := max(1, int(float64(src.Height)/scale+0.5))
	dst := &dlib.RGB{Pix: make([]byte, w*h*3), Width: w, Height: h, Stride: w * 3}
	sx := float64(src.Width) / float64(w)
	sy := float64(src.Height) / float64(h)
	for y := 0; y < h; y++ {
		y0, y1 := int(float64(y)*sy), min(src.Height, int(float64(y+1)*sy+0.999))
		for x := 0; x < w; x++ {
			x0, x1 := int(float64(x)*sx), min(src.Width, int(float64(x+1)*sx+0.999))
			var r, g, b, n int
			for yy := y0; yy < y1; yy++ {
				row := src.Pix[yy*src.Stride:]
				for xx := x0; xx < x1; xx++ {
					r += int(row[3*xx])
					g += int(row[3*xx+1])
					b += int(row[3*xx+2])
					n++
				}
			}
			o := y*dst.Stride + 3*x
			dst.Pix[o], dst.Pix[o+1], dst.Pix[o+2] = byte(r/n), byte(g/n), byte(b/n)
		}
	}
	return dst, float64(src.Width) / float64(w)
}

func randomRGB(r *rand.Rand, w, h, pad int) *dlib.RGB {
	img := &dlib.RGB{Width: w, Height: h, Stride: 3*w + pad}
	img.Pix = make([]byte, img.Stride*h)
	for i := range img.Pix {
		img.Pix[i] = byte(r.IntN(256))
	}
	return img
}

func TestDownscaleMatchesBoxAverage(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	tests := []struct {
		w, h, pad, maxSide int
	}{
		{1920, 1080, 0, 960}, // exact 2x
		{1920, 1080, 0, 800}, // fractional
		{1800, 1198, 0, 640}, // a test photo's size
		{641, 480, 6, 640},   // barely larger, padded rows
		{480, 1000, 0, 333},  // portrait
		{2100, 1040, 0, 97},  // large factor
		{4000, 30, 0, 1},     // degenerate: one output pixel row
		{3000, 3000, 0, 5},   // boxes of 600x600 px: beyond the reciprocal
		{640, 480, 0, 640},   // no-op
		{640, 480, 0, 0},     // disabled
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%dx%dTo%d", tt.w, tt.h, tt.maxSide), func(t *testing.T) {
			src := randomRGB(r, tt.w, tt.h, tt.pad)
			got, gs := downscale(src, tt.maxSide)
			want, ws := downscaleReference(src, tt.maxSide)
			if got.Width != want.Width || got.Height != want.Height || gs != ws {
				t.Fatalf("size %dx%d scale %v, want %dx%d scale %v", got.Width, got.Height, gs, want.Width, want.Height, ws)
			}
			if !bytes.Equal(got.Pix, want.Pix) {
				t.Fatalf("pixels differ from the reference box average")
			}
		})
	}
}

func BenchmarkDownscale1080p(b *testing.B) {
	src := randomRGB(rand.New(rand.NewPCG(3, 4)), 1920, 1080, 0)
	for _, side := range []int{960, 640} {
		b.Run(fmt.Sprintf("To%d", side), func(b *testing.B) {
			for b.Loop() {
				downscale(src, side)
			}
		})
		b.Run(fmt.Sprintf("To%dReference", side), func(b *testing.B) {
			for b.Loop() {
				downscaleReference(src, side)
			}
		})
	}
}

func TestUpsamplePlan(t *testing.T) {
	tests := []struct {
		name             string
		w, h, levels, to int
		want             dlib.Upsample
	}{
		{"NoUpsample", 640, 480, 0, 2048, dlib.Upsample{}},
		{"OneDoublingFits", 640, 480, 1, 2048, dlib.Upsample{Levels: 1}},
		{"TwoDoublingsFitExactly", 511, 300, 2, 2047, dlib.Upsample{Levels: 2}},
		{"SecondDoublingResizedToBound", 640, 480, 2, 2048, dlib.Upsample{Levels: 1, Width: 2048, Height: 1536}},
		{"DoublingReplacedByResize", 1200, 800, 1, 2048, dlib.Upsample{Width: 2048, Height: 1365}},
		{"PortraitResize", 800, 1200, 1, 2048, dlib.Upsample{Width: 1365, Height: 2048}},
		{"AtBoundNothingToDo", 2048, 1536, 1, 2048, dlib.Upsample{}},
		{"TooLittleRoomSkipped", 1800, 1200, 1, 2048, dlib.Upsample{}},
		{"OffByOne", 1024, 768, 1, 2048, dlib.Upsample{Width: 2048, Height: 1536}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := upsamplePlan(tt.w, tt.h, tt.levels, tt.to)
			if got != tt.want {
				t.Fatalf("upsamplePlan(%d, %d, %d, %d) = %+v, want %+v", tt.w, tt.h, tt.levels, tt.to, got, tt.want)
			}
			// Whatever the plan, the detector's image stays inside the bound.
			w, h := tt.w, tt.h
			for range got.Levels {
				w, h = 2*w+1, 2*h+1
			}
			if got.Width > 0 {
				w, h = got.Width, got.Height
			}
			if max(w, h) > max(tt.to, max(tt.w, tt.h)) {
				t.Fatalf("plan makes %dx%d, above the bound %d", w, h, tt.to)
			}
		})
	}
}
