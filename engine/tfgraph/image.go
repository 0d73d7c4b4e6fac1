package tfgraph

import (
	"image"

	"golang.org/x/image/draw"
)

// PixelRange maps 8-bit channel values linearly onto [Lo, Hi]; each model
// expects one of the ranges below (see the table in the package doc).
type PixelRange struct{ Lo, Hi float32 }

// The pixel ranges the models in the mirror use.
var (
	// Range01 is v/255.
	Range01 = PixelRange{0, 1}
	// RangeSigned is v/127.5 - 1.
	RangeSigned = PixelRange{-1, 1}
	// Range255 is the raw byte value.
	Range255 = PixelRange{0, 255}
)

// ImageTensor crops r from img, resizes it bilinearly to size×size and
// returns a [1,size,size,3] RGB tensor, or with gray a [1,size,size,1]
// tensor of BT.601 luma (0.299 R + 0.587 G + 0.114 B), scaled to pr. Parts
// of r outside the image are black.
func ImageTensor(img image.Image, r image.Rectangle, size int, gray bool, pr PixelRange) *Tensor {
	dst := image.NewRGBA(image.Rect(0, 0, size, size))
	draw.BiLinear.Scale(dst, dst.Bounds(), img, r, draw.Src, nil)
	ch := 3
	if gray {
		ch = 1
	}
	t := NewTensor(1, size, size, ch)
	k := (pr.Hi - pr.Lo) / 255
	for i := 0; i < size*size; i++ {
		p := dst.Pix[4*i : 4*i+3 : 4*i+3]
		if gray {
			y := 0.299*float32(p[0]) + 0.587*float32(p[1]) + 0.114*float32(p[2])
			t.Data[i] = pr.Lo + y*k
			continue
		}
		t.Data[3*i] = pr.Lo + float32(p[0])*k
		t.Data[3*i+1] = pr.Lo + float32(p[1])*k
		t.Data[3*i+2] = pr.Lo + float32(p[2])*k
	}
	return t
}
