package index

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"sync"
	"testing"

	"github.com/facekit/facekit/store"
)

const testModel = "test_model"

// naiveFace and naiveLib are the reference implementation the index is
// checked against: a flat list scored in float64, sorted in full.
type naiveFace struct {
	app, group, user, token string
	vec                     []float32
}

type naiveLib struct {
	faces  []naiveFace
	groups map[[2]string]bool
	info   map[[3]string]string
}

func newNaive() *naiveLib {
	return &naiveLib{groups: map[[2]string]bool{}, info: map[[3]string]string{}}
}

func (n *naiveLib) search(app string, groups []string, probe []float32, userID string, k int) ([]store.Candidate, error) {
	best := map[[2]string]store.Candidate{}
	for _, gid := range groups {
		if !n.groups[[2]string{app, gid}] {
			return nil, store.ErrGroupNotFound
		}
	}
	want := map[string]bool{}
	for _, g := range groups {
		want[g] = true
	}
	for _, f := range n.faces {
		if f.app != app || !want[f.group] || userID != "" && f.user != userID {
			continue
		}
		var sum float64
		for i := range probe {
			d := float64(probe[i]) - float64(f.vec[i])
			sum += d * d
		}
		c := store.Candidate{GroupID: f.group, UserID: f.user, Info: n.info[[3]string{app, f.group, f.user}], Token: f.token, Distance: math.Sqrt(sum)}
		key := [2]string{f.group, f.user}
		if old, ok := best[key]; !ok || c.Distance < old.Distance || c.Distance == old.Distance && c.Token < old.Token {
			best[key] = c
		}
	}
	var out []store.Candidate
	for _, c := range best {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Distance != out[j].Distance {
			return out[i].Distance < out[j].Distance
		}
		if out[i].UserID != out[j].UserID {
			return out[i].UserID < out[j].UserID
		}
		return out[i].GroupID < out[j].GroupID
	})
	if len(out) > k {
		out = out[:k]
	}
	return out, nil
}

// intVector returns a vector of small integers: every squared distance is
// then exact in float32, so index and reference must agree bit for bit,
// and many distances tie.
func intVector(r *rand.Rand, dim int) []float32 {
	v := make([]float32, dim)
	for i := range v {
		v[i] = float32(r.IntN(3) - 1)
	}
	return v
}

// testToken mixes the token shapes the index stores differently: 32
// lowercase hex digits (packed into 16 bytes, with many leading zeros so
// that ties compare across both kinds), upper-case hex and short names
// (kept as strings).
func testToken(r *rand.Rand, i int) string {
	switch i % 3 {
	case 0:
		return fmt.Sprintf("%016x%016x", r.Uint64()>>r.IntN(64), i)
	case 1:
		return fmt.Sprintf("%016X%016X", r.Uint64()>>r.IntN(64)|1<<62, i)
	}
	return fmt.Sprintf("t%d", i)
}

// mustNewIndex returns an empty index storing 128-d rows with precision p.
func mustNewIndex(tb testing.TB, p Precision) *Index {
	tb.Helper()
	x, err := NewWithOptions(Options{Precision: p})
	if err != nil {
		tb.Fatal(err)
	}
	return x
}

// stored returns vec as an index of precision p keeps a 128-d row: rounded
// to the nearest float16 and widened back, or unchanged.
func stored(p Precision, vec []float32) []float32 {
	if p != Float16 || len(vec) != 128 {
		return vec
	}
	out := make([]float32, len(vec))
	for i, v := range vec {
		out[i] = fromFloat16(float16Bits(v))
	}
	return out
}

func unitVector(r *rand.Rand, dim int) []float32 {
	v := make([]float32, dim)
	var n float64
	for i := range v {
		v[i] = float32(r.NormFloat64())
		n += float64(v[i]) * float64(v[i])
	}
	for i := range v {
		v[i] /= float32(math.Sqrt(n))
	}
	return v
}

// TestSearchMatchesNaive applies random adds and removals to the index and
// the reference and compares every search exactly.
// It runs for both row precisions and both kernel paths: small integers are
// exact in float16 too.
func TestSearchMatchesNaive(t *testing.T) {
	forEachVariant(t, func(t *testing.T, p Precision) {
		for _, dim := range []int{128, 7} {
			t.Run(fmt.Sprintf("Dim%d", dim), func(t *testing.T) {
				testSearchMatchesNaive(t, p, dim)
			})
		}
	})
}

func testSearchMatchesNaive(t *testing.T, p Precision, dim int) {
	r := rand.New(rand.NewPCG(1, uint64(dim)))
	x, ref := mustNewIndex(t, p), newNaive()
	apps := []string{"a1", "a2"}
	groups := []string{"g1", "g2", "g3"}
	users := []string{"u0", "u1", "u2", "u3", "u4", "u5", "u6", "u7", "u8", "u9"}
	tok := 0
	for step := 0; step < 3000; step++ {
		app, gid, uid := apps[r.IntN(2)], groups[r.IntN(3)], users[r.IntN(len(users))]
		switch op := r.IntN(20); {
		case op < 14:
			tok++
			token := testToken(r, tok)
			vec := intVector(r, dim)
			info := fmt.Sprintf("info%d", r.IntN(5))
			if err := x.Update(func(w *Writer) error {
				return w.AddFace(app, gid, store.User{GroupID: gid, UserID: uid, Info: info}, token, store.Embedding{Model: testModel, Vector: vec})
			}); err != nil {
				t.Fatal(err)
			}
			ref.groups[[2]string{app, gid}] = true
			ref.info[[3]string{app, gid, uid}] = info
			ref.faces = append(ref.faces, naiveFace{app, gid, uid, token, vec})
		case op < 17:
			// Remove a random existing face of the chosen app.
			if len(ref.faces) == 0 {
				continue
			}
			i := r.IntN(len(ref.faces))
			f := ref.faces[i]
			x.Update(func(w *Writer) error { w.RemoveFace(f.app, f.group, f.user, f.token); return nil })
			ref.faces = append(ref.faces[:i], ref.faces[i+1:]...)
		case op < 19:
			x.Update(func(w *Writer) error { w.RemoveUser(app, gid, uid); return nil })
			kept := ref.faces[:0]
			for _, f := range ref.faces {
				if f.app != app || f.group != gid || f.user != uid {
					kept = append(kept, f)
				}
			}
			ref.faces = kept
		default:
			if step%7 != 0 { // keep group removal rare
				continue
			}
			x.Update(func(w *Writer) error { w.RemoveGroup(app, gid); return nil })
			delete(ref.groups, [2]string{app, gid})
			kept := ref.faces[:0]
			for _, f := range ref.faces {
				if f.app != app || f.group != gid {
					kept = append(kept, f)
				}
			}
			ref.faces = kept
		}
		if step%10 != 0 {
			continue
		}
		probe := intVector(r, dim)
		qgroups := groups[:1+r.IntN(3)]
		k := 1 + r.IntN(25) // often more than the users present
		uid = ""
		if r.IntN(4) == 0 {
			uid = users[r.IntN(len(users))]
		}
		got, gotErr := x.Search(app, qgroups, store.Embedding{Model: testModel, Vector: probe}, uid, k)
		want, wantErr := ref.search(app, qgroups, probe, uid, k)
		if !errors.Is(gotErr, wantErr) || (gotErr == nil) != (wantErr == nil) {
			t.Fatalf("step %d: error %v, want %v", step, gotErr, wantErr)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("step %d: search(%s, %v, user %q, k %d)\n got  %v\n want %v", step, app, qgroups, uid, k, got, want)
		}
	}
	if x.Len() != len(ref.faces) {
		t.Fatalf("Len() = %d, want %d", x.Len(), len(ref.faces))
	}
}

// TestSearchRandomUnitVectors compares float vectors: distances within
// rounding, and the same users wherever distances are not near-ties. The
// reference scores the rows as the index stores them (rounded to float16
// for Float16), so this checks the scan, not the precision; the precision
// is measured by TestFloat16SearchKeepsRecallAt1 and on real descriptors.
func TestSearchRandomUnitVectors(t *testing.T) {
	forEachVariant(t, testSearchRandomUnitVectors)
}

func testSearchRandomUnitVectors(t *testing.T, p Precision) {
	r := rand.New(rand.NewPCG(7, 7))
	x, ref := mustNewIndex(t, p), newNaive()
	// Enough rows to take the parallel path.
	n := parallelRows + 1234
	if testing.Short() {
		n = 5000
	}
	x.Update(func(w *Writer) error {
		for i := 0; i < n; i++ {
			uid := fmt.Sprintf("u%d", i/3) // three faces per user
			vec := unitVector(r, 128)
			token := fmt.Sprintf("t%d", i)
			if err := w.AddFace("a", "g", store.User{UserID: uid}, token, store.Embedding{Model: testModel, Vector: vec}); err != nil {
				return err
			}
			ref.faces = append(ref.faces, naiveFace{"a", "g", uid, token, stored(p, vec)})
		}
		return nil
	})
	ref.groups[[2]string{"a", "g"}] = true
	for q := 0; q < 20; q++ {
		probe := unitVector(r, 128)
		if q%2 == 0 {
			probe = ref.faces[r.IntN(n)].vec // an enrolled face: distance 0 (as stored)
		}
		got, err := x.Search("a", []string{"g"}, store.Embedding{Model: testModel, Vector: probe}, "", 10)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := ref.search("a", []string{"g"}, probe, "", 10)
		if len(got) != len(want) {
			t.Fatalf("got %d candidates, want %d", len(got), len(want))
		}
		for i := range got {
			if math.Abs(got[i].Distance-want[i].Distance) > 1e-5 {
				t.Fatalf("rank %d: distance %v, want %v", i, got[i].Distance, want[i].Distance)
			}
			near := i > 0 && want[i].Distance-want[i-1].Distance < 1e-5 || i+1 < len(want) && want[i+1].Distance-want[i].Distance < 1e-5
			if !near && (got[i].UserID != want[i].UserID || got[i].Token != want[i].Token) {
				t.Fatalf("rank %d: %v, want %v", i, got[i], want[i])
			}
		}
	}
}

func TestSearchErrors(t *testing.T) {
	x := New()
	vec := []float32{1, 2, 3}
	x.Update(func(w *Writer) error {
		w.AddGroup("a", "empty")
		return w.AddFace("a", "g", store.User{UserID: "u"}, "t1", store.Embedding{Model: "m1", Vector: vec})
	})
	tests := []struct {
		name   string
		groups []string
		probe  store.Embedding
		want   error
	}{
		{"MissingGroup", []string{"g", "nope"}, store.Embedding{Model: "m1", Vector: vec}, store.ErrGroupNotFound},
		{"NoGroups", nil, store.Embedding{Model: "m1", Vector: vec}, store.ErrGroupNotFound},
		{"OtherModel", []string{"g"}, store.Embedding{Model: "m2", Vector: vec}, store.ErrModelMismatch},
		{"OtherLength", []string{"g"}, store.Embedding{Model: "m1", Vector: vec[:2]}, store.ErrInvalidEmbedding},
		{"NaNProbe", []string{"g"}, store.Embedding{Model: "m1", Vector: []float32{1, float32(math.NaN()), 3}}, store.ErrInvalidEmbedding},
		{"NoModel", []string{"g"}, store.Embedding{Vector: vec}, store.ErrInvalidEmbedding},
		{"OtherApp", []string{"g"}, store.Embedding{Model: "m1", Vector: vec}, store.ErrGroupNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := "a"
			if tt.name == "OtherApp" {
				app = "b"
			}
			_, err := x.Search(app, tt.groups, tt.probe, "", 5)
			if !errors.Is(err, tt.want) {
				t.Fatalf("error %v, want %v", err, tt.want)
			}
		})
	}
	t.Run("EmptyGroupGivesNothing", func(t *testing.T) {
		got, err := x.Search("a", []string{"empty"}, store.Embedding{Model: "other", Vector: vec}, "", 5)
		if err != nil || len(got) != 0 {
			t.Fatalf("got %v, %v; want no candidates", got, err)
		}
	})
	t.Run("UnknownUserGivesNothing", func(t *testing.T) {
		got, err := x.Search("a", []string{"g"}, store.Embedding{Model: "m1", Vector: vec}, "ghost", 5)
		if err != nil || len(got) != 0 {
			t.Fatalf("got %v, %v; want no candidates", got, err)
		}
	})
	t.Run("ZeroKGivesNothing", func(t *testing.T) {
		got, err := x.Search("a", []string{"g"}, store.Embedding{Model: "m1", Vector: vec}, "", 0)
		if err != nil || len(got) != 0 {
			t.Fatalf("got %v, %v; want no candidates", got, err)
		}
	})
}

func TestAddFaceModelRules(t *testing.T) {
	x := New()
	add := func(model string, vec []float32, token string) error {
		return x.Update(func(w *Writer) error {
			return w.AddFace("a", "g", store.User{UserID: "u"}, token, store.Embedding{Model: model, Vector: vec})
		})
	}
	if err := add("m1", []float32{1, 2}, "t1"); err != nil {
		t.Fatal(err)
	}
	if err := add("m2", []float32{1, 2}, "t2"); !errors.Is(err, store.ErrModelMismatch) {
		t.Fatalf("other model: %v, want ErrModelMismatch", err)
	}
	if err := add("m1", []float32{1, 2, 3}, "t3"); !errors.Is(err, store.ErrInvalidEmbedding) {
		t.Fatalf("other length: %v, want ErrInvalidEmbedding", err)
	}
	// Once the group is empty it takes any model again.
	x.Update(func(w *Writer) error { w.RemoveFace("a", "g", "u", "t1"); return nil })
	if _, users, ok := x.GroupLen("a", "g"); !ok || users != 0 {
		t.Fatalf("GroupLen after removing the last face: users %d ok %v", users, ok)
	}
	if err := add("m2", []float32{1, 2, 3}, "t4"); err != nil {
		t.Fatalf("new model in emptied group: %v", err)
	}
}

func TestSetUserInfo(t *testing.T) {
	x := New()
	x.Update(func(w *Writer) error {
		return w.AddFace("a", "g", store.User{UserID: "u", Info: "old"}, "t", store.Embedding{Model: "m", Vector: []float32{0}})
	})
	x.Update(func(w *Writer) error { w.SetUserInfo("a", "g", "u", "new"); return nil })
	got, _ := x.Search("a", []string{"g"}, store.Embedding{Model: "m", Vector: []float32{1}}, "", 1)
	if len(got) != 1 || got[0].Info != "new" || got[0].Distance != 1 {
		t.Fatalf("got %v", got)
	}
}

func TestKernels(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	for _, dim := range []int{1, 3, 4, 5, 127, 128, 129, 512} {
		a, b := unitVector(r, dim), unitVector(r, dim)
		var want float64
		for i := range a {
			d := float64(a[i]) - float64(b[i])
			want += d * d
		}
		if got := SquaredL2(a, b); math.Abs(float64(got)-want) > 1e-5 {
			t.Errorf("SquaredL2 dim %d = %v, want %v", dim, got, want)
		}
		if dim == 128 {
			if got := squaredL2x128(a, b); math.Abs(float64(got)-want) > 1e-5 {
				t.Errorf("squaredL2x128 = %v, want %v", got, want)
			}
		}
	}
}

// TestConcurrentSearchSeesWholeUpdates replaces a user's two identical
// faces in one Update while searches run; a search must never see one old
// and one new face (run with -race to also check the locking).
func TestConcurrentSearchSeesWholeUpdates(t *testing.T) {
	x := New()
	put := func(v float32) {
		x.Update(func(w *Writer) error {
			w.RemoveUser("a", "g", "u")
			for _, tok := range []string{"t1", "t2"} {
				if err := w.AddFace("a", "g", store.User{UserID: "u"}, tok, store.Embedding{Model: "m", Vector: []float32{v}}); err != nil {
					return err
				}
			}
			return nil
		})
	}
	put(0)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 1; i < 2000; i++ {
			put(float32(i))
		}
		close(stop)
	}()
	for {
		select {
		case <-stop:
			wg.Wait()
			return
		default:
		}
		got, err := x.Search("a", []string{"g"}, store.Embedding{Model: "m", Vector: []float32{0}}, "", 5)
		if err != nil {
			t.Fatal(err)
		}
		// Both faces are equally near, so the smaller token must win.
		if len(got) != 1 || got[0].Token != "t1" {
			t.Fatalf("inconsistent snapshot: %v", got)
		}
	}
}
