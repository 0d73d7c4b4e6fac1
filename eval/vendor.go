package eval

import (
	"fmt"
	"math"

	"github.com/facekit/facekit/calibration"
)

// VendorThreshold is one documented decision point of a vendor's score
// scale, e.g. Baidu's "80 means the same person at 1 in 10,000 false
// accepts". The scale itself (Score) is the dialect's own function, passed
// in by the caller, so this package knows no vendor.
type VendorThreshold struct {
	Vendor    string  `json:"vendor"`    // e.g. "Baidu /match"
	Threshold float64 `json:"threshold"` // on the vendor's scale
	// ClaimedFAR is the false-accept rate the vendor documents for the
	// threshold; 0 when it documents none.
	ClaimedFAR float64 `json:"claimed_far,omitempty"`
	// Strict accepts only scores above the threshold ("greater than 75")
	// instead of at or above it ("80 and over").
	Strict bool `json:"strict,omitempty"`
	// Score maps a calibrated false-accept rate to the vendor's score,
	// rounded as the dialect answers it. Not serialised.
	Score func(far float64) float64 `json:"-"`
}

// Accepts reports whether score passes the threshold.
func (v VendorThreshold) Accepts(score float64) bool {
	if v.Strict {
		return score > v.Threshold
	}
	return score >= v.Threshold
}

// String names the decision, e.g. "Baidu /match ≥ 80".
func (v VendorThreshold) String() string {
	op := "≥"
	if v.Strict {
		op = ">"
	}
	return fmt.Sprintf("%s %s %g", v.Vendor, op, v.Threshold)
}

// VendorRate is what a vendor threshold does on a set of pairs: the share
// of impostor pairs it accepts (the measured false-accept rate) and of
// genuine pairs (the true-accept rate).
type VendorRate struct {
	VendorThreshold
	ImpostorAccepted int     `json:"impostor_accepted"`
	Impostor         int     `json:"impostor_pairs"`
	FAR              float64 `json:"far"`
	GenuineAccepted  int     `json:"genuine_accepted"`
	Genuine          int     `json:"genuine_pairs"`
	TAR              float64 `json:"tar"`
}

// VendorRates applies each threshold to scores whose value is the vendor
// score (higher = more alike); use ScoresFromDistances to turn distances
// into vendor scores first.
func VendorRates(vts []VendorThreshold, scores []float64, same []bool) []VendorRate {
	out := make([]VendorRate, len(vts))
	for k, v := range vts {
		r := VendorRate{VendorThreshold: v}
		for i, s := range scores {
			acc := v.Accepts(s)
			if same[i] {
				r.Genuine++
				if acc {
					r.GenuineAccepted++
				}
			} else {
				r.Impostor++
				if acc {
					r.ImpostorAccepted++
				}
			}
		}
		r.FAR = ratio(r.ImpostorAccepted, r.Impostor)
		r.TAR = ratio(r.GenuineAccepted, r.Genuine)
		out[k] = r
	}
	return out
}

func ratio(a, b int) float64 {
	if b == 0 {
		return math.NaN()
	}
	return float64(a) / float64(b)
}

// AddVendorRates computes, for every model of the report with an embedded
// calibration curve, what each vendor threshold accepts when the model's
// distances are mapped through that curve to the vendor's score, as a
// server running the model answers. Models without a curve (and fusions)
// are left without rates.
func (rep *Report) AddVendorRates(vts []VendorThreshold) {
	for i := range rep.Models {
		m := &rep.Models[i]
		curve, err := calibration.ForModel(m.Model)
		if err != nil {
			continue
		}
		m.Vendor = nil
		for _, v := range vts {
			scores := make([]float64, len(m.scores))
			same := make([]bool, len(m.scores))
			for j, s := range m.scores {
				scores[j] = v.Score(curve.FAR(s.Distance))
				same[j] = s.Same
			}
			m.Vendor = append(m.Vendor, VendorRates([]VendorThreshold{v}, scores, same)...)
		}
	}
}

// PairScores returns the model's per-pair distances in pair order.
func (m *ModelReport) PairScores() []Score { return append([]Score(nil), m.scores...) }
