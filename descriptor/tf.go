package descriptor

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/facekit/facekit/engine"
	"github.com/facekit/facekit/engine/imageio"
	"github.com/facekit/facekit/engine/tfgraph"
)

// ArcFace5 is the 5-point reference of the 112×112 crops the InsightFace
// family of models is trained on: image-left eye centre, image-right eye
// centre, nose tip, image-left and image-right mouth corners.
var ArcFace5 = [5]engine.PointF{
	{X: 38.2946, Y: 51.6963}, {X: 73.5318, Y: 51.5014}, {X: 56.0252, Y: 71.7366},
	{X: 41.5493, Y: 92.3655}, {X: 70.7299, Y: 92.2041},
}

// TFConfig describes a TF.js graph descriptor model: which node to read and
// how its authors prepared the input.
type TFConfig struct {
	// Name is the model name stored with descriptors.
	Name string
	// File is the graph JSON inside the human-models directory.
	File string
	// Output is the node holding the descriptor.
	Output string
	// Dim is the descriptor length.
	Dim int
	// Size is the square input side in pixels.
	Size int
	// Zoom scales the ArcFace5 reference about the crop centre: 1 is the
	// tight ArcFace crop, below 1 shows more context (for models trained on
	// loose, VGGFace2-style crops).
	Zoom float64
	// Mean is subtracted from each 0..255 channel before Scale multiplies
	// it, in the channel order the model reads.
	Mean [3]float32
	// Scale multiplies the centred values.
	Scale float32
	// BGR feeds channels blue, green, red (Caffe/MXNet-trained models).
	BGR bool
	// RepairPReLU undoes a converter fusion that turned the graph's PReLUs
	// after depthwise convolutions into ReLUs (see repairGraph).
	RepairPReLU bool
	// FlipPReLUSign negates the negative branch of every PReLU, whose
	// exported constants have the sign opposite to the trained slopes (see
	// repairGraph and MobileFaceNet).
	FlipPReLUSign bool
	// Flip adds the embedding of the horizontally mirrored crop before
	// normalising (test-time augmentation as in InsightFace's evaluation):
	// the aligned crop itself is mirrored, so both passes see the same
	// pixels and the descriptor is symmetric in left and right. Twice the
	// network cost per face.
	Flip bool
	// Area shrinks large faces with a box prefilter (WarpSimilarityArea)
	// instead of plain bilinear sampling.
	Area bool
	// Summary is a one-line description for listings and docs.
	Summary string
}

// The TF.js descriptor models of the human-models mirror. Their input
// conventions were read from the graphs where the graphs say (mobileface
// subtracts 127.5 and multiplies by 1/128 itself) and otherwise chosen by
// 10-fold accuracy on pairs of LFW's first fold (greyscale copy, so RGB
// against BGR cannot be told apart and is left RGB):
//
//	mobileface     raw 0..255: 91.8% (600 pairs) at zoom 1; 90.8% at 0.95, 90.2% at
//	               1.05, 89.0% at 0.9, 83.3% at 0.8; (x−127.5)/128 63.3%, 0..1 67.0%
//	mobilefacenet  (x−127.5)/128 (its training code's), both PReLU repairs: 99.0%
//	               (600 pairs; the ResNet 98.8% on them); on all 6000 pairs 99.12% ±
//	               0.52%, TAR 97.6% at FAR 1e-3 (ResNet 98.57%, 89.8%; docs/accuracy.md).
//	               Flip averaging of the crop (mobilefacenet_flip) +0.12 ± 0.08 points on
//	               all 6000 pairs (98.90% → 99.02%, re-measured on the 2026-12-06 pipeline);
//	               the box-prefiltered crop (mobilefacenet_area) +0.13 ± 0.05; score fusion with
//	               the mirror-averaged ResNet gained +0.00 ± 0.07. Without the sign repair the
//	               embeddings nearly collapse to one vector (cosine distances ~0.001):
//	               63% (200 pairs) as converted, 68% (600 pairs) with only the Relu
//	               unfused; no input range (0..1, −1..1, 0..255, x−127.5) or crop
//	               zoom (0.65–1) helped then
//	faceres        raw 0..255 at zoom 0.8: 97.5% (120 pairs); at 0..1 or −1..1 the
//	               pooled features are all zero
var (
	// MobileFaceNet is sirius-ai's MobileFaceNet (InsightFace data, ArcFace
	// loss): 112×112 ArcFace-aligned crop, (x − 127.5)/128, 192-d.
	//
	// The human-models graph needs two repairs (repairGraph). How the second was
	// found: engine/tfgraph computes the graph exactly as TensorFlow defines
	// its ops (checked against an independent NumPy evaluation of the same
	// graph: largest relative difference 1.5e-6 over all layers), so the
	// fault is in the converted graph. Its batch norms are folded into the
	// convolutions, and a folded shift β whose output reaches only linear
	// layers followed by another batch norm (the Conv_1 projections of the
	// inverted residual blocks) received no gradient in training and is 0:
	// on faces, each channel of those outputs must average about 0. As
	// exported they average 1.4–6 standard deviations away from 0, and the
	// error grows with depth until the embedding is one vector for every
	// face; negating the PReLUs' negative branch brings every such layer to
	// 0.04–0.3 deviations, and LFW fold 1 from 68% to 99.0%. Re-estimating
	// the batch-norm statistics instead (γ = 1, as the folded γ cannot be
	// recovered) did not help. TF.js computes the same broken graph.
	MobileFaceNet = TFConfig{
		Name: "mobilefacenet", File: "mobilefacenet.json", Output: "embeddings", Dim: 192,
		Size: 112, Zoom: 1, Mean: [3]float32{127.5, 127.5, 127.5}, Scale: 1.0 / 128, RepairPReLU: true, FlipPReLUSign: true,
		Summary: "MobileFaceNet (TF.js), 112×112 ArcFace 5-point alignment, 192-d, cosine; its converted graph repaired (PReLU sign and fused Relu)",
	}
	// MobileFaceNetFlip is MobileFaceNet with flip test-time augmentation:
	// the sum of the embeddings of the aligned crop and of its mirror
	// image, normalised. Its vectors are not MobileFaceNet's, so it is a
	// model of its own (own curve, own libraries).
	MobileFaceNetFlip = func() TFConfig {
		c := MobileFaceNet
		c.Name, c.Flip = "mobilefacenet"+MirrorSuffix, true
		c.Summary = "MobileFaceNet as mobilefacenet, descriptor = normalised sum of the embeddings of the aligned crop and its mirror image"
		return c
	}()
	// MobileFaceNetArea is MobileFaceNet with the crop of a large face
	// shrunk through a box prefilter (WarpSimilarityArea), not aliased.
	MobileFaceNetArea = func() TFConfig {
		c := MobileFaceNet
		c.Name, c.Area = "mobilefacenet_area", true
		c.Summary = "MobileFaceNet as mobilefacenet, large faces shrunk to the 112×112 crop through a box prefilter"
		return c
	}()
	// MobileFace is becauseofAI's MobileFace (MXNet); the graph normalises
	// 0..255 input itself ((x − 127.5)·0.0078125, constants read from the
	// graph).
	MobileFace = TFConfig{
		Name: "mobileface", File: "mobileface.json", Output: "batchnorm0/add_1", Dim: 256,
		Size: 112, Zoom: 1, Scale: 1,
		Summary: "MobileFace (TF.js), 112×112 ArcFace 5-point alignment, 256-d, cosine",
	}
	// FaceRes is HSE's MobileNet multi-task network (VGGFace2 identities,
	// age and gender heads); its identity features are the 1024-d pooled
	// activations. It reads raw 0..255 RGB (at 0..1 or −1..1 the features
	// are all zero) from a loose crop, as VGGFace2 faces are cut.
	FaceRes = TFConfig{
		Name: "faceres", File: "faceres.json", Output: "global_pooling/Mean", Dim: 1024,
		Size: 224, Zoom: 0.8, Scale: 1,
		Summary: "HSE faceres MobileNet (TF.js), 224×224 loose crop, 1024-d pooled features, cosine",
	}
)

// tfDescriber runs one TF.js graph. tfgraph models are safe for concurrent
// use, so one instance serves every goroutine.
type tfDescriber struct {
	cfg   TFConfig
	model *tfgraph.Model
	input string
}

// OpenTF loads the graph at path and checks that it fits cfg.
func OpenTF(path string, cfg TFConfig) (Describer, error) {
	m, err := loadGraph(path, graphRepairs{unfuseRelu: cfg.RepairPReLU, flipPReLUNegSign: cfg.FlipPReLUSign})
	if err != nil {
		return nil, fmt.Errorf("descriptor: %s: %w", cfg.Name, err)
	}
	ins := m.Inputs()
	if len(ins) != 1 || len(ins[0].Shape) != 4 || ins[0].Shape[1] != cfg.Size || ins[0].Shape[2] != cfg.Size || ins[0].Shape[3] != 3 {
		return nil, fmt.Errorf("descriptor: %s: graph input %v is not [n %d %d 3]", cfg.Name, ins, cfg.Size, cfg.Size)
	}
	if cfg.Zoom <= 0 || cfg.Scale == 0 {
		return nil, fmt.Errorf("descriptor: %s: zoom and scale must be positive", cfg.Name)
	}
	return &tfDescriber{cfg: cfg, model: m, input: ins[0].Name}, nil
}

func (d *tfDescriber) Name() string   { return d.cfg.Name }
func (d *tfDescriber) Dim() int       { return d.cfg.Dim }
func (d *tfDescriber) Metric() Metric { return Cosine }

// Version fingerprints the input preparation, so caches of descriptors made
// under another alignment or normalisation are not mixed in.
func (d *tfDescriber) Version() string {
	c := d.cfg
	c.Summary = "" // prose, not preparation
	h := sha256.Sum256(fmt.Appendf(nil, "%+v", c))
	return hex.EncodeToString(h[:4])
}

func (d *tfDescriber) Describe(ctx context.Context, img *imageio.Image, f engine.Face) ([]float32, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("descriptor: %s: %w", d.cfg.Name, err)
	}
	in, err := d.Input(img, f)
	if err != nil {
		return nil, err
	}
	return d.embed(in)
}

// embed runs the graph on an input tensor (mirroring it in place when
// Flip is set) and returns the normalised descriptor.
func (d *tfDescriber) embed(in *tfgraph.Tensor) ([]float32, error) {
	out, err := d.model.Run(map[string]*tfgraph.Tensor{d.input: in}, d.cfg.Output)
	if err != nil {
		return nil, fmt.Errorf("descriptor: %s: %w", d.cfg.Name, err)
	}
	v := out[d.cfg.Output].Data
	if len(v) != d.cfg.Dim {
		return nil, fmt.Errorf("descriptor: %s: %w: graph gave %d values, want %d", d.cfg.Name, ErrDimension, len(v), d.cfg.Dim)
	}
	if d.cfg.Flip {
		mirrorTensor(in)
		out, err := d.model.Run(map[string]*tfgraph.Tensor{d.input: in}, d.cfg.Output)
		if err != nil {
			return nil, fmt.Errorf("descriptor: %s: mirrored crop: %w", d.cfg.Name, err)
		}
		w := out[d.cfg.Output].Data
		if len(w) != len(v) {
			return nil, fmt.Errorf("descriptor: %s: %w: graph gave %d values for the mirrored crop, want %d", d.cfg.Name, ErrDimension, len(w), len(v))
		}
		// The raw embeddings are summed, as InsightFace does, so the
		// more confident of the two weighs more.
		for i := range v {
			v[i] += w[i]
		}
	}
	l2normalize(v)
	return v, nil
}

// mirrorTensor mirrors a 1×H×W×C tensor left to right in place.
func mirrorTensor(t *tfgraph.Tensor) {
	h, w, c := t.Shape[1], t.Shape[2], t.Shape[3]
	for y := 0; y < h; y++ {
		row := t.Data[y*w*c : (y+1)*w*c]
		for x := 0; x < w/2; x++ {
			a, b := row[x*c:(x+1)*c], row[(w-1-x)*c:(w-x)*c]
			for k := range a {
				a[k], b[k] = b[k], a[k]
			}
		}
	}
}

// Input returns the 1×Size×Size×3 tensor the model sees for face f: the
// crop aligned to the zoomed ArcFace5 reference, normalised per the config.
func (d *tfDescriber) Input(img *imageio.Image, f engine.Face) (*tfgraph.Tensor, error) {
	pts, err := FivePoints(f)
	if err != nil {
		return nil, fmt.Errorf("descriptor: %s: %w", d.cfg.Name, err)
	}
	dst := Reference(d.cfg.Size, d.cfg.Zoom)
	warp := WarpSimilarity
	if d.cfg.Area {
		warp = WarpSimilarityArea
	}
	chip := warp(img, EstimateSimilarity(pts[:], dst[:]), d.cfg.Size)
	t := tfgraph.NewTensor(1, d.cfg.Size, d.cfg.Size, 3)
	c := d.cfg
	for i := 0; i < c.Size*c.Size; i++ {
		r, g, b := chip.Pix[3*i], chip.Pix[3*i+1], chip.Pix[3*i+2]
		if c.BGR {
			r, b = b, r
		}
		t.Data[3*i] = (float32(r) - c.Mean[0]) * c.Scale
		t.Data[3*i+1] = (float32(g) - c.Mean[1]) * c.Scale
		t.Data[3*i+2] = (float32(b) - c.Mean[2]) * c.Scale
	}
	return t, nil
}

// FivePoints reduces dlib's 68 landmarks (iBUG 300-W order) to the ArcFace
// five: eye centres (mean of each eye's six points), nose tip, mouth corners.
func FivePoints(f engine.Face) ([5]engine.PointF, error) {
	var p [5]engine.PointF
	if len(f.Landmarks) != 68 {
		return p, engine.ErrNoLandmarks
	}
	mean := func(from, to int) engine.PointF {
		var q engine.PointF
		for _, l := range f.Landmarks[from:to] {
			q.X += float64(l.X)
			q.Y += float64(l.Y)
		}
		n := float64(to - from)
		return engine.PointF{X: q.X / n, Y: q.Y / n}
	}
	pt := func(i int) engine.PointF {
		return engine.PointF{X: float64(f.Landmarks[i].X), Y: float64(f.Landmarks[i].Y)}
	}
	p[0], p[1] = mean(36, 42), mean(42, 48)
	p[2], p[3], p[4] = pt(30), pt(48), pt(54)
	return p, nil
}

// Reference returns ArcFace5 for a size×size crop, zoomed about the crop
// centre (zoom < 1 leaves more margin around the face).
func Reference(size int, zoom float64) [5]engine.PointF {
	k := float64(size) / 112
	var out [5]engine.PointF
	for i, p := range ArcFace5 {
		out[i] = engine.PointF{X: (56 + (p.X-56)*zoom) * k, Y: (56 + (p.Y-56)*zoom) * k}
	}
	return out
}
