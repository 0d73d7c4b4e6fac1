package tfgraph

import "sort"

func auc(pos, neg []float64) float64 {
	sort.Float64s(neg)
	var s float64
	for _, p := range pos {
		s += float64(sort.SearchFloat64s(neg, p))
	}
	return s / float64(len(pos)*len(neg))
}
