package eval

import (
	"errors"
	"fmt"
	"math"
	"sort"
)

// ErrTooFewPairs means a measurement lacks the pairs it needs (e.g. a fold
// without training data, or no genuine pairs for a ROC).
var ErrTooFewPairs = errors.New("eval: too few pairs")

// Score is one trial's outcome: the distance between the two descriptors
// (lower means more alike), the truth and the fold.
type Score struct {
	Distance float64 `json:"distance"`
	Same     bool    `json:"same"`
	Fold     int     `json:"fold"`
}

// BestThreshold returns the distance threshold that classifies scores best
// (a pair is "same" when its distance is <= the threshold) and the accuracy
// it reaches. The threshold sits midway between the two distances it
// separates, so it generalises symmetrically; ties go to the lowest
// threshold, the conservative side.
func BestThreshold(scores []Score) (threshold, accuracy float64, err error) {
	if len(scores) == 0 {
		return 0, 0, fmt.Errorf("%w: no scores to choose a threshold on", ErrTooFewPairs)
	}
	s := sortedByDistance(scores)
	var nDiff int
	for _, x := range s {
		if !x.Same {
			nDiff++
		}
	}
	// Below every distance: all pairs rejected, every different pair right.
	correct, best := nDiff, nDiff
	threshold = s[0].Distance - 1e-6
	for i := 0; i < len(s); i++ {
		if s[i].Same {
			correct++
		} else {
			correct--
		}
		// Only cut between distinct distances: equal distances must fall
		// on the same side.
		if i+1 < len(s) && s[i+1].Distance == s[i].Distance {
			continue
		}
		if correct > best {
			best = correct
			if i+1 < len(s) {
				threshold = (s[i].Distance + s[i+1].Distance) / 2
			} else {
				threshold = s[i].Distance + 1e-6
			}
		}
	}
	return threshold, float64(best) / float64(len(s)), nil
}

func sortedByDistance(scores []Score) []Score {
	s := append([]Score(nil), scores...)
	sort.SliceStable(s, func(i, j int) bool { return s[i].Distance < s[j].Distance })
	return s
}

// Accuracy is the fraction of scores that threshold classifies correctly.
func Accuracy(scores []Score, threshold float64) float64 {
	if len(scores) == 0 {
		return 0
	}
	var ok int
	for _, s := range scores {
		if (s.Distance <= threshold) == s.Same {
			ok++
		}
	}
	return float64(ok) / float64(len(scores))
}

// FoldResult is one fold of cross-validation.
type FoldResult struct {
	Fold      int     `json:"fold"`
	Threshold float64 `json:"threshold"` // chosen on the other folds
	Accuracy  float64 `json:"accuracy"`  // on this fold
	Pairs     int     `json:"pairs"`
	Weight    float64 `json:"weight,omitempty"` // fusion weight chosen on the other folds
}

// CrossValidation is the k-fold protocol's result.
type CrossValidation struct {
	Folds []FoldResult `json:"folds"`
	// Mean is the mean of the fold accuracies; Std their standard
	// deviation (population form, as the LFW literature and the facenet
	// evaluation report it).
	Mean float64 `json:"accuracy"`
	Std  float64 `json:"accuracy_std"`
}

// KFold runs the protocol: for each fold, the threshold is chosen on all
// other folds and the accuracy measured on the fold itself.
func KFold(scores []Score) (CrossValidation, error) {
	return kfold(scores, func(train []Score) (float64, float64, error) {
		t, _, err := BestThreshold(train)
		return t, 0, err
	}, nil)
}

// kfold is KFold with a pluggable training step: fit returns a threshold
// and a model parameter (the fusion weight); rescore, when set, recomputes
// the test fold's distances for that parameter.
func kfold(scores []Score, fit func(train []Score) (thr, param float64, err error), rescore func(test []Score, param float64) []Score) (CrossValidation, error) {
	folds := foldIDs(scores)
	if len(folds) < 2 {
		return CrossValidation{}, fmt.Errorf("%w: cross-validation needs at least 2 folds, have %d", ErrTooFewPairs, len(folds))
	}
	var cv CrossValidation
	for _, f := range folds {
		var train, test []Score
		for _, s := range scores {
			if s.Fold == f {
				test = append(test, s)
			} else {
				train = append(train, s)
			}
		}
		thr, param, err := fit(train)
		if err != nil {
			return CrossValidation{}, fmt.Errorf("fold %d: %w", f+1, err)
		}
		if rescore != nil {
			test = rescore(test, param)
		}
		cv.Folds = append(cv.Folds, FoldResult{Fold: f, Threshold: thr, Accuracy: Accuracy(test, thr), Pairs: len(test), Weight: param})
	}
	accs := make([]float64, len(cv.Folds))
	for i, f := range cv.Folds {
		accs[i] = f.Accuracy
	}
	cv.Mean, cv.Std = meanStd(accs)
	return cv, nil
}

func foldIDs(scores []Score) []int {
	seen := map[int]bool{}
	var ids []int
	for _, s := range scores {
		if !seen[s.Fold] {
			seen[s.Fold] = true
			ids = append(ids, s.Fold)
		}
	}
	sort.Ints(ids)
	return ids
}

func meanStd(x []float64) (mean, std float64) {
	if len(x) == 0 {
		return 0, 0
	}
	for _, v := range x {
		mean += v
	}
	mean /= float64(len(x))
	for _, v := range x {
		std += (v - mean) * (v - mean)
	}
	return mean, math.Sqrt(std / float64(len(x)))
}

// ROCPoint is one operating point: accepting every pair at most Threshold
// apart accepts TAR of the genuine pairs and FAR of the impostor pairs.
type ROCPoint struct {
	Threshold float64 `json:"threshold"`
	FAR       float64 `json:"far"`
	TAR       float64 `json:"tar"`
}

// ROC returns the operating points at every distinct distance, from the
// strictest to the loosest, plus the origin (accept nothing).
func ROC(scores []Score) ([]ROCPoint, error) {
	var nSame, nDiff int
	for _, s := range scores {
		if s.Same {
			nSame++
		} else {
			nDiff++
		}
	}
	if nSame == 0 || nDiff == 0 {
		return nil, fmt.Errorf("%w: a ROC needs genuine and impostor pairs (have %d and %d)", ErrTooFewPairs, nSame, nDiff)
	}
	s := sortedByDistance(scores)
	out := []ROCPoint{{Threshold: s[0].Distance - 1e-6}}
	var ta, fa int
	for i, x := range s {
		if x.Same {
			ta++
		} else {
			fa++
		}
		if i+1 < len(s) && s[i+1].Distance == x.Distance {
			continue
		}
		out = append(out, ROCPoint{Threshold: x.Distance, FAR: float64(fa) / float64(nDiff), TAR: float64(ta) / float64(nSame)})
	}
	return out, nil
}

// TARAtFAR returns the highest TAR among operating points whose FAR does
// not exceed far, and that point. With n impostor pairs, FARs below 1/n can
// only be met by accepting no impostor at all, so the figure is as good as
// the number of impostors behind it (Resolvable says whether it is).
func TARAtFAR(roc []ROCPoint, far float64) ROCPoint {
	best := ROCPoint{}
	if len(roc) > 0 {
		best = roc[0]
	}
	for _, p := range roc {
		if p.FAR <= far && p.TAR >= best.TAR {
			best = p
		}
	}
	return best
}

// AUC is the area under the ROC (trapezoids).
func AUC(roc []ROCPoint) float64 {
	var a float64
	for i := 1; i < len(roc); i++ {
		a += (roc[i].FAR - roc[i-1].FAR) * (roc[i].TAR + roc[i-1].TAR) / 2
	}
	return a
}

// EER is the equal error rate: where the false-accept rate meets the
// false-reject rate, interpolated between the two points straddling it.
func EER(roc []ROCPoint) float64 {
	for i := 1; i < len(roc); i++ {
		a, b := roc[i-1], roc[i]
		da, db := a.FAR-(1-a.TAR), b.FAR-(1-b.TAR)
		if da <= 0 && db >= 0 {
			if db == da {
				return b.FAR
			}
			t := -da / (db - da)
			return a.FAR + t*(b.FAR-a.FAR)
		}
	}
	return 1
}

// Distribution summarises one class's distances.
type Distribution struct {
	N      int     `json:"n"`
	Mean   float64 `json:"mean"`
	Std    float64 `json:"std"`
	Min    float64 `json:"min"`
	P001   float64 `json:"p0_1"` // 0.1th percentile
	P01    float64 `json:"p1"`   // 1st percentile
	Median float64 `json:"median"`
	P99    float64 `json:"p99"`
	Max    float64 `json:"max"`
}

// Distributions returns the genuine (same-person) and impostor summaries.
func Distributions(scores []Score) (genuine, impostor Distribution) {
	var g, im []float64
	for _, s := range scores {
		if s.Same {
			g = append(g, s.Distance)
		} else {
			im = append(im, s.Distance)
		}
	}
	return summarize(g), summarize(im)
}

func summarize(x []float64) Distribution {
	if len(x) == 0 {
		return Distribution{}
	}
	sort.Float64s(x)
	m, s := meanStd(x)
	return Distribution{
		N: len(x), Mean: m, Std: s, Min: x[0], Max: x[len(x)-1],
		P001: Percentile(x, 0.1), P01: Percentile(x, 1), Median: Percentile(x, 50), P99: Percentile(x, 99),
	}
}

// Percentile returns the p-th percentile (0..100) of sorted x with linear
// interpolation between order statistics.
func Percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	r := p / 100 * float64(len(sorted)-1)
	lo := int(math.Floor(r))
	hi := min(lo+1, len(sorted)-1)
	return sorted[lo] + (r-float64(lo))*(sorted[hi]-sorted[lo])
}

// Histogram counts genuine and impostor distances in equal bins.
type Histogram struct {
	Min      float64 `json:"min"`
	Width    float64 `json:"bin_width"`
	Genuine  []int   `json:"genuine"`
	Impostor []int   `json:"impostor"`
}

// NewHistogram bins scores into n bins spanning their distance range.
func NewHistogram(scores []Score, n int) Histogram {
	if len(scores) == 0 || n < 1 {
		return Histogram{}
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, s := range scores {
		lo, hi = math.Min(lo, s.Distance), math.Max(hi, s.Distance)
	}
	w := (hi - lo) / float64(n)
	if w == 0 {
		w = 1
	}
	h := Histogram{Min: lo, Width: w, Genuine: make([]int, n), Impostor: make([]int, n)}
	for _, s := range scores {
		b := min(int((s.Distance-lo)/w), n-1)
		if s.Same {
			h.Genuine[b]++
		} else {
			h.Impostor[b]++
		}
	}
	return h
}
