package layout

import (
	"image"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/facekit/facekit/engine"
)

// realFace is dlib's 68-point output for a frontal photo
// (shared testdata faces/chaeyeon2.jpg), so the tests see a real shape.
var realFace = []image.Point{
	{380, 532}, {369, 599}, {366, 663}, {371, 726}, {388, 786}, {416, 838}, {457, 879}, {507, 908}, {572, 924},
	{645, 925}, {713, 907}, {772, 870}, {814, 817}, {841, 751}, {859, 683}, {876, 614}, {884, 545},
	{417, 457}, {450, 429}, {496, 427}, {541, 433}, {586, 450}, {649, 454}, {703, 437}, {759, 436}, {812, 450}, {847, 488},
	{614, 509}, {609, 556}, {605, 603}, {600, 651}, {548, 686}, {572, 695}, {598, 702}, {628, 698}, {658, 693},
	{450, 517}, {478, 499}, {512, 502}, {543, 529}, {508, 533}, {474, 531},
	{693, 534}, {726, 509}, {762, 511}, {793, 531}, {762, 543}, {725, 543},
	{495, 759}, {538, 750}, {574, 745}, {596, 752}, {620, 748}, {658, 759}, {703, 774}, {653, 781}, {614, 780},
	{589, 777}, {566, 773}, {534, 768}, {506, 758}, {571, 762}, {594, 768}, {619, 768}, {690, 772}, {616, 762},
	{591, 762}, {568, 756},
}

// rotated returns the face turned by deg degrees clockwise about (cx, cy).
func rotated(pts []image.Point, deg, cx, cy float64) []image.Point {
	s, c := math.Sincos(deg * math.Pi / 180)
	out := make([]image.Point, len(pts))
	for i, p := range pts {
		dx, dy := float64(p.X)-cx, float64(p.Y)-cy
		out[i] = image.Pt(int(math.Round(cx+c*dx-s*dy)), int(math.Round(cy+s*dx+c*dy)))
	}
	return out
}

func pf(p image.Point) engine.PointF { return engine.PointF{X: float64(p.X), Y: float64(p.Y)} }

func near(a, b engine.PointF) bool { return math.Hypot(a.X-b.X, a.Y-b.Y) < 1e-9 }

// box is the bounding box of the 68 points, where every derived point must
// fall: all of them lie on lines between dlib points, or just below the
// brows.
func box(l68 []image.Point) (minX, minY, maxX, maxY float64) {
	minX, minY = math.Inf(1), math.Inf(1)
	maxX, maxY = math.Inf(-1), math.Inf(-1)
	for _, p := range l68 {
		minX, maxX = math.Min(minX, float64(p.X)), math.Max(maxX, float64(p.X))
		minY, maxY = math.Min(minY, float64(p.Y)), math.Max(maxY, float64(p.Y))
	}
	return
}

func TestLayoutsCountsAndBounds(t *testing.T) {
	faces := map[string][]image.Point{
		"Frontal":       realFace,
		"Tilted30":      rotated(realFace, 30, 600, 700),
		"UpsideDown":    rotated(realFace, 180, 600, 700),
		"TinyFace":      scaled(realFace, 0.05),
		"AllOnOnePoint": make([]image.Point, 68),
	}
	for name, l68 := range faces {
		t.Run(name, func(t *testing.T) {
			l4, l72, l150 := Landmark4(l68), Landmark72(l68), Landmark150(l68)
			if len(l4) != 4 || len(l72) != 72 || len(l150) != 150 {
				t.Fatalf("got %d/%d/%d points, want 4/72/150", len(l4), len(l72), len(l150))
			}
			minX, minY, maxX, maxY := box(l68)
			check := func(what string, p engine.PointF) {
				const eps = 1e-6
				if math.IsNaN(p.X) || math.IsNaN(p.Y) || p.X < minX-eps || p.X > maxX+eps || p.Y < minY-eps || p.Y > maxY+eps {
					t.Errorf("%s = (%.1f, %.1f) outside the face box (%.0f,%.0f)-(%.0f,%.0f)", what, p.X, p.Y, minX, minY, maxX, maxY)
				}
			}
			for i, p := range l4 {
				check("landmark4["+string(rune('0'+i))+"]", p)
			}
			for _, p := range l72 {
				check("landmark72 point", p)
			}
			for _, p := range l150 {
				check(p.Name, p.PointF)
			}
		})
	}
}

func scaled(pts []image.Point, f float64) []image.Point {
	out := make([]image.Point, len(pts))
	for i, p := range pts {
		out[i] = image.Pt(int(math.Round(float64(p.X)*f)), int(math.Round(float64(p.Y)*f)))
	}
	return out
}

func TestLayoutsRejectWrongLength(t *testing.T) {
	for _, n := range []int{0, 5, 67, 69} {
		pts := make([]image.Point, n)
		if Landmark4(pts) != nil || Landmark72(pts) != nil || Landmark150(pts) != nil {
			t.Errorf("%d points: got a layout, want nil", n)
		}
	}
}

func TestLandmark4(t *testing.T) {
	got := Landmark4(realFace)
	mean := func(idx ...int) engine.PointF {
		var m engine.PointF
		for _, i := range idx {
			m.X += float64(realFace[i].X) / float64(len(idx))
			m.Y += float64(realFace[i].Y) / float64(len(idx))
		}
		return m
	}
	want := []engine.PointF{
		mean(36, 37, 38, 39, 40, 41), mean(42, 43, 44, 45, 46, 47),
		pf(realFace[30]), mean(48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59),
	}
	for i := range want {
		if math.Hypot(got[i].X-want[i].X, got[i].Y-want[i].Y) > 1e-9 {
			t.Errorf("point %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	if got[0].X >= got[1].X {
		t.Errorf("left eye x %.1f is not left of right eye x %.1f", got[0].X, got[1].X)
	}
}

func TestLandmark72Anchors(t *testing.T) {
	l := Landmark72(realFace)
	// Points that must coincide with dlib points: the ends of each
	// resampled line.
	anchors := []struct {
		name string
		i72  int
		i68  int
	}{
		{"ContourStart", 0, 0}, {"ContourEnd", 12, 16},
		{"LeftEyeLeftCorner", 13, 36}, {"LeftEyeRightCorner", 17, 39},
		{"RightEyeLeftCorner", 30, 42}, {"RightEyeRightCorner", 34, 45},
		{"NoseBridgeTop", 47, 27}, {"NoseTip", 50, 30},
		{"NoseBaseLeft", 51, 31}, {"NoseBaseRight", 57, 35},
		{"MouthOuterLeft", 58, 48}, {"MouthOuterRight", 62, 54},
		{"MouthInnerLeft", 66, 60}, {"MouthInnerRight", 69, 64},
	}
	for _, a := range anchors {
		t.Run(a.name, func(t *testing.T) {
			if !near(l[a.i72], pf(realFace[a.i68])) {
				t.Errorf("landmark72[%d] = %+v, want dlib %d %v", a.i72, l[a.i72], a.i68, realFace[a.i68])
			}
		})
	}
	t.Run("ContourMiddleNearChin", func(t *testing.T) {
		if d := math.Hypot(l[6].X-float64(realFace[8].X), l[6].Y-float64(realFace[8].Y)); d > 40 {
			t.Errorf("landmark72[6] is %.0f px from the chin (dlib 8)", d)
		}
	})
	t.Run("ContourEvenlySpaced", func(t *testing.T) {
		var steps []float64
		for i := 1; i <= 12; i++ {
			steps = append(steps, math.Hypot(l[i].X-l[i-1].X, l[i].Y-l[i-1].Y))
		}
		for _, s := range steps {
			// Chords of equal arcs are at most a little shorter than
			// the arc step.
			if s < 0.9*steps[0] || s > 1.1*steps[0] {
				t.Errorf("contour steps %v are uneven", steps)
				break
			}
		}
	})
	t.Run("BrowLowerEdgeTowardsEye", func(t *testing.T) {
		// Left brow upper middle (24) is above its lower middle (28),
		// which is above the left eye's upper lid (15).
		if !(l[24].Y < l[28].Y && l[28].Y < l[15].Y) {
			t.Errorf("brow upper %.1f, brow lower %.1f, eyelid %.1f: want increasing y", l[24].Y, l[28].Y, l[15].Y)
		}
	})
	t.Run("EyeCentres", func(t *testing.T) {
		l4 := Landmark4(realFace)
		if !near(l[21], l4[0]) || !near(l[38], l4[1]) {
			t.Errorf("eye centres %+v %+v differ from Landmark4's %+v %+v", l[21], l[38], l4[0], l4[1])
		}
	})
}

func TestLandmark150Names(t *testing.T) {
	l := Landmark150(realFace)
	seen := map[string]bool{}
	groups := map[string]int{}
	for _, p := range l {
		if seen[p.Name] {
			t.Errorf("duplicate name %q", p.Name)
		}
		seen[p.Name] = true
		groups[strings.SplitN(p.Name, "_", 2)[0]]++
	}
	want := map[string]int{"cheek": 22, "chin": 3, "eye": 34, "eyebrow": 24, "nose": 19, "mouth": 48}
	if !reflect.DeepEqual(groups, want) {
		t.Errorf("group sizes %v, want %v", groups, want)
	}
	byName := map[string]engine.PointF{}
	for _, p := range l {
		byName[p.Name] = p.PointF
	}
	anchors := map[string]int{
		"cheek_left_1": 0, "cheek_right_1": 16,
		"eye_left_corner_left": 36, "eye_left_corner_right": 39,
		"eye_right_corner_left": 42, "eye_right_corner_right": 45,
		"nose_bridge_1": 27, "nose_tip": 30,
		"nose_left_contour_1": 31, "nose_right_contour_6": 35,
		"mouth_corner_left_outer": 48, "mouth_corner_right_outer": 54,
		"mouth_corner_left_inner": 60, "mouth_corner_right_inner": 64,
	}
	for name, i := range anchors {
		if !near(byName[name], pf(realFace[i])) {
			t.Errorf("%s = %+v, want dlib %d %v", name, byName[name], i, realFace[i])
		}
	}
	// Numbered lines run left to right.
	for _, prefix := range []string{"eye_left_eyelid_upper_", "eyebrow_right_lower_", "mouth_lip_lower_inner_"} {
		if byName[prefix+"1"].X >= byName[prefix+"5"].X {
			t.Errorf("%s1 is not left of %s5", prefix, prefix)
		}
	}
	// Cheeks run top down on both sides.
	if byName["cheek_left_1"].Y >= byName["cheek_left_11"].Y || byName["cheek_right_1"].Y >= byName["cheek_right_11"].Y {
		t.Error("cheek points do not run top down")
	}
}

func TestLayoutsAreDeterministic(t *testing.T) {
	if !reflect.DeepEqual(Landmark72(realFace), Landmark72(realFace)) {
		t.Error("Landmark72 differs between calls")
	}
	a, b := Landmark150(realFace), Landmark150(realFace)
	if !reflect.DeepEqual(a, b) {
		t.Error("Landmark150 differs between calls")
	}
}

func TestLayoutsFollowRotation(t *testing.T) {
	// Turning the face turns every derived point with it, including the
	// brows' lower edges, which are built from the face's own down
	// direction.
	const cx, cy = 600.0, 700.0
	turned := rotated(realFace, 90, cx, cy)
	a, b := Landmark72(realFace), Landmark72(turned)
	for i := range a {
		// Rotate a[i] by 90° clockwise: (x, y) -> (cx-(y-cy), cy+(x-cx)).
		want := engine.PointF{X: cx - (a[i].Y - cy), Y: cy + (a[i].X - cx)}
		if math.Hypot(b[i].X-want.X, b[i].Y-want.Y) > 1.5 {
			t.Errorf("point %d of the turned face = %+v, want %+v", i, b[i], want)
		}
	}
}

func TestResample(t *testing.T) {
	line := []engine.PointF{{X: 0, Y: 0}, {X: 10, Y: 0}, {X: 10, Y: 30}}
	tests := []struct {
		name string
		poly []engine.PointF
		n    int
		want []engine.PointF
	}{
		{"EvenByArcLength", line, 5, []engine.PointF{{X: 0, Y: 0}, {X: 10, Y: 0}, {X: 10, Y: 10}, {X: 10, Y: 20}, {X: 10, Y: 30}}},
		{"TwoPointsAreTheEnds", line, 2, []engine.PointF{{X: 0, Y: 0}, {X: 10, Y: 30}}},
		{"ZeroLength", []engine.PointF{{X: 3, Y: 4}, {X: 3, Y: 4}}, 3, []engine.PointF{{X: 3, Y: 4}, {X: 3, Y: 4}, {X: 3, Y: 4}}},
		{"RepeatedVertex", []engine.PointF{{X: 0, Y: 0}, {X: 0, Y: 0}, {X: 4, Y: 0}}, 3, []engine.PointF{{X: 0, Y: 0}, {X: 2, Y: 0}, {X: 4, Y: 0}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := resample(tt.poly, tt.n)
			for i := range tt.want {
				if !near(got[i], tt.want[i]) {
					t.Fatalf("resample = %v, want %v", got, tt.want)
				}
			}
		})
	}
}

// distToPolygon returns the distance from p to the closed polygon through
// the dlib points idx.
func distToPolygon(p engine.PointF, l68 []image.Point, idx ...int) float64 {
	best := math.Inf(1)
	for k := range idx {
		a, b := pf(l68[idx[k]]), pf(l68[idx[(k+1)%len(idx)]])
		d := sub(b, a)
		t := 0.0
		if l2 := d.X*d.X + d.Y*d.Y; l2 > 0 {
			t = math.Max(0, math.Min(1, ((p.X-a.X)*d.X+(p.Y-a.Y)*d.Y)/l2))
		}
		q := lerp(a, b, t)
		best = math.Min(best, math.Hypot(p.X-q.X, p.Y-q.Y))
	}
	return best
}

func TestLandmark72PointsLieOnDlibOutlines(t *testing.T) {
	l := Landmark72(realFace)
	outlines := []struct {
		name     string
		from, to int // landmark72 range
		dlib     []int
	}{
		{"Contour", 0, 12, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}},
		{"LeftEye", 13, 20, []int{36, 37, 38, 39, 40, 41}},
		{"RightEye", 30, 37, []int{42, 43, 44, 45, 46, 47}},
		{"NoseBridge", 47, 50, []int{27, 28, 29, 30}},
		{"NoseBase", 51, 57, []int{31, 32, 33, 34, 35}},
		{"OuterLips", 58, 65, []int{48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59}},
		{"InnerLips", 66, 71, []int{60, 61, 62, 63, 64, 65, 66, 67}},
		{"LeftBrowUpperEdge", 23, 25, []int{17, 18, 19, 20, 21}},
		{"RightBrowUpperEdge", 40, 42, []int{22, 23, 24, 25, 26}},
	}
	for _, o := range outlines {
		t.Run(o.name, func(t *testing.T) {
			for i := o.from; i <= o.to; i++ {
				if d := distToPolygon(l[i], realFace, o.dlib...); d > 1e-6 {
					t.Errorf("landmark72[%d] is %.1f px off the dlib outline", i, d)
				}
			}
		})
	}
	t.Run("LowerLidsBelowUpperLids", func(t *testing.T) {
		// 14–16 upper lid left to right, 18–20 lower lid right to left.
		for k := 0; k < 3; k++ {
			up, low := l[14+k], l[20-k]
			if low.Y <= up.Y || math.Abs(low.X-up.X) > 10 {
				t.Errorf("upper lid %+v and lower lid %+v are not stacked", up, low)
			}
		}
	})
}
