package index

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/facekit/facekit/store"
)

// face is one row of an adversarial gallery.
type face struct {
	user, token string
	vec         []float32
}

// constVector is a 128-d vector of v.
func constVector(v float32) []float32 {
	out := make([]float32, 128)
	for i := range out {
		out[i] = v
	}
	return out
}

// hexToken is a 32-digit token as facekit generates them (stored packed).
func hexToken(i int) string { return fmt.Sprintf("%032x", i) }

// TestSearchAdversarial compares the index with the naive reference on
// galleries built to break a scan: identical rows, ties between users and
// within a user, extreme but finite values, k beyond the gallery, a single
// row, and rows removed before the search. Every case runs for both row
// precisions and both kernel paths, on a small gallery and on one above
// parallelRows (split across workers when GOMAXPROCS > 1).
func TestSearchAdversarial(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 2))
	many := func(n int, row func(i int) face) []face {
		out := make([]face, n)
		for i := range out {
			out[i] = row(i)
		}
		return out
	}
	big := parallelRows + 3*blockRows + 7
	if testing.Short() {
		big = 3*blockRows + 7
	}
	tests := []struct {
		name    string
		faces   []face
		remove  []int // indexes into faces removed after adding
		probe   []float32
		k       int
		wantLen int // -1: don't check the count beyond the reference
	}{
		{"OneRow", []face{{"u", "t", constVector(0.25)}}, nil, constVector(0), 10, 1},
		{"KZero", []face{{"u", "t", constVector(0.25)}}, nil, constVector(0), 0, 0},
		{"KBeyondUsers", many(30, func(i int) face { return face{fmt.Sprint("u", i%7), hexToken(i), unitVector(r, 128)} }), nil, unitVector(r, 128), 100, 7},
		// Every row equal: the order is user id, and each user reports its
		// smallest token, whether packed or not.
		{"IdenticalRows", many(40, func(i int) face {
			tok := hexToken(1000 - i)
			if i%4 == 0 {
				tok = fmt.Sprint("t", i)
			}
			return face{fmt.Sprint("u", i%9), tok, constVector(0.125)}
		}), nil, constVector(-0.125), 5, 5},
		{"IdenticalRowsBig", many(big, func(i int) face { return face{fmt.Sprint("u", i%1000), hexToken(big - i), constVector(0.5)} }), nil, constVector(0.5), 50, 50},
		// The nearest rows sit at the end of the gallery, in the last
		// block and the last worker's share.
		{"NearestLast", many(big, func(i int) face {
			v := constVector(1)
			if i >= big-3 {
				v = constVector(float32(big-i) / 1024)
			}
			return face{fmt.Sprint("u", i), hexToken(i), v}
		}), nil, constVector(0), 3, 3},
		// Distances shrinking row after row: every row displaces the worst
		// kept user (the heap's worst case).
		{"Decreasing", many(big, func(i int) face {
			return face{fmt.Sprint("u", i%5000), hexToken(i), constVector(1 - float32(i)/float32(big))}
		}), nil, constVector(0), 20, 20},
		// Within a user, equal distances from the probe by symmetry.
		{"TiesWithinUser", []face{
			{"a", hexToken(9), []float32{0.5, 0, 0}}, {"a", hexToken(3), []float32{-0.5, 0, 0}},
			{"a", "x", []float32{0, 0.5, 0}}, {"b", hexToken(5), []float32{0, 0, 0.5}},
		}, nil, []float32{0, 0, 0}, 2, 2},
		// Finite values far from descriptors: float16's largest (exactly
		// representable), and beyond it (the group falls back to float32).
		{"Float16Extremes", []face{
			{"a", "1", constVector(65504)}, {"b", "2", constVector(-65504)}, {"c", "3", constVector(6e-8)}, {"d", "4", constVector(0)},
		}, nil, constVector(1), 4, 4},
		{"BeyondFloat16", []face{
			{"a", "1", constVector(0.5)}, {"b", "2", constVector(1e6)}, {"c", "3", constVector(-1e6)}, {"d", "4", constVector(0.25)},
		}, nil, constVector(1e6), 4, 4},
		{"RemovalsThenSearch", many(200, func(i int) face { return face{fmt.Sprint("u", i%20), hexToken(i), intVector(r, 128)} }),
			[]int{0, 199, 57, 58, 59, 120, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 40, 60, 80}, intVector(r, 128), 30, -1},
		{"AllRemoved", many(5, func(i int) face { return face{"u", hexToken(i), intVector(r, 128)} }), []int{4, 0, 2, 1, 3}, intVector(r, 128), 5, 0},
	}
	forEachVariant(t, func(t *testing.T, p Precision) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				x, ref := mustNewIndex(t, p), newNaive()
				ref.groups[[2]string{"a", "g"}] = true
				err := x.Update(func(w *Writer) error {
					w.AddGroup("a", "g")
					for _, f := range tt.faces {
						if err := w.AddFace("a", "g", store.User{UserID: f.user}, f.token, store.Embedding{Model: testModel, Vector: f.vec}); err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
				// Reference rows are the stored values: a group holding
				// values beyond float16's range keeps float32.
				keep := p
				for _, f := range tt.faces {
					if !fitsFloat16(f.vec) {
						keep = Float32
					}
				}
				gone := map[int]bool{}
				for _, i := range tt.remove {
					f := tt.faces[i]
					x.Update(func(w *Writer) error { w.RemoveFace("a", "g", f.user, f.token); return nil })
					gone[i] = true
				}
				for i, f := range tt.faces {
					if !gone[i] {
						ref.faces = append(ref.faces, naiveFace{"a", "g", f.user, f.token, stored(keep, f.vec)})
					}
				}
				got, err := x.Search("a", []string{"g"}, store.Embedding{Model: testModel, Vector: tt.probe}, "", tt.k)
				if err != nil {
					t.Fatal(err)
				}
				want, _ := ref.search("a", []string{"g"}, tt.probe, "", tt.k)
				if tt.wantLen >= 0 && len(got) != tt.wantLen {
					t.Fatalf("got %d candidates, want %d: %v", len(got), tt.wantLen, got)
				}
				if !sameCandidates(got, want) {
					t.Fatalf("search\n got  %v\n want %v", got, want)
				}
				// 1:1 against each returned user gives the very same score.
				for _, c := range got {
					one, err := x.Search("a", []string{"g"}, store.Embedding{Model: testModel, Vector: tt.probe}, c.UserID, 1)
					if err != nil || len(one) != 1 || one[0] != c {
						t.Fatalf("1:1 with %s: %v %v, want %v", c.UserID, one, err, c)
					}
				}
			})
		}
	})
}

// sameCandidates compares two result lists: same users, tokens and info in
// the same order, distances equal up to float32 rounding of the sum (the
// reference adds in float64).
func sameCandidates(got, want []store.Candidate) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		g, w := got[i], want[i]
		if g.UserID != w.UserID || g.Token != w.Token || g.GroupID != w.GroupID || g.Info != w.Info {
			return false
		}
		if math.Abs(g.Distance-w.Distance) > 1e-6*max(1, w.Distance) {
			return false
		}
	}
	return true
}

// TestSearchEmptyGroup: an empty group, alone or beside a full one, adds
// no candidates and takes any probe model.
func TestSearchEmptyGroup(t *testing.T) {
	forEachVariant(t, func(t *testing.T, p Precision) {
		x := mustNewIndex(t, p)
		x.Update(func(w *Writer) error {
			w.AddGroup("a", "empty")
			return w.AddFace("a", "full", store.User{UserID: "u"}, "t", store.Embedding{Model: testModel, Vector: constVector(0.5)})
		})
		probe := store.Embedding{Model: testModel, Vector: constVector(0)}
		for _, groups := range [][]string{{"empty"}, {"empty", "full"}} {
			got, err := x.Search("a", groups, probe, "", 10)
			if err != nil {
				t.Fatal(err)
			}
			if want := len(groups) - 1; len(got) != want {
				t.Fatalf("groups %v: %d candidates, want %d", groups, len(got), want)
			}
		}
	})
}

// TestOneToOneEqualsOneToN: the 1:1 score of every user is bit-identical
// to the user's 1:N score, for both precisions and kernel paths, on real-
// valued vectors where summation order would show.
func TestOneToOneEqualsOneToN(t *testing.T) {
	forEachVariant(t, func(t *testing.T, p Precision) {
		r := rand.New(rand.NewPCG(8, 1))
		x := mustNewIndex(t, p)
		const users = 300
		x.Update(func(w *Writer) error {
			for i := 0; i < 3*users; i++ {
				if err := w.AddFace("a", "g", store.User{UserID: fmt.Sprint("u", i%users)}, hexToken(i), store.Embedding{Model: testModel, Vector: unitVector(r, 128)}); err != nil {
					return err
				}
			}
			return nil
		})
		probe := store.Embedding{Model: testModel, Vector: unitVector(r, 128)}
		all, err := x.Search("a", []string{"g"}, probe, "", users)
		if err != nil || len(all) != users {
			t.Fatalf("1:N: %d candidates, %v", len(all), err)
		}
		for _, c := range all {
			one, err := x.Search("a", []string{"g"}, probe, c.UserID, 1)
			if err != nil || len(one) != 1 || one[0] != c {
				t.Fatalf("1:1 %v (%v), 1:N %v", one, err, c)
			}
		}
	})
}

func TestParsePrecision(t *testing.T) {
	tests := []struct {
		in   string
		want Precision
		ok   bool
	}{
		{"", Float16, true},
		{"float16", Float16, true},
		{"float32", Float32, true},
		{"int8", "", false},
		{"Float32", "", false},
	}
	for _, tt := range tests {
		got, err := ParsePrecision(tt.in)
		if got != tt.want || (err == nil) != tt.ok {
			t.Errorf("ParsePrecision(%q) = %q, %v", tt.in, got, err)
		}
	}
	if _, err := NewWithOptions(Options{Precision: "int8"}); err == nil {
		t.Error("NewWithOptions accepted precision int8")
	}
	if p := New().Precision(); p != Float16 {
		t.Errorf("default precision %q, want float16", p)
	}
}

func TestTokenColumn(t *testing.T) {
	var c tokenColumn
	toks := []string{hexToken(7), "T1", hexToken(3), "0123456789ABCDEF0123456789abcdef", hexToken(0), "t"}
	for _, s := range toks {
		c.append(s)
	}
	for i, s := range toks {
		if got := c.get(int32(i)); got != s || !c.is(int32(i), s) {
			t.Fatalf("row %d: get %q, want %q", i, got, s)
		}
		for j, u := range toks {
			if got := c.less(int32(i), int32(j)); got != (s < u) {
				t.Errorf("less(%q, %q) = %v", s, u, got)
			}
		}
	}
	if c.is(0, hexToken(3)) || c.is(1, "T2") {
		t.Error("is matched another token")
	}
	// Remove row 1 (a string) by moving the last row (a string) over it,
	// then row 0 (packed) by moving a packed row over it.
	c.move(1, 5)
	c.move(0, 4)
	want := []string{hexToken(0), "t", hexToken(3), "0123456789ABCDEF0123456789abcdef"}
	for i, s := range want {
		if got := c.get(int32(i)); got != s {
			t.Fatalf("after moves row %d = %q, want %q", i, got, s)
		}
	}
	if len(c.other) != 2 {
		t.Fatalf("side map holds %d tokens, want 2", len(c.other))
	}
}
