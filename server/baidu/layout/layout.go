// Package layout derives the vendor landmark layouts (4, 72 and 150 points)
// from dlib's 68 iBUG landmarks. No extra model runs: every point is a dlib
// point, a point on a straight-line polyline through dlib points (resampled
// evenly by arc length), or a mean of dlib points. The only geometry dlib
// does not mark is the lower edge of each eyebrow; it is the dlib brow line
// (which follows the upper edge) moved towards the eyes by a tenth of the
// distance between the outer eye corners, a typical brow thickness.
//
// Conventions for every layout:
//
//   - "left" and "right" are as seen in the image: the left eye is the one
//     nearer x = 0. Baidu's own sample response agrees (its landmark[0],
//     the left eye centre, lies in the left quarter of the face box).
//   - Open lines (jaw, lips, eyelids, brow edges) are numbered from the
//     image's left to its right; cheeks from the top down.
//   - Closed outlines (an eye or brow in Landmark72) start at their left end,
//     run along the upper edge to the right end and come back along the
//     lower edge, i.e. clockwise in the image.
//
// Landmark72 follows the group sizes of Baidu's 72-point layout: contour 13
// (0–12), left eye 8 + centre (13–21), left brow 8 (22–29), right eye 8 +
// centre (30–38), right brow 8 (39–46), nose 11 (47–57), mouth 14 (58–71).
// The positions within each group are facekit's resampling, described on
// Landmark72. Landmark150's names follow the style of Baidu's landmark150
// but the set is facekit's own design (Baidu's documentation that ships with
// this project lists no names); see Landmark150.
//
// All functions are pure and safe for concurrent use.
package layout

import (
	"image"
	"math"
	"strconv"

	"github.com/facekit/facekit/engine"
)

// NamedPoint is one point of the 150-point layout.
type NamedPoint struct {
	Name string
	engine.PointF
}

// browThickness is the assumed eyebrow thickness as a fraction of the
// distance between the outer eye corners (about 9 mm of 90 mm).
const browThickness = 0.1

// face holds the 68 points as floats plus the face's own "down" direction,
// so that derived offsets follow the face when it is tilted.
type face struct {
	p    [68]engine.PointF
	down engine.PointF // unit vector from the brows towards the eyes
	span float64       // distance between the outer eye corners
}

func newFace(l68 []image.Point) (*face, bool) {
	if len(l68) != 68 {
		return nil, false
	}
	f := &face{}
	for i, q := range l68 {
		f.p[i] = engine.PointF{X: float64(q.X), Y: float64(q.Y)}
	}
	// The eye line runs left to right; turning it 90° clockwise (y points
	// down) gives the face's down direction.
	e := sub(f.p[45], f.p[36])
	f.span = math.Hypot(e.X, e.Y)
	if f.span > 0 {
		f.down = engine.PointF{X: -e.Y / f.span, Y: e.X / f.span}
	} else {
		f.down = engine.PointF{X: 0, Y: 1}
	}
	return f, true
}

// pts returns the points with the given dlib indices, in order.
func (f *face) pts(idx ...int) []engine.PointF {
	out := make([]engine.PointF, len(idx))
	for k, i := range idx {
		out[k] = f.p[i]
	}
	return out
}

// span68 returns dlib points from..to inclusive.
func (f *face) span68(from, to int) []engine.PointF {
	return append([]engine.PointF(nil), f.p[from:to+1]...)
}

func (f *face) mean(idx ...int) engine.PointF {
	var m engine.PointF
	for _, i := range idx {
		m.X += f.p[i].X / float64(len(idx))
		m.Y += f.p[i].Y / float64(len(idx))
	}
	return m
}

// brow returns the upper edge (the dlib line) and the lower edge of the brow
// whose dlib points are from..to, both left to right.
func (f *face) brow(from, to int) (upper, lower []engine.PointF) {
	upper = f.span68(from, to)
	off := scale(f.down, browThickness*f.span)
	lower = make([]engine.PointF, len(upper))
	for i, q := range upper {
		lower[i] = add(q, off)
	}
	return upper, lower
}

// eye returns the upper and lower lids (left corner to right corner) of the
// eye whose six dlib points start at first (36 or 42). dlib runs each eye
// from its left corner along the upper lid and back along the lower lid.
func (f *face) eye(first int) (upper, lower []engine.PointF) {
	upper = f.pts(first, first+1, first+2, first+3)
	lower = f.pts(first, first+5, first+4, first+3)
	return upper, lower
}

// Landmark4 returns Baidu's four key points: left eye centre, right eye
// centre, nose tip and mouth centre ("left" as seen in the image). Eye
// centres are the means of dlib's six eye points, the nose tip is dlib point
// 30 and the mouth centre the mean of the twelve outer lip points. It returns
// nil unless l68 has 68 points.
func Landmark4(l68 []image.Point) []engine.PointF {
	f, ok := newFace(l68)
	if !ok {
		return nil
	}
	return []engine.PointF{
		f.mean(36, 37, 38, 39, 40, 41),
		f.mean(42, 43, 44, 45, 46, 47),
		f.p[30],
		f.mean(48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59),
	}
}

// Landmark72 returns the 72-point layout, or nil unless l68 has 68 points:
//
//	0–12   contour: the jaw line 0–16 resampled to 13 points (0 = dlib 0,
//	       12 = dlib 16)
//	13–20  left eye: left corner, 3 points along the upper lid, right
//	       corner, 3 points back along the lower lid
//	21     left eye centre (mean of its six dlib points)
//	22–29  left brow: left end, 3 points along the upper edge, right end,
//	       3 points back along the lower edge; the ends sit halfway between
//	       the edges
//	30–38  right eye, as 13–21
//	39–46  right brow, as 22–29
//	47–50  nose bridge: dlib 27 to the tip (dlib 30) resampled to 4 points
//	51–57  nose base: dlib 31 to 35 resampled to 7 points
//	58–65  outer lips: left corner, 3 along the upper lip, right corner, 3
//	       back along the lower lip
//	66–71  inner lips: left corner, 2 along the upper lip, right corner, 2
//	       back along the lower lip
//
// The interior points of a line lie at equal arc-length steps between its
// end points.
func Landmark72(l68 []image.Point) []engine.PointF {
	f, ok := newFace(l68)
	if !ok {
		return nil
	}
	out := make([]engine.PointF, 0, 72)
	out = append(out, resample(f.span68(0, 16), 13)...)
	closed := func(upper, lower []engine.PointF, n int) []engine.PointF {
		c := []engine.PointF{upper[0]}
		c = append(c, interior(upper, n)...)
		c = append(c, upper[len(upper)-1])
		return append(c, reverse(interior(lower, n))...)
	}
	eye := func(first int) []engine.PointF {
		up, low := f.eye(first)
		return append(closed(up, low, 3), f.mean(first, first+1, first+2, first+3, first+4, first+5))
	}
	brow := func(from, to int) []engine.PointF {
		up, low := f.brow(from, to)
		c := closed(up, low, 3)
		// The ends of a brow are halfway between its edges.
		c[0] = mid(up[0], low[0])
		c[4] = mid(up[len(up)-1], low[len(low)-1])
		return c
	}
	out = append(out, eye(36)...)
	out = append(out, brow(17, 21)...)
	out = append(out, eye(42)...)
	out = append(out, brow(22, 26)...)
	out = append(out, resample(f.span68(27, 30), 4)...)
	out = append(out, resample(f.span68(31, 35), 7)...)
	outerUp, outerLow := f.pts(48, 49, 50, 51, 52, 53, 54), f.pts(48, 59, 58, 57, 56, 55, 54)
	out = append(out, closed(outerUp, outerLow, 3)...)
	innerUp, innerLow := f.pts(60, 61, 62, 63, 64), f.pts(60, 67, 66, 65, 64)
	out = append(out, closed(innerUp, innerLow, 2)...)
	return out
}

// Landmark150 returns the 150-point layout as named points in a fixed
// order, or nil unless l68 has 68 points. X is "left" or "right" as seen in
// the image; numbered points run left to right along lines and top to
// bottom along the cheeks.
//
//	cheek_left_1..11, chin_1..3, cheek_right_1..11 (25): the jaw line
//	    resampled to 25 points; cheek_left_1 = dlib 0, chin_2 the middle of
//	    the jaw line, cheek_right_1 = dlib 16
//	eye_X_corner_left, eye_X_corner_right, eye_X_eyelid_upper_1..7,
//	eye_X_eyelid_lower_1..7, eye_X_eyeball_center (17 per eye): lids at
//	    eighths of their length; the centre is the mean of the six dlib
//	    points
//	eyebrow_X_corner_left, eyebrow_X_corner_right, eyebrow_X_upper_1..5,
//	eyebrow_X_lower_1..5 (12 per brow): edges at sixths of their length;
//	    corners halfway between the edges
//	nose_bridge_1..5, nose_tip, nose_left_contour_1..6,
//	nose_middle_contour, nose_right_contour_1..6 (19): bridge from dlib 27
//	    towards the tip at fifths; the base line 31–35 resampled to 13
//	    points, the middle one being nose_middle_contour
//	mouth_corner_left_outer, mouth_corner_right_outer,
//	mouth_corner_left_inner, mouth_corner_right_inner,
//	mouth_lip_upper_outer_1..11, mouth_lip_lower_outer_1..11,
//	mouth_lip_upper_inner_1..11, mouth_lip_lower_inner_1..11 (48): lip
//	    lines at twelfths of their length between the corners
func Landmark150(l68 []image.Point) []NamedPoint {
	f, ok := newFace(l68)
	if !ok {
		return nil
	}
	out := make([]NamedPoint, 0, 150)
	add1 := func(name string, q engine.PointF) { out = append(out, NamedPoint{name, q}) }
	addN := func(prefix string, qs []engine.PointF) {
		for i, q := range qs {
			add1(prefix+strconv.Itoa(i+1), q)
		}
	}

	jaw := resample(f.span68(0, 16), 25)
	addN("cheek_left_", jaw[0:11])
	addN("chin_", jaw[11:14])
	addN("cheek_right_", reverse(jaw[14:25]))

	for _, e := range []struct {
		side  string
		first int
	}{{"left", 36}, {"right", 42}} {
		up, low := f.eye(e.first)
		p := "eye_" + e.side + "_"
		add1(p+"corner_left", up[0])
		add1(p+"corner_right", up[len(up)-1])
		addN(p+"eyelid_upper_", interior(up, 7))
		addN(p+"eyelid_lower_", interior(low, 7))
		add1(p+"eyeball_center", f.mean(e.first, e.first+1, e.first+2, e.first+3, e.first+4, e.first+5))
	}
	for _, b := range []struct {
		side     string
		from, to int
	}{{"left", 17, 21}, {"right", 22, 26}} {
		up, low := f.brow(b.from, b.to)
		p := "eyebrow_" + b.side + "_"
		add1(p+"corner_left", mid(up[0], low[0]))
		add1(p+"corner_right", mid(up[len(up)-1], low[len(low)-1]))
		addN(p+"upper_", interior(up, 5))
		addN(p+"lower_", interior(low, 5))
	}

	addN("nose_bridge_", resample(f.span68(27, 30), 6)[:5])
	add1("nose_tip", f.p[30])
	base := resample(f.span68(31, 35), 13)
	addN("nose_left_contour_", base[0:6])
	add1("nose_middle_contour", base[6])
	addN("nose_right_contour_", base[7:13])

	add1("mouth_corner_left_outer", f.p[48])
	add1("mouth_corner_right_outer", f.p[54])
	add1("mouth_corner_left_inner", f.p[60])
	add1("mouth_corner_right_inner", f.p[64])
	addN("mouth_lip_upper_outer_", interior(f.pts(48, 49, 50, 51, 52, 53, 54), 11))
	addN("mouth_lip_lower_outer_", interior(f.pts(48, 59, 58, 57, 56, 55, 54), 11))
	addN("mouth_lip_upper_inner_", interior(f.pts(60, 61, 62, 63, 64), 11))
	addN("mouth_lip_lower_inner_", interior(f.pts(60, 67, 66, 65, 64), 11))
	return out
}

// resample returns n ≥ 2 points spaced evenly by arc length along the
// polyline, the first and last being its end points. A polyline of zero
// length yields n copies of its first point.
func resample(poly []engine.PointF, n int) []engine.PointF {
	seg := make([]float64, len(poly)) // cumulative length at each vertex
	for i := 1; i < len(poly); i++ {
		d := sub(poly[i], poly[i-1])
		seg[i] = seg[i-1] + math.Hypot(d.X, d.Y)
	}
	total := seg[len(seg)-1]
	out := make([]engine.PointF, n)
	j := 0
	for k := range out {
		target := total * float64(k) / float64(n-1)
		for j < len(poly)-2 && seg[j+1] < target {
			j++
		}
		if total == 0 || len(poly) == 1 {
			out[k] = poly[0]
			continue
		}
		l := seg[j+1] - seg[j]
		t := 0.0
		if l > 0 {
			t = math.Min(1, math.Max(0, (target-seg[j])/l))
		}
		out[k] = lerp(poly[j], poly[j+1], t)
	}
	// Pin the ends exactly; the arithmetic above can be off by an ulp.
	out[0], out[n-1] = poly[0], poly[len(poly)-1]
	return out
}

// interior returns the n points strictly between the ends of the polyline,
// at arc-length fractions 1/(n+1) … n/(n+1).
func interior(poly []engine.PointF, n int) []engine.PointF {
	return resample(poly, n+2)[1 : n+1]
}

func reverse(ps []engine.PointF) []engine.PointF {
	out := make([]engine.PointF, len(ps))
	for i, q := range ps {
		out[len(ps)-1-i] = q
	}
	return out
}

func add(a, b engine.PointF) engine.PointF { return engine.PointF{X: a.X + b.X, Y: a.Y + b.Y} }
func sub(a, b engine.PointF) engine.PointF { return engine.PointF{X: a.X - b.X, Y: a.Y - b.Y} }
func scale(a engine.PointF, s float64) engine.PointF {
	return engine.PointF{X: a.X * s, Y: a.Y * s}
}
func mid(a, b engine.PointF) engine.PointF { return lerp(a, b, 0.5) }
func lerp(a, b engine.PointF, t float64) engine.PointF {
	return engine.PointF{X: a.X + (b.X-a.X)*t, Y: a.Y + (b.Y-a.Y)*t}
}
