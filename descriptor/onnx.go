package descriptor

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path/filepath"

	"github.com/facekit/facekit/engine"
	"github.com/facekit/facekit/engine/imageio"
	"github.com/facekit/facekit/engine/ocvdnn"
)

// ONNXConfig describes an ONNX descriptor model run through OpenCV's DNN
// module (engine/ocvdnn): a size×size crop aligned to the ArcFace5
// reference, fed as NCHW.
type ONNXConfig struct {
	// Name is the model name stored with descriptors.
	Name string
	// File is the .onnx file inside the faceplugin directory.
	File string
	// Dim is the descriptor length.
	Dim int
	// Size is the square input side in pixels.
	Size int
	// Mean is subtracted from each 0..255 channel before Scale multiplies
	// it.
	Mean float32
	// Scale multiplies the centred values.
	Scale float32
	// Summary is a one-line description for listings and docs.
	Summary string
}

// FRFeature is the descriptor network of the npm package
// faceplugin-face-recognition-js@0.0.1 (model/fr_feature.onnx, MIT): an
// ArcFace-style network on 112×112 crops. Its input preparation, from the
// package's lib/fr_feature.js: the crop aligned to the ArcFace reference
// points (the same five points as ArcFace5), RGB, (p − 127)/128, NCHW; it
// is compared by cosine.
//
// Two things of the JavaScript are not used. Its alignment is an exact
// affine map of three points (both eyes and the nose tip) instead of the
// least-squares similarity of all five, and it loses 9 points of LFW
// accuracy. Its matchFeature subtracts the mean of the pair's own two
// vectors before the cosine, which gives −1 for every pair (for two vectors
// a − m and b − m with m = (a+b)/2 are opposite).
var FRFeature = ONNXConfig{
	Name: "frfeature", File: "fr_feature.onnx", Dim: 512, Size: 112, Mean: 127, Scale: 1.0 / 128,
	Summary: "faceplugin fr_feature ArcFace-style network (ONNX, OpenCV DNN), 112×112 ArcFace 5-point alignment, 512-d, cosine",
}

func onnxSpec(cfg ONNXConfig) spec {
	return spec{
		name: cfg.Name, dim: cfg.Dim, metric: Cosine, summary: cfg.Summary,
		file: func(env Env) string { return filepath.Join(env.faceplugin(), cfg.File) },
		open: func(env Env) (Describer, error) {
			dir := env.faceplugin()
			if dir == "" {
				return nil, fmt.Errorf("descriptor: %s: no faceplugin model directory configured", cfg.Name)
			}
			return OpenONNX(filepath.Join(dir, cfg.File), cfg, env.Instances)
		},
	}
}

// onnxDescriber runs one ONNX network through a pool of OpenCV nets.
type onnxDescriber struct {
	cfg   ONNXConfig
	model *ocvdnn.Model
}

// OpenONNX loads the network at path with instances nets (the CPU count if
// zero) and checks that it gives cfg.Dim values.
func OpenONNX(path string, cfg ONNXConfig, instances int) (Describer, error) {
	if cfg.Size <= 0 || cfg.Scale == 0 {
		return nil, fmt.Errorf("descriptor: %s: size and scale must be positive", cfg.Name)
	}
	m, err := ocvdnn.Open(ocvdnn.Config{Path: path, Input: []int{1, 3, cfg.Size, cfg.Size}, Instances: instances})
	if err != nil {
		return nil, fmt.Errorf("descriptor: %s: %w", cfg.Name, err)
	}
	if m.OutputLen() != cfg.Dim {
		m.Close()
		return nil, fmt.Errorf("descriptor: %s: %w: network gives %d values, want %d", cfg.Name, ErrDimension, m.OutputLen(), cfg.Dim)
	}
	return &onnxDescriber{cfg: cfg, model: m}, nil
}

func (d *onnxDescriber) Name() string   { return d.cfg.Name }
func (d *onnxDescriber) Dim() int       { return d.cfg.Dim }
func (d *onnxDescriber) Metric() Metric { return Cosine }

// Close frees the OpenCV nets. Idempotent.
func (d *onnxDescriber) Close() error { return d.model.Close() }

// Version fingerprints the input preparation, so caches of descriptors made
// under another alignment or normalisation are not mixed in.
func (d *onnxDescriber) Version() string {
	c := d.cfg
	c.Summary = ""
	h := sha256.Sum256(fmt.Appendf(nil, "onnx %+v", c))
	return hex.EncodeToString(h[:4])
}

func (d *onnxDescriber) Describe(ctx context.Context, img *imageio.Image, f engine.Face) ([]float32, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("descriptor: %s: %w", d.cfg.Name, err)
	}
	in, err := d.Input(img, f)
	if err != nil {
		return nil, err
	}
	v, err := d.model.Run(ctx, in)
	if err != nil {
		return nil, fmt.Errorf("descriptor: %s: %w", d.cfg.Name, err)
	}
	if len(v) != d.cfg.Dim {
		return nil, fmt.Errorf("descriptor: %s: %w: network gave %d values, want %d", d.cfg.Name, ErrDimension, len(v), d.cfg.Dim)
	}
	l2normalize(v)
	return v, nil
}

// Input returns the 1×3×Size×Size (NCHW, RGB) input for face f: the crop
// aligned to ArcFace5 by the least-squares similarity of the five points,
// normalised per the config.
func (d *onnxDescriber) Input(img *imageio.Image, f engine.Face) ([]float32, error) {
	pts, err := FivePoints(f)
	if err != nil {
		return nil, fmt.Errorf("descriptor: %s: %w", d.cfg.Name, err)
	}
	c := d.cfg
	dst := Reference(c.Size, 1)
	chip := WarpSimilarity(img, EstimateSimilarity(pts[:], dst[:]), c.Size)
	plane := c.Size * c.Size
	out := make([]float32, 3*plane)
	for i := 0; i < plane; i++ {
		for k := 0; k < 3; k++ {
			out[k*plane+i] = (float32(chip.Pix[3*i+k]) - c.Mean) * c.Scale
		}
	}
	return out, nil
}
