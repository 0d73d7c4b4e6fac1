package attributes

import (
	"fmt"
	"image"
)

// faceresOut is what the faceres heads say about a face: the expected age
// under its 0..99-year softmax and P(male).
type faceresOut struct {
	age, male float64
}

func (a *Analyzer) runFaceres(img image.Image, lm []image.Point) (faceresOut, error) {
	out, err := run(&a.faceres, specFaceres, img, lm)
	if err != nil {
		return faceresOut{}, err
	}
	if len(out[0]) != 100 || len(out[1]) != 1 {
		return faceresOut{}, fmt.Errorf("attributes: faceres heads %d/%d values: %w", len(out[0]), len(out[1]), ErrBadOutput)
	}
	var r faceresOut
	for i, p := range out[0] {
		r.age += float64(i) * float64(p)
	}
	r.male = clamp01(float64(out[1][0]))
	return r, nil
}

// estimateAge averages SSR-Net's regression (the age model) with the
// expected age of faceres's age softmax. On the 31 test photos (women aged
// about 18–30) each alone is 3–4 years RMS from 24 and their errors are
// only weakly related, so the mean is steadier than either
// (docs/attributes.md).
func (a *Analyzer) estimateAge(img image.Image, lm []image.Point, fr faceresOut) (float64, error) {
	out, err := run(&a.age, specAge, img, lm)
	if err != nil {
		return 0, err
	}
	ssr := float64(out[0][0])
	return max(0, min(100, (ssr+fr.age)/2)), nil
}

// estimateGender averages P(female) of the gender model (FER-style gray
// 64×64 net) with 1 - P(male) of faceres's gender head. faceres alone
// called all 31 test photos female, the gender model 29; the mean keeps
// both votes so that one net's confident mistake is tempered by the other.
func (a *Analyzer) estimateGender(img image.Image, lm []image.Point, fr faceresOut) (Gender, error) {
	out, err := run(&a.gender, specGender, img, lm)
	if err != nil {
		return Gender{}, err
	}
	if len(out[0]) != 2 {
		return Gender{}, fmt.Errorf("attributes: gender: %d outputs: %w", len(out[0]), ErrBadOutput)
	}
	pf := (clamp01(float64(out[0][0])) + 1 - fr.male) / 2
	if pf >= 0.5 {
		return Gender{Female: true, Probability: pf}, nil
	}
	return Gender{Female: false, Probability: 1 - pf}, nil
}
