package attributes

import (
	"fmt"
	"image"
	"math"
	"path/filepath"
	"sync"

	"github.com/facekit/facekit/engine/tfgraph"
)

// lazyModel loads one TF.js graph the first time a field needs it. Loading
// the attribute graphs takes from a few ms (gender) to about a second
// (faceres), so a server that never asks for age does not pay for it.
type lazyModel struct {
	path string
	once sync.Once
	m    *tfgraph.Model
	err  error
}

func (l *lazyModel) get() (*tfgraph.Model, error) {
	l.once.Do(func() {
		l.m, l.err = tfgraph.Load(l.path)
		if l.err != nil {
			l.err = fmt.Errorf("attributes: load %s: %w", filepath.Base(l.path), l.err)
		}
	})
	return l.m, l.err
}

// spec says how one model wants its input: the square crop around the
// face (as a multiple of the landmark extent, see faceSquare), the input
// side, gray or RGB, the pixel range, and the input and output names.
type spec struct {
	file    string
	scale   float64
	size    int
	gray    bool
	pixels  tfgraph.PixelRange
	input   string
	outputs []string
}

// The models in use. Crop scales were chosen on the 31 single-face test
// photos from the sweep 1.0/1.2/1.4/1.7 (docs/attributes.md): emotion
// (FER-2013, tight 48 px faces) is best at 1.2; the gender and SSR-Net age
// nets need the looser 1.7 (at 1.0 gender calls 21 of 31 women male);
// faceres is stable from 1.2 to 1.7. gear is not used: its gender head
// called 6–11 of the 31 women male at every scale.
var (
	specAge     = spec{"age.json", 1.7, 64, false, tfgraph.Range255, "input_1", []string{"Identity"}}
	specGender  = spec{"gender.json", 1.7, 64, true, tfgraph.RangeSigned, "input_1", []string{"Identity"}}
	specEmotion = spec{"emotion.json", 1.2, 64, true, tfgraph.RangeSigned, "input_1", []string{"Identity"}}
	specFaceres = spec{"faceres.json", 1.4, 224, false, tfgraph.Range255, "input_1", []string{"age_pred/Softmax", "gender_pred/Sigmoid"}}
)

// faceSquare returns a square centred on the landmarks' bounding box whose
// side is scale times the box's longer side. The 68 points span brows to
// chin and jaw to jaw, so scale 1 is a tight face crop; detector boxes are
// not used because HOG and CNN boxes differ in size and offset.
func faceSquare(lm []image.Point, scale float64) image.Rectangle {
	minX, minY, maxX, maxY := lm[0].X, lm[0].Y, lm[0].X, lm[0].Y
	for _, p := range lm[1:] {
		minX, maxX = min(minX, p.X), max(maxX, p.X)
		minY, maxY = min(minY, p.Y), max(maxY, p.Y)
	}
	cx, cy := float64(minX+maxX)/2, float64(minY+maxY)/2
	side := scale * float64(max(maxX-minX, maxY-minY, 1))
	h := side / 2
	return image.Rect(int(math.Round(cx-h)), int(math.Round(cy-h)), int(math.Round(cx+h)), int(math.Round(cy+h)))
}

// run crops the face for s, runs the model and returns the requested
// outputs in order.
func run(l *lazyModel, s spec, img image.Image, lm []image.Point) ([][]float32, error) {
	m, err := l.get()
	if err != nil {
		return nil, err
	}
	in := tfgraph.ImageTensor(img, faceSquare(lm, s.scale), s.size, s.gray, s.pixels)
	out, err := m.Run(map[string]*tfgraph.Tensor{s.input: in}, s.outputs...)
	if err != nil {
		return nil, fmt.Errorf("attributes: run %s: %w", s.file, err)
	}
	res := make([][]float32, len(s.outputs))
	for i, name := range s.outputs {
		t := out[name]
		if t == nil {
			return nil, fmt.Errorf("attributes: %s: output %s missing", s.file, name)
		}
		for _, v := range t.Data {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return nil, fmt.Errorf("attributes: %s: %w", s.file, ErrBadOutput)
			}
		}
		res[i] = t.Data
	}
	return res, nil
}
