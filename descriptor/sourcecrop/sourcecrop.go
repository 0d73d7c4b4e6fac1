// Package sourcecrop makes and reopens the "source crop" a face library can
// keep with each enrolled face: a loose, similarity-aligned crop of the face
// with its 68 landmarks in crop coordinates. A descriptor can only be
// recomputed from pixels; the source crop is the smallest image from which
// every registered descriptor model can describe the face again at full
// quality (`facekit reembed`), without keeping the whole enrolment photo.
//
// Geometry. Crops are placed by the five ArcFace reference points (eye
// centres, nose tip, mouth corners; descriptor.ArcFace5) in units of the
// 112-pixel ArcFace frame (AU). The models look at:
//
//	ArcFace 112×112 (mobileface, mobilefacenet)  AU [0, 112]²,        1.0 px/AU
//	faceres 224×224, zoom 0.8                    AU [−14, 126]²,      1.6 px/AU
//	dlib ResNet 150×150 chip, padding 0.25       about AU [6, 106]×[21, 121], 1.5 px/AU
//
// The source crop is Size = 320 pixels over AU [−28, 140]² (zoom 2/3): it
// holds the widest of them (faceres) with a 14 AU margin for the small
// differences between a 68-point and a 5-point alignment, at 1.9 px/AU,
// more than any model samples. sourcecrop_test checks both claims on real
// faces.
package sourcecrop

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"math"

	"github.com/facekit/facekit/descriptor"
	"github.com/facekit/facekit/engine"
	"github.com/facekit/facekit/engine/imageio"
	"github.com/facekit/facekit/store"
)

// Geometry and encoding of source crops. Changing them changes only crops
// made afterwards: stored crops carry their own landmarks.
const (
	// Size is the side of the square crop in pixels.
	Size = 320
	// Zoom scales the ArcFace5 reference about the crop centre (see the
	// package comment).
	Zoom = 2.0 / 3
	// Quality is the JPEG quality; at 92 re-describing from the crop moves
	// descriptors far less than a different photo of the same person does
	// (sourcecrop_test measures it).
	Quality = 92
)

// ErrNoLandmarks means the face has no 68 landmarks to align the crop on.
var ErrNoLandmarks = errors.New("sourcecrop: face has no 68 landmarks")

// Make cuts the source crop of face f of img and encodes it. f must carry
// the 68 landmarks (ErrNoLandmarks otherwise).
func Make(img *imageio.Image, f engine.Face) (*store.SourceCrop, error) {
	pts, err := descriptor.FivePoints(f)
	if err != nil {
		return nil, ErrNoLandmarks
	}
	ref := descriptor.Reference(Size, Zoom)
	toCrop := descriptor.EstimateSimilarity(pts[:], ref[:])
	crop := descriptor.WarpSimilarity(img, toCrop, Size)
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, crop, &jpeg.Options{Quality: Quality}); err != nil {
		return nil, fmt.Errorf("sourcecrop: encode: %w", err)
	}
	src := &store.SourceCrop{JPEG: buf.Bytes(), Landmarks: make([][2]float32, len(f.Landmarks))}
	for i, l := range f.Landmarks {
		p := toCrop.Apply(engine.PointF{X: float64(l.X), Y: float64(l.Y)})
		src.Landmarks[i] = [2]float32{float32(p.X), float32(p.Y)}
	}
	return src, nil
}

// Open decodes a source crop into the image and the face (68 landmarks and
// the box around them, in crop coordinates) that a descriptor.Describer
// takes.
func Open(src *store.SourceCrop) (*imageio.Image, engine.Face, error) {
	if src == nil || len(src.JPEG) == 0 {
		return nil, engine.Face{}, errors.New("sourcecrop: no crop")
	}
	if len(src.Landmarks) != 68 {
		return nil, engine.Face{}, fmt.Errorf("%w: %d stored", ErrNoLandmarks, len(src.Landmarks))
	}
	img, err := imageio.Decode(src.JPEG, imageio.DefaultLimits())
	if err != nil {
		return nil, engine.Face{}, fmt.Errorf("sourcecrop: decode: %w", err)
	}
	f := engine.Face{Landmarks: make([]image.Point, len(src.Landmarks))}
	box := image.Rectangle{Min: image.Pt(math.MaxInt32, math.MaxInt32), Max: image.Pt(math.MinInt32, math.MinInt32)}
	for i, p := range src.Landmarks {
		q := image.Pt(int(math.Round(float64(p[0]))), int(math.Round(float64(p[1]))))
		f.Landmarks[i] = q
		box.Min.X, box.Min.Y = min(box.Min.X, q.X), min(box.Min.Y, q.Y)
		box.Max.X, box.Max.Y = max(box.Max.X, q.X+1), max(box.Max.Y, q.Y+1)
	}
	f.Rect = box
	return img, f, nil
}
