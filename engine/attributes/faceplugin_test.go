package attributes

import (
	"context"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/facekit/facekit/engine/imageio"
	"github.com/facekit/facekit/engine/ocvdnn"
	"github.com/facekit/facekit/quality/facegeom"
	"golang.org/x/image/draw"
)

// expressionLabels are the test photos' expressions labelled by eye (the
// label column of docs/quality.md).
var expressionLabels = map[string]string{
	"bona.jpg": "laugh", "bona2.jpg": "none", "bona3.jpg": "smile", "bona4.jpg": "none", "chaeyeon.jpg": "smile",
	"chaeyeon2.jpg": "none", "chaeyeon3.jpg": "none", "chaeyoung.jpg": "none", "chaeyoung2.jpg": "smile",
	"elkie.jpg": "none", "eunseo2.jpg": "none", "eunseo3.jpg": "none", "eunwoo.jpg": "none", "jimin.jpg": "laugh",
	"jimin2.jpg": "smile", "jimin4.jpg": "none", "jimin5.jpg": "none", "jimin6.jpg": "none", "jimin7.jpg": "none",
	"joy.jpg": "none", "luda.jpg": "none", "luda2.jpg": "laugh", "meiqi.jpg": "smile", "nana.jpg": "smile",
	"nayoung.jpg": "laugh", "rena.jpg": "smile", "sejeong.jpg": "laugh", "seulgi.jpg": "laugh", "tzuyu.jpg": "smile",
	"tzuyu2.jpg": "laugh", "yujin.jpg": "smile",
}

func facepluginNet(tb testing.TB, file string, input []int) *ocvdnn.Model {
	tb.Helper()
	p := filepath.Join(testenvModelDir(tb), "faceplugin", file)
	if _, err := os.Stat(p); err != nil {
		tb.Skipf("%s not provisioned", p)
	}
	m, err := ocvdnn.Open(ocvdnn.Config{Path: p, Input: input, Instances: 1})
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

// planar resizes region r of img to side×side and returns it planar,
// channels in the order given (0 = R, 1 = G, 2 = B, -1 = BT.601 grey),
// each value times scale.
func planar(img *imageio.Image, r image.Rectangle, side int, order []int, scale float32) ([]float32, *image.RGBA) {
	dst := image.NewRGBA(image.Rect(0, 0, side, side))
	draw.BiLinear.Scale(dst, dst.Bounds(), img, r, draw.Src, nil)
	n := side * side
	out := make([]float32, len(order)*n)
	for i := 0; i < n; i++ {
		p := dst.Pix[4*i:]
		for c, k := range order {
			if k < 0 {
				out[c*n+i] = float32(math.Round(0.299*float64(p[0])+0.587*float64(p[1])+0.114*float64(p[2]))) * scale
			} else {
				out[c*n+i] = float32(p[k]) * scale
			}
		}
	}
	return out, dst
}

func softmax(x []float32) []float64 {
	m := math.Inf(-1)
	for _, v := range x {
		m = math.Max(m, float64(v))
	}
	out := make([]float64, len(x))
	var s float64
	for i, v := range x {
		out[i] = math.Exp(float64(v) - m)
		s += out[i]
	}
	for i := range out {
		out[i] /= s
	}
	return out
}

// TestFRExpressionAgainstGeometry measures faceplugin's fr_expression net
// (224×224 RGB 0..1 from the face box widened 1.2× to the right and down,
// as lib/fr_expression.js cuts it; 7 classes whose names the package does
// not give) against the landmark geometry's smile evidence, on the test
// photos labelled by eye: smiling (smile or laugh) against none. It logs
// the AUC of every class's probability; docs/faceplugin.md records the
// outcome. The geometry's constants were chosen on these photos, so its
// figure is in-sample.
func TestFRExpressionAgainstGeometry(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a network on the test photos")
	}
	m := facepluginNet(t, "fr_expression.onnx", []int{1, 3, 224, 224})
	defer m.Close()
	var geoPos, geoNeg []float64
	var netPos, netNeg [7][]float64
	for _, p := range testPhotos(t) {
		label, ok := expressionLabels[p.name]
		if !ok {
			continue
		}
		mm, err := facegeom.MeasureMouth(p.face.Landmarks)
		if err != nil {
			t.Fatal(err)
		}
		z := (mm.Width-0.85)/0.10 + (mm.CornerLift-0.065)/0.02
		b := p.face.Rect
		r := image.Rect(b.Min.X, b.Min.Y, b.Min.X+b.Dx()*12/10, b.Min.Y+b.Dy()*12/10).Intersect(p.img.Bounds())
		in, _ := planar(p.img, r, 224, []int{0, 1, 2}, 1.0/255)
		out, err := m.Run(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		if len(out) != 7 {
			t.Fatalf("%d outputs, want 7", len(out))
		}
		pr := softmax(out)
		smiling := label != "none"
		if smiling {
			geoPos = append(geoPos, z)
		} else {
			geoNeg = append(geoNeg, z)
		}
		for k := range pr {
			if smiling {
				netPos[k] = append(netPos[k], pr[k])
			} else {
				netNeg[k] = append(netNeg[k], pr[k])
			}
		}
	}
	if len(geoPos) == 0 || len(geoNeg) == 0 {
		t.Skip("no labelled photos detected")
	}
	t.Logf("smiling %d, none %d photos; geometry smile evidence AUC %.3f (in-sample)", len(geoPos), len(geoNeg), aucOf(geoPos, geoNeg))
	best := 0.0
	for k := range netPos {
		a := aucOf(netPos[k], netNeg[k])
		best = math.Max(best, a)
		t.Logf("fr_expression P(class %d) AUC %.3f", k, a)
	}
	// The net is not adopted because its best class does not beat the
	// geometry here; if that changes, docs/faceplugin.md must be revisited.
	if geo := aucOf(geoPos, geoNeg); best > geo {
		t.Errorf("fr_expression (best class AUC %.3f) now beats the geometry (%.3f): revisit docs/faceplugin.md", best, geo)
	}
}

// eyeBox is lib/fr_eye.js's eye square: centred on the mean of the four
// lid points, side 1.6 times the corner-to-corner width.
func eyeBox(lm []image.Point, first int) image.Rectangle {
	var cx, cy int
	for _, i := range []int{first + 1, first + 2, first + 4, first + 5} {
		cx += lm[i].X
		cy += lm[i].Y
	}
	cx, cy = cx/4, cy/4
	s := int(float64(lm[first+3].X-lm[first].X) * 1.6)
	return image.Rect(cx-s/2, cy-s/2, cx-s/2+s, cy-s/2+s)
}

// eyeClosed are the eyes of the test photos seen closed on the contact
// sheet this test writes with FACEKIT_EYE_SHEET=FILE.png (every eye of the
// test photos, 96 px, looked at one by one): photo name and, per eye,
// whether it is closed; [0] is the image-left eye (landmarks 36–41), [1]
// the image-right one. Every other eye is open. jimin2 (both) and bona's
// image-left eye are shut; seulgi's are a laughing squint with the lids
// nearly together over the iris, counted as closed.
var eyeClosed = map[string][2]bool{
	"jimin2.jpg": {true, true},
	"bona.jpg":   {true, false},
	"seulgi.jpg": {true, true},
}

// TestFREyeAgainstGeometry measures faceplugin's fr_eye net (24×24 grey
// 0..1) against the eye aspect ratio on the test photos' eyes labelled by
// eye. It logs the AUCs (closed above open) for the record in
// docs/faceplugin.md.
func TestFREyeAgainstGeometry(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a network on the test photos")
	}
	m := facepluginNet(t, "fr_eye.onnx", []int{1, 1, 24, 24})
	defer m.Close()
	type eye struct {
		name   string
		side   int
		ear    float64
		p0     float64
		closed bool
		crop   *image.RGBA
	}
	var eyes []eye
	for _, p := range testPhotos(t) {
		l, r, err := facegeom.EyeAspectRatios(p.face.Landmarks)
		if err != nil {
			t.Fatal(err)
		}
		for side, first := range []int{36, 42} {
			in, crop := planar(p.img, eyeBox(p.face.Landmarks, first).Intersect(p.img.Bounds()), 24, []int{-1}, 1.0/255)
			out, err := m.Run(context.Background(), in)
			if err != nil {
				t.Fatal(err)
			}
			if len(out) != 2 {
				t.Fatalf("%d outputs, want 2", len(out))
			}
			ear := l
			if side == 1 {
				ear = r
			}
			big := image.NewRGBA(image.Rect(0, 0, 96, 96))
			draw.BiLinear.Scale(big, big.Bounds(), p.img, eyeBox(p.face.Landmarks, first).Inset(-eyeBox(p.face.Landmarks, first).Dx()/4), draw.Src, nil)
			_ = crop
			eyes = append(eyes, eye{p.name, side, ear, softmax(out)[0], eyeClosed[p.name][side], big})
		}
	}
	if path := os.Getenv("FACEKIT_EYE_SHEET"); path != "" {
		sort.Slice(eyes, func(i, j int) bool { return eyes[i].ear < eyes[j].ear })
		const cols = 8
		sheet := image.NewRGBA(image.Rect(0, 0, cols*100, (len(eyes)+cols-1)/cols*100))
		draw.Draw(sheet, sheet.Bounds(), image.NewUniform(color.White), image.Point{}, draw.Src)
		for i, e := range eyes {
			at := image.Pt(i%cols*100+2, i/cols*100+2)
			draw.Draw(sheet, image.Rectangle{at, at.Add(image.Pt(96, 96))}, e.crop, image.Point{}, draw.Src)
			t.Logf("sheet %2d: %s eye %d EAR %.2f fr_eye P0 %.3f", i, e.name, e.side, e.ear, e.p0)
		}
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if err := png.Encode(f, sheet); err != nil {
			t.Fatal(err)
		}
	}
	var earC, earO, netC, netO []float64
	for _, e := range eyes {
		if e.closed {
			earC, netC = append(earC, -e.ear), append(netC, e.p0)
		} else {
			earO, netO = append(earO, -e.ear), append(netO, e.p0)
		}
	}
	if len(earC) == 0 {
		t.Logf("no eye labelled closed: nothing to measure (%d open eyes)", len(earO))
		return
	}
	geo, net := aucOf(earC, earO), aucOf(netC, netO)
	t.Logf("%d closed, %d open eyes: AUC closed above open: −EAR %.3f, fr_eye P(class 0) %.3f", len(earC), len(earO), geo, net)
	// The net is not adopted because it does not beat the geometry here;
	// if that changes, the decision in docs/faceplugin.md must be revisited.
	if net > geo {
		t.Errorf("fr_eye (AUC %.3f) now beats the eye aspect ratio (%.3f): revisit docs/faceplugin.md", net, geo)
	}
}
