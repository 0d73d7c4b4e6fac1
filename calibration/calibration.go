// Package calibration turns a descriptor distance into a false-accept rate
// (FAR): the fraction of different-person pairs that are at least that close.
// Vendor dialects then map FAR onto their own score scales, so that a
// documented threshold ("80 means 1 in 10,000 false accepts") holds on the
// data the curve was measured on.
package calibration

import (
	"math"
	"sort"
)

// Point is one measured point of an impostor distance distribution: the
// fraction of impostor pairs whose distance is <= Distance.
type Point struct {
	Distance float64 `json:"distance"`
	FAR      float64 `json:"far"`
	// Pairs is how many impostor pairs were at most Distance apart when the
	// point was measured: the evidence behind FAR.
	Pairs int64 `json:"pairs,omitempty"`
	// Extrapolated marks a point below the measurable range, placed on the
	// fitted log-linear tail rather than read off the data.
	Extrapolated bool `json:"extrapolated,omitempty"`
}

// Curve is a monotone distance -> FAR mapping, interpolated in log10(FAR)
// between measured points. It is safe for concurrent use.
type Curve struct {
	Model  string  `json:"model"`  // descriptor model the curve was measured for
	Source string  `json:"source"` // data set and method, for the record
	Points []Point `json:"points"` // sorted by Distance ascending, FAR strictly increasing
}

// FAR returns the estimated false-accept rate at distance d. Below the first
// point it extrapolates log-linearly; above the last it saturates at 1.
func (c *Curve) FAR(d float64) float64 {
	p := c.Points
	if len(p) == 0 {
		return 1
	}
	i := sort.Search(len(p), func(i int) bool { return p[i].Distance >= d })
	switch {
	case i == 0:
		if len(p) < 2 {
			return p[0].FAR
		}
		return logInterp(d, p[0], p[1])
	case i == len(p):
		return 1
	default:
		return logInterp(d, p[i-1], p[i])
	}
}

// DistanceAtFAR is the inverse of FAR: the distance at which the curve
// reaches far.
func (c *Curve) DistanceAtFAR(far float64) float64 {
	p := c.Points
	if len(p) == 0 {
		return 0
	}
	i := sort.Search(len(p), func(i int) bool { return p[i].FAR >= far })
	var a, b Point
	switch {
	case i == 0 && len(p) > 1:
		a, b = p[0], p[1]
	case i == 0:
		return p[0].Distance
	case i == len(p):
		return p[len(p)-1].Distance
	default:
		a, b = p[i-1], p[i]
	}
	la, lb, lf := math.Log10(a.FAR), math.Log10(b.FAR), math.Log10(far)
	if lb == la {
		return a.Distance
	}
	return a.Distance + (lf-la)/(lb-la)*(b.Distance-a.Distance)
}

func logInterp(d float64, a, b Point) float64 {
	if b.Distance == a.Distance {
		return a.FAR
	}
	t := (d - a.Distance) / (b.Distance - a.Distance)
	l := math.Log10(a.FAR) + t*(math.Log10(b.FAR)-math.Log10(a.FAR))
	return math.Min(1, math.Pow(10, l))
}
