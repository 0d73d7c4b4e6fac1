package eval

import (
	"fmt"
	"math"
)

// FusionWeights is the grid the weight of the first model is chosen from.
var FusionWeights = func() []float64 {
	w := make([]float64, 21)
	for i := range w {
		w[i] = float64(i) / 20
	}
	return w
}()

// Fusion is the result of score-level fusion of two models.
type Fusion struct {
	CV CrossValidation
	// Weight is the mean of the per-fold weights of the first model, used
	// (with z-statistics over all pairs) for the pooled ROC and histogram.
	Weight float64
	// Scores are the pooled fused distances.
	Scores []Score
}

// zstat is a distance distribution's location and scale.
type zstat struct{ mean, std float64 }

func zstats(s []Score) zstat {
	x := make([]float64, len(s))
	for i, v := range s {
		x[i] = v.Distance
	}
	m, sd := meanStd(x)
	if sd == 0 {
		sd = 1
	}
	return zstat{m, sd}
}

func (z zstat) norm(d float64) float64 { return (d - z.mean) / z.std }

// fuse combines aligned score lists: w·z_a + (1−w)·z_b.
func fuse(a, b []Score, za, zb zstat, w float64) []Score {
	out := make([]Score, len(a))
	for i := range a {
		out[i] = Score{Distance: w*za.norm(a[i].Distance) + (1-w)*zb.norm(b[i].Distance), Same: a[i].Same, Fold: a[i].Fold}
	}
	return out
}

// Fuse cross-validates the fusion of two models' distances over the same
// pairs (a[i] and b[i] must be the same trial). Each model's distances are
// z-normalised with statistics of the training folds, combined as
// w·z_a + (1−w)·z_b, and both w (from FusionWeights) and the threshold are
// chosen on the training folds only; the test fold never influences them.
func Fuse(a, b []Score) (Fusion, error) {
	if len(a) != len(b) {
		return Fusion{}, fmt.Errorf("eval: fuse: %d vs %d scores", len(a), len(b))
	}
	for i := range a {
		if a[i].Same != b[i].Same || a[i].Fold != b[i].Fold {
			return Fusion{}, fmt.Errorf("eval: fuse: score %d is not the same trial in both lists", i)
		}
	}
	folds := foldIDs(a)
	if len(folds) < 2 {
		return Fusion{}, fmt.Errorf("%w: fusion needs at least 2 folds", ErrTooFewPairs)
	}
	var res Fusion
	var accs, ws []float64
	for _, f := range folds {
		var trA, trB, teA, teB []Score
		for i := range a {
			if a[i].Fold == f {
				teA, teB = append(teA, a[i]), append(teB, b[i])
			} else {
				trA, trB = append(trA, a[i]), append(trB, b[i])
			}
		}
		za, zb := zstats(trA), zstats(trB)
		// Training accuracy is flat over a range of weights; take the
		// middle of the best range (like the threshold's midpoint) rather
		// than an edge that only just fits the training folds.
		accAt := make([]float64, len(FusionWeights))
		thrAt := make([]float64, len(FusionWeights))
		bestAcc := -1.0
		for k, w := range FusionWeights {
			thr, acc, err := BestThreshold(fuse(trA, trB, za, zb, w))
			if err != nil {
				return Fusion{}, fmt.Errorf("fold %d: %w", f+1, err)
			}
			accAt[k], thrAt[k] = acc, thr
			bestAcc = math.Max(bestAcc, acc)
		}
		var best []int
		for k := range FusionWeights {
			if accAt[k] == bestAcc {
				best = append(best, k)
			}
		}
		pick := best[len(best)/2]
		bestW, bestThr := FusionWeights[pick], thrAt[pick]
		acc := Accuracy(fuse(teA, teB, za, zb, bestW), bestThr)
		res.CV.Folds = append(res.CV.Folds, FoldResult{Fold: f, Threshold: bestThr, Accuracy: acc, Pairs: len(teA), Weight: bestW})
		accs = append(accs, acc)
		ws = append(ws, bestW)
	}
	res.CV.Mean, res.CV.Std = meanStd(accs)
	res.Weight, _ = meanStd(ws)
	res.Scores = fuse(a, b, zstats(a), zstats(b), res.Weight)
	return res, nil
}
