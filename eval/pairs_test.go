package eval

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

func TestParsePairsLFW(t *testing.T) {
	in := "2\t2\n" +
		"Abel_Pacheco\t1\t4\nZico\t2\t3\n" +
		"Ann\t1\tBob\t2\nCid\t3\tDee\t4\n" +
		"Eve\t1\t2\nFay\t10\t11\n" +
		"Gus\t1\tHal\t1\nIda\t2\tJon\t3\n"
	pairs, err := ParsePairs(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(pairs) != 8 {
		t.Fatalf("got %d pairs, want 8", len(pairs))
	}
	want := []Pair{
		{A: filepath.Join("Abel_Pacheco", "Abel_Pacheco_0001.jpg"), B: filepath.Join("Abel_Pacheco", "Abel_Pacheco_0004.jpg"), Same: true, Fold: 0},
		{A: filepath.Join("Zico", "Zico_0002.jpg"), B: filepath.Join("Zico", "Zico_0003.jpg"), Same: true, Fold: 0},
		{A: filepath.Join("Ann", "Ann_0001.jpg"), B: filepath.Join("Bob", "Bob_0002.jpg"), Fold: 0},
		{A: filepath.Join("Cid", "Cid_0003.jpg"), B: filepath.Join("Dee", "Dee_0004.jpg"), Fold: 0},
		{A: filepath.Join("Eve", "Eve_0001.jpg"), B: filepath.Join("Eve", "Eve_0002.jpg"), Same: true, Fold: 1},
		{A: filepath.Join("Fay", "Fay_0010.jpg"), B: filepath.Join("Fay", "Fay_0011.jpg"), Same: true, Fold: 1},
		{A: filepath.Join("Gus", "Gus_0001.jpg"), B: filepath.Join("Hal", "Hal_0001.jpg"), Fold: 1},
		{A: filepath.Join("Ida", "Ida_0002.jpg"), B: filepath.Join("Jon", "Jon_0003.jpg"), Fold: 1},
	}
	for i := range want {
		if pairs[i] != want[i] {
			t.Errorf("pair %d = %+v, want %+v", i, pairs[i], want[i])
		}
	}
	if got := Images(pairs); len(got) != 16 {
		t.Errorf("Images: %d distinct, want 16", len(got))
	}
}

func TestParsePairsPlain(t *testing.T) {
	var b strings.Builder
	b.WriteString("# comment\n\n")
	// 20 same first, then 20 different: folds must still be balanced.
	for i := 0; i < 20; i++ {
		b.WriteString("a.jpg b.jpg same\n")
	}
	for i := 0; i < 20; i++ {
		b.WriteString("c.jpg /abs/d.jpg DIFF\n")
	}
	pairs, err := ParsePairs(strings.NewReader(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	if len(pairs) != 40 {
		t.Fatalf("got %d pairs", len(pairs))
	}
	perFold := map[int][2]int{}
	for _, p := range pairs {
		c := perFold[p.Fold]
		if p.Same {
			c[0]++
		} else {
			c[1]++
		}
		perFold[p.Fold] = c
	}
	if len(perFold) != DefaultFolds {
		t.Fatalf("%d folds, want %d", len(perFold), DefaultFolds)
	}
	for f, c := range perFold {
		if c != [2]int{2, 2} {
			t.Errorf("fold %d has %d same / %d diff, want 2/2", f, c[0], c[1])
		}
	}
	if pairs[39].B != "/abs/d.jpg" || pairs[39].Same {
		t.Errorf("last pair %+v", pairs[39])
	}
}

func TestParsePairsMalformed(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		line     int
	}{
		{"Empty", "", 1},
		{"HeaderPromisesMore", "1 2\nA 1 2\nB 1 C 2\n", 3},
		{"DiffLineWhereSameExpected", "1 1\nA 1 B 2\nC 1 D 2\n", 2},
		{"SameLineWhereDiffExpected", "1 1\nA 1 2\nC 1 2\n", 3},
		{"BadImageNumber", "1 1\nA x 2\nC 1 D 2\n", 2},
		{"ZeroImageNumber", "1 1\nA 0 2\nC 1 D 2\n", 2},
		{"NegativeHeader", "-1 3\n", 1},
		{"PlainWrongFieldCount", "a.jpg b.jpg\n", 1},
		{"PlainUnknownLabel", "a.jpg b.jpg maybe\n", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParsePairs(strings.NewReader(tc.in))
			if !errors.Is(err, ErrMalformedPairs) {
				t.Fatalf("err = %v, want ErrMalformedPairs", err)
			}
			var pe *ParseError
			if !errors.As(err, &pe) || pe.Line != tc.line {
				t.Errorf("err = %v, want line %d", err, tc.line)
			}
		})
	}
}

func TestRefoldStratifies(t *testing.T) {
	var pairs []Pair
	for i := 0; i < 30; i++ {
		pairs = append(pairs, Pair{Same: i < 10})
	}
	got := Refold(pairs, 10)
	count := map[int]int{}
	for i, p := range got {
		if p.Same != pairs[i].Same {
			t.Fatal("Refold changed a label")
		}
		if p.Same {
			count[p.Fold]++
		}
	}
	for f := 0; f < 10; f++ {
		if count[f] != 1 {
			t.Errorf("fold %d has %d same pairs, want 1", f, count[f])
		}
	}
}
