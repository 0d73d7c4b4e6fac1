package descriptor

import (
	"context"
	"fmt"
	"image"

	"github.com/facekit/facekit/engine"
	"github.com/facekit/facekit/engine/imageio"
)

// MirrorSuffix names the test-time-augmented variant of a model: the mean
// of the descriptors of the face and of its horizontal mirror image. Its
// vectors live in a space of their own (closer to the model's, but not the
// same), so the variant is a separate registered model and a library never
// mixes the two.
const MirrorSuffix = "_flip"

// mirror68 maps each of dlib's 68 landmarks (iBUG 300-W order) to the point
// that plays its part on the mirrored face: the jaw runs the other way, the
// left eyebrow becomes the right one, and so on. Points on the symmetry
// axis map to themselves.
var mirror68 = func() [68]int {
	var m [68]int
	for i := range m {
		m[i] = i
	}
	pairs := [][2]int{
		{17, 26}, {18, 25}, {19, 24}, {20, 23}, {21, 22}, // eyebrows
		{31, 35}, {32, 34}, // nostrils
		{36, 45}, {37, 44}, {38, 43}, {39, 42}, {40, 47}, {41, 46}, // eyes
		{48, 54}, {49, 53}, {50, 52}, {55, 59}, {56, 58}, // outer lips
		{60, 64}, {61, 63}, {65, 67}, // inner lips
	}
	for i := 0; i <= 16; i++ {
		pairs = append(pairs, [2]int{i, 16 - i}) // jaw
	}
	for _, p := range pairs {
		m[p[0]], m[p[1]] = p[1], p[0]
	}
	return m
}()

// MirrorFace returns the horizontal mirror image of the region around face
// f and the face as it appears there (box and landmarks mirrored, landmark
// indices swapped left for right). Only a margin of one face size on each
// side is copied, which covers every model's crop, so a large photo is not
// mirrored whole for one face.
func MirrorFace(img *imageio.Image, f engine.Face) (*imageio.Image, engine.Face, error) {
	if len(f.Landmarks) != 68 {
		return nil, engine.Face{}, engine.ErrNoLandmarks
	}
	box := f.Rect
	for _, p := range f.Landmarks {
		box = box.Union(image.Rect(p.X, p.Y, p.X+1, p.Y+1))
	}
	m := max(box.Dx(), box.Dy())
	region := box.Inset(-m).Intersect(image.Rect(0, 0, img.Width, img.Height))
	if region.Empty() {
		return nil, engine.Face{}, fmt.Errorf("descriptor: face %v lies outside the %dx%d image", f.Rect, img.Width, img.Height)
	}
	out := imageio.NewImage(region.Dx(), region.Dy())
	for y := 0; y < region.Dy(); y++ {
		src := img.Pix[(region.Min.Y+y)*img.Stride+3*region.Min.X:]
		dst := out.Pix[y*out.Stride:]
		w := region.Dx()
		for x := 0; x < w; x++ {
			copy(dst[3*(w-1-x):3*(w-x)], src[3*x:3*x+3])
		}
	}
	// Pixel x of the region lands at column w−1−x of the mirror.
	flipX := func(x int) int { return region.Max.X - 1 - x }
	mf := engine.Face{
		Rect:      image.Rect(flipX(f.Rect.Max.X-1), f.Rect.Min.Y-region.Min.Y, flipX(f.Rect.Min.X)+1, f.Rect.Max.Y-region.Min.Y),
		Landmarks: make([]image.Point, 68),
	}
	for i, p := range f.Landmarks {
		mf.Landmarks[mirror68[i]] = image.Pt(flipX(p.X), p.Y-region.Min.Y)
	}
	return out, mf, nil
}

// mirrored averages a model's descriptors of a face and of its mirror.
type mirrored struct {
	inner Describer
}

func (m mirrored) Name() string   { return m.inner.Name() + MirrorSuffix }
func (m mirrored) Dim() int       { return m.inner.Dim() }
func (m mirrored) Metric() Metric { return MetricOf(m.inner) }

// Version changes with the inner model's input preparation.
func (m mirrored) Version() string {
	if v, ok := m.inner.(interface{ Version() string }); ok {
		return "flip-" + v.Version()
	}
	return "flip-v1"
}

func (m mirrored) Describe(ctx context.Context, img *imageio.Image, f engine.Face) ([]float32, error) {
	a, err := m.inner.Describe(ctx, img, f)
	if err != nil {
		return nil, err
	}
	mimg, mf, err := MirrorFace(img, f)
	if err != nil {
		return nil, err
	}
	b, err := m.inner.Describe(ctx, mimg, mf)
	if err != nil {
		return nil, err
	}
	for i := range a {
		a[i] = (a[i] + b[i]) / 2
	}
	if MetricOf(m.inner) == Cosine {
		l2normalize(a)
	}
	return a, nil
}
