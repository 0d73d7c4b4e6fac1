package service

import (
	"errors"
	"testing"

	"github.com/facekit/facekit/engine"
	"github.com/facekit/facekit/engine/attributes"
	"github.com/facekit/facekit/engine/imageio"
	"github.com/facekit/facekit/engine/liveness"
)

// The real analyzers are exercised end to end in server/baidu; these tests
// pin how the core treats their answers and errors.

// fixedScore answers one score or error for every face.
type fixedScore struct {
	score float64
	err   error
}

func (s fixedScore) Score(*imageio.Image, engine.Face) (float64, error) { return s.score, s.err }

// fixedAttrs answers one age or error for every face.
type fixedAttrs struct {
	age float64
	err error
}

func (a fixedAttrs) Analyze(*imageio.Image, engine.Face, attributes.Fields) (attributes.Attributes, error) {
	if a.err != nil {
		return attributes.Attributes{}, a.err
	}
	age := a.age
	return attributes.Attributes{Age: &age}, nil
}

func TestCheckLiveness(t *testing.T) {
	high := liveness.Threshold(liveness.LevelHigh)
	scored := func(s float64) Face { return Face{HasBox: true, Liveness: s, LivenessScored: true} }
	tests := []struct {
		name    string
		checker LivenessChecker
		face    Face
		level   liveness.Level
		want    error
	}{
		{"NonePassesWithoutChecker", nil, Face{}, liveness.LevelNone, nil},
		{"NotAvailableWithoutChecker", nil, Face{}, liveness.LevelLow, ErrNotAvailable},
		{"AboveThresholdPasses", fixedScore{}, scored(high + 0.01), liveness.LevelHigh, nil},
		{"BelowThresholdFails", fixedScore{}, scored(high - 0.01), liveness.LevelHigh, liveness.ErrLivenessFailed},
		{"FaceTokenFails", fixedScore{}, Face{Token: "t"}, liveness.LevelLow, liveness.ErrLivenessFailed},
		{"UnscoredFaceFails", fixedScore{}, Face{HasBox: true}, liveness.LevelLow, liveness.ErrLivenessFailed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			core := &Service{deps: Deps{Liveness: tc.checker}}
			err := core.CheckLiveness(tc.face, tc.level)
			if (tc.want == nil) != (err == nil) || (tc.want != nil && !errors.Is(err, tc.want)) {
				t.Fatalf("CheckLiveness: %v, want %v", err, tc.want)
			}
		})
	}
}

func TestAnalyzeFace(t *testing.T) {
	img := imageio.NewImage(8, 8)
	modelFailure := errors.New("model failed")
	opts := DetectOptions{Attributes: attributes.FieldAge, Liveness: true}
	t.Run("ValuesKept", func(t *testing.T) {
		core := &Service{deps: Deps{Attributes: fixedAttrs{age: 31}, Liveness: fixedScore{score: 0.7}}}
		var f Face
		if err := core.analyzeFace(img, &f, opts); err != nil {
			t.Fatal(err)
		}
		if f.Attributes == nil || *f.Attributes.Age != 31 || !f.LivenessScored || f.Liveness != 0.7 {
			t.Fatalf("face %+v", f)
		}
	})
	t.Run("UnplaceableFaceLeftAbsent", func(t *testing.T) {
		core := &Service{deps: Deps{Attributes: fixedAttrs{err: attributes.ErrNoLandmarks}, Liveness: fixedScore{err: liveness.ErrFaceOutside}}}
		var f Face
		if err := core.analyzeFace(img, &f, opts); err != nil {
			t.Fatal(err)
		}
		if f.Attributes != nil || f.LivenessScored {
			t.Fatalf("face %+v", f)
		}
	})
	t.Run("ModelFailureIsAnError", func(t *testing.T) {
		core := &Service{deps: Deps{Liveness: fixedScore{err: modelFailure}}}
		if err := core.analyzeFace(img, &Face{}, opts); !errors.Is(err, modelFailure) {
			t.Fatalf("analyzeFace: %v", err)
		}
	})
	t.Run("NotAskedNotRun", func(t *testing.T) {
		core := &Service{deps: Deps{Attributes: fixedAttrs{err: modelFailure}, Liveness: fixedScore{err: modelFailure}}}
		if err := core.analyzeFace(img, &Face{}, DetectOptions{}); err != nil {
			t.Fatal(err)
		}
	})
}
