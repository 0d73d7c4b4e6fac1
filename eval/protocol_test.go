package eval

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"math"
	"strings"
	"testing"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestBestThreshold(t *testing.T) {
	t.Run("Separable", func(t *testing.T) {
		s := []Score{{0.1, true, 0}, {0.3, true, 0}, {0.5, false, 0}, {0.9, false, 0}}
		thr, acc, err := BestThreshold(s)
		if err != nil || !near(thr, 0.4) || acc != 1 {
			t.Fatalf("got %v %v %v, want 0.4 1", thr, acc, err)
		}
	})
	t.Run("Overlap", func(t *testing.T) {
		// One impostor at 0.2 among genuines: the best cut is still 0.4
		// (5 of 6 right); cutting at 0.15 would get 4 of 6.
		s := []Score{{0.1, true, 0}, {0.2, false, 0}, {0.3, true, 0}, {0.35, true, 0}, {0.5, false, 0}, {0.6, false, 0}}
		thr, acc, _ := BestThreshold(s)
		if !near(thr, 0.425) || !near(acc, 5.0/6) {
			t.Fatalf("got %v %v, want 0.425 5/6", thr, acc)
		}
	})
	t.Run("TiesStayTogether", func(t *testing.T) {
		s := []Score{{0.5, true, 0}, {0.5, false, 0}, {0.5, true, 0}, {0.9, false, 0}}
		thr, acc, _ := BestThreshold(s)
		if !near(thr, 0.7) || !near(acc, 0.75) {
			t.Fatalf("got %v %v, want 0.7 0.75", thr, acc)
		}
	})
	t.Run("AllImpostors", func(t *testing.T) {
		thr, acc, _ := BestThreshold([]Score{{0.2, false, 0}, {0.4, false, 0}})
		if thr >= 0.2 || acc != 1 {
			t.Fatalf("got %v %v, want below 0.2 and 1", thr, acc)
		}
	})
	t.Run("Empty", func(t *testing.T) {
		if _, _, err := BestThreshold(nil); !errors.Is(err, ErrTooFewPairs) {
			t.Fatalf("err = %v", err)
		}
	})
}

// TestKFoldUsesOtherFolds builds folds whose own best threshold differs from
// the one the other folds agree on: the protocol must apply the latter.
func TestKFoldUsesOtherFolds(t *testing.T) {
	var s []Score
	// Folds 0..8: genuine at 0.3, impostor at 0.7 → training threshold 0.5.
	for f := 0; f < 9; f++ {
		s = append(s, Score{0.3, true, f}, Score{0.7, false, f})
	}
	// Fold 9: genuine at 0.55 (beyond the threshold the others learned),
	// impostor at 0.9. Alone it would be separable; under the protocol its
	// genuine pair is rejected.
	s = append(s, Score{0.55, true, 9}, Score{0.9, false, 9})
	cv, err := KFold(s)
	if err != nil {
		t.Fatal(err)
	}
	if len(cv.Folds) != 10 {
		t.Fatalf("%d folds", len(cv.Folds))
	}
	last := cv.Folds[9]
	if !near(last.Threshold, 0.5) || last.Accuracy != 0.5 {
		t.Errorf("fold 10: threshold %v accuracy %v, want 0.5 and 0.5", last.Threshold, last.Accuracy)
	}
	// Folds 0..8 train with fold 9 included: the best cut on training is
	// still between 0.3 and 0.55 or 0.55 and 0.7; either classifies them
	// perfectly.
	for _, f := range cv.Folds[:9] {
		if f.Accuracy != 1 {
			t.Errorf("fold %d accuracy %v, want 1", f.Fold+1, f.Accuracy)
		}
	}
	if !near(cv.Mean, 0.95) || !near(cv.Std, 0.15) {
		t.Errorf("mean %v std %v, want 0.95 0.15", cv.Mean, cv.Std)
	}
	if _, err := KFold([]Score{{0.1, true, 0}}); !errors.Is(err, ErrTooFewPairs) {
		t.Errorf("one fold: err = %v", err)
	}
}

func TestROCAndTAR(t *testing.T) {
	// 4 genuine, 4 impostor; sorted: g.1 g.2 i.3 g.4 i.5 g.6 i.7 i.8
	s := []Score{
		{0.1, true, 0}, {0.2, true, 0}, {0.3, false, 0}, {0.4, true, 0},
		{0.5, false, 0}, {0.6, true, 0}, {0.7, false, 0}, {0.8, false, 0},
	}
	roc, err := ROC(s)
	if err != nil {
		t.Fatal(err)
	}
	want := []ROCPoint{{0, 0, 0}, {0.1, 0, 0.25}, {0.2, 0, 0.5}, {0.3, 0.25, 0.5}, {0.4, 0.25, 0.75}, {0.5, 0.5, 0.75}, {0.6, 0.5, 1}, {0.7, 0.75, 1}, {0.8, 1, 1}}
	if len(roc) != len(want) {
		t.Fatalf("%d points, want %d", len(roc), len(want))
	}
	for i := 1; i < len(want); i++ {
		if !near(roc[i].Threshold, want[i].Threshold) || roc[i].FAR != want[i].FAR || roc[i].TAR != want[i].TAR {
			t.Errorf("point %d = %+v, want %+v", i, roc[i], want[i])
		}
	}
	for _, tc := range []struct{ far, tar float64 }{{0, 0.5}, {0.1, 0.5}, {0.25, 0.75}, {0.5, 1}, {1, 1}} {
		if got := TARAtFAR(roc, tc.far); got.TAR != tc.tar {
			t.Errorf("TAR@FAR %v = %v, want %v", tc.far, got.TAR, tc.tar)
		}
	}
	// Area: staircase 0.5·0.25 + 0.75·0.25 + 1·0.5 with trapezoids between.
	if got := AUC(roc); !near(got, 0.25*0.5+0.25*0.75+0.25*1+0.25*1) {
		t.Errorf("AUC = %v", got)
	}
	if got := EER(roc); !near(got, 0.25) {
		t.Errorf("EER = %v, want 0.25", got)
	}
	if _, err := ROC([]Score{{0.1, true, 0}}); !errors.Is(err, ErrTooFewPairs) {
		t.Errorf("no impostors: err = %v", err)
	}
}

func TestDistributionsAndHistogram(t *testing.T) {
	var s []Score
	for i := 0; i <= 100; i++ {
		s = append(s, Score{float64(i) / 100, true, 0}, Score{1 + float64(i)/100, false, 0})
	}
	g, im := Distributions(s)
	if g.N != 101 || !near(g.Median, 0.5) || !near(g.P01, 0.01) || !near(im.Min, 1) || !near(im.Max, 2) {
		t.Errorf("genuine %+v impostor %+v", g, im)
	}
	h := NewHistogram(s, 4)
	if !near(h.Min, 0) || !near(h.Width, 0.5) {
		t.Fatalf("histogram %+v", h)
	}
	var ng, ni int
	for k := range h.Genuine {
		ng += h.Genuine[k]
		ni += h.Impostor[k]
	}
	if ng != 101 || ni != 101 || h.Genuine[2]+h.Genuine[3] != 1 || h.Impostor[0] != 0 {
		t.Errorf("histogram %+v", h)
	}
}

// TestFuseChoosesInformativeModel fuses a model that separates the classes
// with one that is noise: the weights chosen on training folds must favour
// the first, and the fused accuracy must match it.
func TestFuseChoosesInformativeModel(t *testing.T) {
	var good, noise []Score
	for f := 0; f < 10; f++ {
		for k := 0; k < 10; k++ {
			same := k%2 == 0
			d := 0.8 + 0.01*float64(k)
			if same {
				d = 0.2 + 0.01*float64(k)
			}
			good = append(good, Score{d, same, f})
			// Noise: a distance unrelated to the label.
			noise = append(noise, Score{math.Mod(float64(37*(f*10+k)), 17) / 17, same, f})
		}
	}
	fu, err := Fuse(good, noise)
	if err != nil {
		t.Fatal(err)
	}
	if fu.CV.Mean != 1 {
		t.Errorf("fused accuracy %v, want 1", fu.CV.Mean)
	}
	for _, f := range fu.CV.Folds {
		if f.Weight < 0.5 {
			t.Errorf("fold %d weight of the informative model %v, want ≥ 0.5", f.Fold+1, f.Weight)
		}
	}
	if _, err := Fuse(good, noise[:5]); err == nil {
		t.Error("mismatched lengths: no error")
	}
}

func TestWriteSVGIsWellFormed(t *testing.T) {
	var s []Score
	for f := 0; f < 10; f++ {
		for k := 0; k < 20; k++ {
			s = append(s, Score{0.3 + 0.02*float64(k), true, f}, Score{0.6 + 0.02*float64(k), false, f})
		}
	}
	a, err := Measure("model <a> & b", s)
	if err != nil {
		t.Fatal(err)
	}
	rep := &Report{Pairs: len(s), Genuine: 200, Impostor: 200, Folds: 10, Models: []ModelReport{a, a}}
	var buf bytes.Buffer
	if err := WriteSVG(&buf, rep); err != nil {
		t.Fatal(err)
	}
	dec := xml.NewDecoder(&buf)
	var elems, polylines int
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("SVG is not well-formed XML: %v", err)
		}
		if se, ok := tok.(xml.StartElement); ok {
			elems++
			if se.Name.Local == "polyline" {
				polylines++
			}
		}
	}
	if polylines != 2 || elems < 50 {
		t.Errorf("%d polylines, %d elements", polylines, elems)
	}
	var md bytes.Buffer
	if err := WriteMarkdown(&md, rep, DocInfo{Command: "facekit eval pairs"}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(md.String(), "| model <a> & b | 87.50% ± 0.00% |") {
		t.Errorf("markdown table missing the model row:\n%s", md.String())
	}
}

func TestPairedGain(t *testing.T) {
	cv := func(accs ...float64) CrossValidation {
		var c CrossValidation
		for i, a := range accs {
			c.Folds = append(c.Folds, FoldResult{Fold: i, Accuracy: a})
		}
		return c
	}
	// A steady gain of about a point in every fold is significant...
	m, se := pairedGain(cv(0.99, 0.98, 0.99, 0.985), cv(0.98, 0.97, 0.979, 0.976))
	if !(m > 2*se) || !near(m, 0.01) {
		t.Errorf("steady gain: mean %v se %v", m, se)
	}
	// ...the same mean from one lucky fold is not.
	m, se = pairedGain(cv(0.98, 0.97, 0.979, 1.006), cv(0.98, 0.97, 0.979, 0.976))
	if m > 2*se {
		t.Errorf("one-fold gain: mean %v se %v judged significant", m, se)
	}
}

func TestModelNotesJudgeMirrorAveraging(t *testing.T) {
	cv := func(accs ...float64) CrossValidation {
		var c CrossValidation
		for i, a := range accs {
			c.Folds = append(c.Folds, FoldResult{Fold: i, Accuracy: a})
		}
		return c
	}
	plain := ModelReport{Model: "dlib_resnet_v1", CV: cv(0.98, 0.97, 0.979, 0.976), MsPerFace: 10}
	for _, tc := range []struct {
		name    string
		flip    CrossValidation
		verdict string
	}{
		{"Helps", cv(0.99, 0.98, 0.99, 0.985), "it measurably helps"},
		{"DoesNotHelp", cv(0.98, 0.97, 0.979, 1.006), "it does not measurably help"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep := &Report{Models: []ModelReport{plain, {Model: "dlib_resnet_v1_flip", CV: tc.flip, MsPerFace: 20}}}
			var b bytes.Buffer
			writeModelNotes(&b, rep)
			out := b.String()
			for _, want := range []string{"- dlib_resnet_v1_flip: ", "mirror image", tc.verdict, "at 2.0× the cost"} {
				if !strings.Contains(out, want) {
					t.Errorf("notes lack %q:\n%s", want, out)
				}
			}
		})
	}
	// Without the plain model beside it there is nothing to compare.
	var b bytes.Buffer
	writeModelNotes(&b, &Report{Models: []ModelReport{{Model: "dlib_resnet_v1_flip"}}})
	if strings.Contains(b.String(), "Mirror averaging") {
		t.Errorf("judged a mirrored model alone:\n%s", b.String())
	}
}
