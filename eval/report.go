package eval

import (
	"errors"
	"fmt"
	"math"
	"sort"

	"github.com/facekit/facekit/descriptor"
)

// ErrMissingDescriptor means a pair references an image without a
// descriptor of the model being scored.
var ErrMissingDescriptor = errors.New("eval: image has no descriptor")

// ReportFARs are the false-accept rates TAR is reported at.
var ReportFARs = []float64{1e-2, 1e-3, 1e-4}

// TARPoint is the true-accept rate reachable at a false-accept rate.
type TARPoint struct {
	FAR       float64 `json:"far"`
	TAR       float64 `json:"tar"`
	Threshold float64 `json:"threshold"`
	// Resolved is false when FAR is below 1/impostor pairs: the TAR is then
	// the rate at which no impostor at all is accepted, an upper bound on
	// the strictness the data can show.
	Resolved bool `json:"resolved"`
}

// ModelReport is one model's (or one fusion's) measurement.
type ModelReport struct {
	Model     string            `json:"model"`
	Metric    descriptor.Metric `json:"metric,omitempty"`
	Dim       int               `json:"dim,omitempty"`
	CV        CrossValidation   `json:"cross_validation"`
	TAR       []TARPoint        `json:"tar_at_far"`
	AUC       float64           `json:"auc"`
	EER       float64           `json:"eer"`
	Genuine   Distribution      `json:"genuine"`
	Impostor  Distribution      `json:"impostor"`
	Histogram Histogram         `json:"histogram"`
	ROC       []ROCPoint        `json:"roc"`
	MsPerFace float64           `json:"ms_per_face,omitempty"`
	// Fused names the two models of a fusion; Weight is the first one's
	// mean weight over the folds (z-normalised distances).
	Fused  []string `json:"fused,omitempty"`
	Weight float64  `json:"weight,omitempty"`
	// Vendor is what each vendor threshold accepts under the model's
	// calibration curve (AddVendorRates).
	Vendor []VendorRate `json:"vendor_thresholds,omitempty"`
	// scores are the per-pair distances the report was computed from.
	scores []Score
}

// Report is a whole evaluation.
type Report struct {
	Pairs    int            `json:"pairs"`
	Genuine  int            `json:"genuine_pairs"`
	Impostor int            `json:"impostor_pairs"`
	Folds    int            `json:"folds"`
	Images   int            `json:"images"`
	Found    map[string]int `json:"faces_found_by"`
	// Tree describes a labelled photo tree's pairs (facekit eval tree).
	Tree   *TreeStats    `json:"tree,omitempty"`
	Models []ModelReport `json:"models"`
	Fusion *ModelReport  `json:"fusion,omitempty"`
}

// Scores computes the distance of every pair under metric from vectors
// (image → descriptor).
func Scores(pairs []Pair, vectors map[string][]float32, metric descriptor.Metric) ([]Score, error) {
	out := make([]Score, len(pairs))
	for i, p := range pairs {
		a, okA := vectors[p.A]
		b, okB := vectors[p.B]
		if !okA || !okB {
			missing := p.A
			if okA {
				missing = p.B
			}
			return nil, fmt.Errorf("%w: %s", ErrMissingDescriptor, missing)
		}
		d, err := descriptor.Distance(metric, a, b)
		if err != nil {
			return nil, fmt.Errorf("eval: pair %d: %w", i+1, err)
		}
		out[i] = Score{Distance: d, Same: p.Same, Fold: p.Fold}
	}
	return out, nil
}

// Measure computes a model report from its scores.
func Measure(name string, scores []Score) (ModelReport, error) {
	cv, err := KFold(scores)
	if err != nil {
		return ModelReport{}, fmt.Errorf("eval: %s: %w", name, err)
	}
	return measure(name, scores, cv)
}

func measure(name string, scores []Score, cv CrossValidation) (ModelReport, error) {
	roc, err := ROC(scores)
	if err != nil {
		return ModelReport{}, fmt.Errorf("eval: %s: %w", name, err)
	}
	r := ModelReport{Model: name, CV: cv, AUC: AUC(roc), EER: EER(roc), scores: scores}
	r.Genuine, r.Impostor = Distributions(scores)
	r.Histogram = NewHistogram(scores, 60)
	for _, far := range ReportFARs {
		p := TARAtFAR(roc, far)
		r.TAR = append(r.TAR, TARPoint{FAR: far, TAR: p.TAR, Threshold: p.Threshold, Resolved: far*float64(r.Impostor.N) >= 1})
	}
	r.ROC = thinROC(roc, 500)
	return r, nil
}

// thinROC reduces the ROC to its upper envelope (the best TAR at each FAR,
// the corners of the staircase) and, when that is still more than n points,
// keeps the last point of each of n equal steps of log10 FAR, where the
// picture draws them. The end points are always kept.
func thinROC(roc []ROCPoint, n int) []ROCPoint {
	var env []ROCPoint
	for i, p := range roc {
		if i+1 < len(roc) && roc[i+1].FAR == p.FAR {
			continue
		}
		env = append(env, p)
	}
	if len(env) <= n {
		return env
	}
	lo := math.Log10(env[1].FAR) // env[0] is the FAR-0 origin
	step := -lo / float64(n)
	out := []ROCPoint{env[0]}
	for i := 1; i < len(env); i++ {
		last := i == len(env)-1
		bucket := math.Floor((math.Log10(env[i].FAR) - lo) / step)
		if !last && math.Floor((math.Log10(env[i+1].FAR)-lo)/step) == bucket {
			continue
		}
		out = append(out, env[i])
	}
	return out
}

// TARAt returns the report's TAR at far, or false if it was not measured.
func (r *ModelReport) TARAt(far float64) (TARPoint, bool) {
	for _, t := range r.TAR {
		if t.FAR == far {
			return t, true
		}
	}
	return TARPoint{}, false
}

// NewReport measures every model of emb over pairs. fuse names the two
// models to fuse: nil for none, or one element "auto" for the two most
// accurate models.
func NewReport(pairs []Pair, emb *Embeddings, models []descriptor.Info, fuse []string) (*Report, error) {
	rep := &Report{Pairs: len(pairs), Images: len(Images(pairs)), Found: emb.Found}
	folds := map[int]bool{}
	for _, p := range pairs {
		folds[p.Fold] = true
		if p.Same {
			rep.Genuine++
		} else {
			rep.Impostor++
		}
	}
	rep.Folds = len(folds)
	for _, m := range models {
		s, err := Scores(pairs, emb.Vectors[m.Name], m.Metric)
		if err != nil {
			return nil, fmt.Errorf("eval: %s: %w", m.Name, err)
		}
		mr, err := Measure(m.Name, s)
		if err != nil {
			return nil, err
		}
		mr.Metric, mr.Dim, mr.MsPerFace = m.Metric, m.Dim, emb.MsPerFace[m.Name]
		rep.Models = append(rep.Models, mr)
	}
	if len(fuse) == 1 && fuse[0] == "auto" {
		if len(rep.Models) < 2 {
			return rep, nil
		}
		ranked := append([]ModelReport(nil), rep.Models...)
		sort.SliceStable(ranked, func(i, j int) bool { return ranked[i].CV.Mean > ranked[j].CV.Mean })
		fuse = []string{ranked[0].Model, ranked[1].Model}
	}
	if len(fuse) == 0 {
		return rep, nil
	}
	if len(fuse) != 2 {
		return nil, fmt.Errorf("eval: fusion takes two models, got %v", fuse)
	}
	var parts [2]*ModelReport
	for k, name := range fuse {
		for i := range rep.Models {
			if rep.Models[i].Model == name {
				parts[k] = &rep.Models[i]
			}
		}
		if parts[k] == nil {
			return nil, fmt.Errorf("eval: fusion model %q was not evaluated", name)
		}
	}
	f, err := Fuse(parts[0].scores, parts[1].scores)
	if err != nil {
		return nil, err
	}
	mr, err := measure(fuse[0]+" + "+fuse[1], f.Scores, f.CV)
	if err != nil {
		return nil, err
	}
	mr.Fused, mr.Weight = fuse, f.Weight
	mr.MsPerFace = parts[0].MsPerFace + parts[1].MsPerFace
	rep.Fusion = &mr
	return rep, nil
}
