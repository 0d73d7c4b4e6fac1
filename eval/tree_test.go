package eval

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/facekit/facekit/descriptor"
	"github.com/facekit/facekit/internal/testenv"
)

// writeTree creates files (relative path → content) under a fresh root.
func writeTree(t *testing.T, files map[string][]byte) string {
	t.Helper()
	root := t.TempDir()
	for rel, data := range files {
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func TestScanTreeIdentities(t *testing.T) {
	root := writeTree(t, map[string][]byte{
		"jimin.jpg": nil, "jimin3.jpg": nil, "bona12.png": nil, "7.jpg": nil,
		"Ann/x1.jpg": nil, "Ann/sub/x2.jpeg": nil, "Bob/a.JPG": nil,
		"notes.txt": nil, ".hidden/y.jpg": nil, "Bob/.z.jpg": nil,
	})
	ims, err := ScanTree(root, TreeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"jimin.jpg": "jimin", "jimin3.jpg": "jimin", "bona12.png": "bona", "7.jpg": "7",
		"Ann/x1.jpg": "Ann", "Ann/sub/x2.jpeg": "Ann", "Bob/a.JPG": "Bob",
	}
	if len(ims) != len(want) {
		t.Fatalf("got %d images %+v, want %d", len(ims), ims, len(want))
	}
	for _, im := range ims {
		if want[im.Path] != im.Identity {
			t.Errorf("%s: identity %q, want %q", im.Path, im.Identity, want[im.Path])
		}
	}
	if _, err := ScanTree(t.TempDir(), TreeOptions{}); err == nil {
		t.Error("an empty tree is not an error")
	}
}

// TestTreePairsSessions checks the session rule on NUAA-style names
// (subject_glasses_light_session_frame): same-subject pairs count only
// across sessions.
func TestTreePairsSessions(t *testing.T) {
	root := writeTree(t, map[string][]byte{
		"0001/0001_00_00_01_5.jpg": nil, "0001/0001_00_00_01_10.jpg": nil, "0001/0001_00_00_02_5.jpg": nil,
		"0002/0002_00_00_01_5.jpg": nil, "0002/0002_01_00_01_10.jpg": nil,
	})
	re := regexp.MustCompile(`^[0-9]+_[0-9]+_[0-9]+_([0-9]+)_`)
	ims, err := ScanTree(root, TreeOptions{Session: re})
	if err != nil {
		t.Fatal(err)
	}
	pairs, st := TreePairs(ims, nil, true)
	// 0001: sessions 01,01,02 → 2 cross-session genuine, 1 left out;
	// 0002: both session 01 → 1 left out; impostors 3×2 = 6.
	if st.Genuine != 2 || st.SameSession != 2 || st.Impostor != 6 || len(pairs) != 8 {
		t.Fatalf("stats %+v (%d pairs), want 2 genuine, 2 left out, 6 impostor", st, len(pairs))
	}
	for _, p := range pairs {
		if p.Same && filepath.Base(p.A)[11:13] == filepath.Base(p.B)[11:13] {
			t.Errorf("same-session genuine pair %s / %s", p.A, p.B)
		}
	}
	// Without the session rule every same-subject pair is genuine.
	if _, st := TreePairs(ims, nil, false); st.Genuine != 4 || st.Impostor != 6 {
		t.Errorf("without sessions: %+v, want 4 genuine 6 impostor", st)
	}
	// keep drops images before pairing.
	if _, st := TreePairs(ims, func(p string) bool { return filepath.Dir(p) == "0001" }, false); st.Genuine != 3 || st.Impostor != 0 || st.Images != 3 {
		t.Errorf("kept 0001 only: %+v", st)
	}
}

// bruteAUC is the Mann–Whitney statistic: the share of (genuine, impostor)
// pairs whose genuine distance is the smaller, ties counting half. It equals
// the trapezoidal area under the ROC.
func bruteAUC(scores []Score) float64 {
	var n, sum float64
	for _, g := range scores {
		if !g.Same {
			continue
		}
		for _, im := range scores {
			if im.Same {
				continue
			}
			n++
			switch {
			case g.Distance < im.Distance:
				sum++
			case g.Distance == im.Distance:
				sum += 0.5
			}
		}
	}
	return sum / n
}

// TestTreeRealPhotos builds a small flat tree from the test photos (three
// people with several photos, a group photo, a photo without a face) and
// runs the real pipeline: the group photo and the blank image are skipped
// and counted, the pair counts are what the labels say, and the AUC is the
// brute-force one.
func TestTreeRealPhotos(t *testing.T) {
	if testing.Short() {
		t.Skip("detects and describes 8 photos")
	}
	eng := testenv.Engine(t)
	files := map[string][]byte{"blank.png": testenv.BlankPNG(t, 160, 160)}
	for _, n := range []string{"jimin.jpg", "jimin2.jpg", "jimin3.jpg", "bona.jpg", "bona2.jpg", "tzuyu.jpg", "pristin.jpg"} {
		files[n] = testenv.Photo(t, n)
	}
	root := writeTree(t, files)
	ims, err := ScanTree(root, TreeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	d, err := descriptor.Open(descriptor.ResNet, descriptor.Env{Engine: eng})
	if err != nil {
		t.Fatal(err)
	}
	paths := make([]string, len(ims))
	for i, im := range ims {
		paths[i] = im.Path
	}
	emb := &Embedder{Engine: eng, Describers: []descriptor.Describer{d}, ImagesDir: root, CacheDir: t.TempDir(), TimeFaces: 1, Single: true}
	res, err := emb.Run(context.Background(), paths)
	if err != nil {
		t.Fatal(err)
	}
	if res.Skipped["pristin.jpg"] != SkipSeveral || res.Skipped["blank.png"] != SkipNoFace || len(res.Skipped) != 2 {
		t.Fatalf("skipped %v, want pristin.jpg (several) and blank.png (none)", res.Skipped)
	}
	if res.Found[SkipSeveral] != 1 || res.Found[SkipNoFace] != 1 || res.Found[FoundHOG]+res.Found[FoundCNN] != 6 {
		t.Errorf("found %v", res.Found)
	}
	pairs, st := TreePairs(ims, func(p string) bool { _, ok := res.Faces[p]; return ok }, false)
	// jimin ×3, bona ×2, tzuyu ×1: C(3,2)+C(2,2) = 4 genuine, C(6,2)−4 = 11 impostor.
	if st.Genuine != 4 || st.Impostor != 11 || st.Identities != 3 {
		t.Fatalf("stats %+v, want 4 genuine, 11 impostor, 3 identities", st)
	}
	info, _ := descriptor.Lookup(descriptor.ResNet)
	rep, err := NewReport(pairs, res, []descriptor.Info{info}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Genuine != 4 || rep.Impostor != 11 {
		t.Errorf("report: %d genuine %d impostor", rep.Genuine, rep.Impostor)
	}
	// The reference recomputes every distance from the vectors itself.
	var ref []Score
	vec := res.Vectors[descriptor.ResNet]
	for i, a := range ims {
		for _, b := range ims[i+1:] {
			va, okA := vec[a.Path]
			vb, okB := vec[b.Path]
			if !okA || !okB {
				continue
			}
			var s float64
			for k := range va {
				x := float64(va[k]) - float64(vb[k])
				s += x * x
			}
			ref = append(ref, Score{Distance: math.Sqrt(s), Same: a.Identity == b.Identity})
		}
	}
	if len(ref) != 15 {
		t.Fatalf("reference has %d pairs", len(ref))
	}
	if got, want := rep.Models[0].AUC, bruteAUC(ref); math.Abs(got-want) > 1e-9 {
		t.Errorf("AUC %.6f, brute force %.6f", got, want)
	}

	// A second run reads the skips from the cache and describes nothing.
	again, err := (&Embedder{Engine: eng, Describers: []descriptor.Describer{d}, ImagesDir: root, CacheDir: emb.CacheDir, TimeFaces: 1, Single: true}).Run(context.Background(), paths)
	if err != nil {
		t.Fatal(err)
	}
	if len(again.Skipped) != 2 || len(again.Faces) != 6 {
		t.Errorf("cached run: %d skipped, %d faces", len(again.Skipped), len(again.Faces))
	}
}

func TestVendorRates(t *testing.T) {
	vts := []VendorThreshold{
		{Vendor: "A", Threshold: 80},
		{Vendor: "B", Threshold: 80, Strict: true},
	}
	scores := []float64{80, 79.99, 95, 80, 10}
	same := []bool{true, true, true, false, false}
	got := VendorRates(vts, scores, same)
	if g := got[0]; g.GenuineAccepted != 2 || g.Genuine != 3 || g.ImpostorAccepted != 1 || g.Impostor != 2 || g.FAR != 0.5 {
		t.Errorf("≥ 80: %+v", g)
	}
	if g := got[1]; g.GenuineAccepted != 1 || g.ImpostorAccepted != 0 || g.FAR != 0 {
		t.Errorf("> 80: %+v", g)
	}
}
