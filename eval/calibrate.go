package eval

import (
	"fmt"
	"path/filepath"
	"sort"

	"github.com/facekit/facekit/calibration"
	"github.com/facekit/facekit/descriptor"
)

// Calibrate derives model's distance → FAR curve from the all-pairs
// distances of the images' descriptors, an image's person being its
// directory (LFW's layout). The impostor tail of all pairs (tens of millions
// on LFW) is what the vendor score scales are pinned to, so every descriptor
// model gets its own curve from the same images the accuracy was measured
// on.
//
// calibration.Measure compares by Euclidean distance. For cosine models the
// vectors are unit length, where Euclidean distance e and cosine distance c
// are tied by c = e²/2, a monotone map; the curve's points are mapped
// through it so the curve reads the distance descriptor.Compare returns.
func Calibrate(emb *Embeddings, model descriptor.Info, source string) (*calibration.Curve, error) {
	vecs := emb.Vectors[model.Name]
	images := make([]string, 0, len(vecs))
	for im := range vecs {
		images = append(images, im)
	}
	sort.Strings(images) // deterministic sample order
	samples := make([]calibration.Sample, len(images))
	for i, im := range images {
		samples[i] = calibration.Sample{Label: filepath.Dir(im), Path: im, Vector: vecs[im]}
	}
	dist, err := calibration.Measure(samples)
	if err != nil {
		return nil, fmt.Errorf("eval: calibrate %s: %w", model.Name, err)
	}
	curve, err := calibration.Fit(dist, calibration.FitOptions{Model: model.Name, Source: source})
	if err != nil {
		return nil, fmt.Errorf("eval: calibrate %s: %w", model.Name, err)
	}
	if model.Metric == descriptor.Cosine {
		pts := curve.Points[:0]
		for _, p := range curve.Points {
			if p.Distance <= 0 {
				continue // an extrapolated tail point past identical vectors
			}
			p.Distance = p.Distance * p.Distance / 2
			pts = append(pts, p)
		}
		curve.Points = pts
	}
	return curve, nil
}
