package engine

import (
	"errors"
	"fmt"
	"image"
	"math"
)

// Errors returned by EstimatePose.
var (
	// ErrPoseLandmarks means the landmarks are not the 68-point iBUG layout.
	ErrPoseLandmarks = errors.New("engine: pose needs 68 landmarks")
	// ErrPoseDegenerate means the landmarks do not look like a face seen by
	// a camera (all on one point or line, or the solve did not converge to
	// a face in front of the camera).
	ErrPoseDegenerate = errors.New("engine: degenerate landmarks for pose")
)

// EstimatePose returns the head pose of a face from its 68 dlib landmarks in
// a width×height image. It fits a 3D mean face to the landmarks
// (perspective-n-point): a pinhole camera with focal length max(width,
// height) and the principal point at the image centre, initialised by a
// weak-perspective fit and refined by Levenberg–Marquardt on the weighted
// reprojection error of the stable points (brows, nose, eyes, mouth corners
// and chin; the jaw outline is a silhouette that slides over the face as it
// turns, so it is left out). The angles are measured against the line of
// sight from the camera to the face, so a person looking into the lens has
// yaw and pitch near 0 wherever they are in the frame.
//
// Synthetic landmarks of the mean face are recovered within 2°. Real faces
// differ from the mean face, which costs most in pitch: over the 44 faces of
// the shared test photos pitch averages +1° with a standard deviation of 9°
// (part of which is real head pose), and 2,132 LFW faces give a median of
// −2°. Roll follows in-plane rotation to within a few degrees.
//
// Angles are in degrees and follow Baidu's face API ranges:
//
//   - Roll, [-180, 180]: the in-plane rotation of the face in the image,
//     positive clockwise (顺时针). Turning a frontal photo 15° clockwise
//     gives a roll of about +15.
//   - Pitch, [-90, 90]: positive when the person looks down (下), negative
//     when looking up (上).
//   - Yaw, [-90, 90]: positive when the person turns towards their own right
//     (右), which moves the nose towards the image's left; negative when they
//     turn towards their own left (左), nose towards the image's right. This
//     reads Baidu's 左/右 from the person's point of view; it is the
//     positive rotation about the camera's downward y axis.
//
// The rotation is composed as R = Rz(roll)·Ry(yaw)·Rx(pitch) in camera
// coordinates (x right, y down, z forward): the head nods about its own
// ear-to-ear axis, turns about the vertical, and the whole is then tilted in
// the image plane, so roll adds directly to an in-plane rotation.
//
// Returns ErrPoseLandmarks unless len(landmarks) == 68 and the image size is
// positive, and ErrPoseDegenerate when no sensible pose fits.
func EstimatePose(landmarks []image.Point, width, height int) (Pose, error) {
	if len(landmarks) != 68 {
		return Pose{}, fmt.Errorf("%w: got %d", ErrPoseLandmarks, len(landmarks))
	}
	if width <= 0 || height <= 0 {
		return Pose{}, fmt.Errorf("%w: image size %dx%d", ErrPoseLandmarks, width, height)
	}
	cam := poseCamera{f: float64(max(width, height)), cx: float64(width) / 2, cy: float64(height) / 2}
	obs := make([][2]float64, len(poseIndices))
	for k, i := range poseIndices {
		obs[k] = [2]float64{float64(landmarks[i].X), float64(landmarks[i].Y)}
	}
	r, t, err := initialPose(cam, obs)
	if err != nil {
		return Pose{}, err
	}
	st := refinePose(cam, obs, r, t)
	r, t = st.r, st.t
	if t[2] <= 0 || !poseFinite(r[0][0], r[1][1], r[2][2], t[0], t[1], t[2]) {
		return Pose{}, fmt.Errorf("%w: solution behind the camera", ErrPoseDegenerate)
	}
	// Measure the head against the line of sight, not the optical axis: a
	// face near the top of a portrait that looks into the lens is seen
	// from below, and relative to the optical axis it would "look down" by
	// the angle of its ray (about 14° for a face a quarter of the frame
	// above centre).
	return eulerFromRotation(poseMulMat(poseTranspose(lineOfSight(t)), r)), nil
}

// lineOfSight returns the smallest rotation that turns the optical axis
// (0, 0, 1) towards the point t.
func lineOfSight(t poseVec) poseMat {
	d := poseScale(t, 1/poseNorm(t))
	axis := poseCross(poseVec{0, 0, 1}, d)
	sin := poseNorm(axis)
	if sin < 1e-12 {
		return poseMat{{1, 0, 0}, {0, 1, 0}, {0, 0, 1}}
	}
	return poseRodrigues(poseScale(axis, math.Atan2(sin, d[2])/sin))
}

// meanFace68 is a 3D mean face for the 68 iBUG landmarks in millimetres, in
// the camera frame of a frontal face (x towards the image's right, y down, z
// away from the camera); the origin lies between the inner eye corners.
//
// x and y were measured for facekit: the Procrustes mean of dlib's 68
// landmarks on 2,132 LFW images (one per person for every other person),
// averaged with its mirror image so the face is symmetric, levelled on the
// outer eye corners and scaled so they are 90 mm apart. z (depth) comes from
// textbook adult proportions: nose tip 32 mm in front of the inner eye
// corners, outer eye corners 10 mm behind them, brows, lips and chin close
// to the eye plane, the sides of the jaw well behind it.
var meanFace68 = [68][3]float64{
	// 0–16 jaw outline, image-left ear to image-right ear (unused by the
	// solver; kept so the model is complete)
	{-76.9, 1.4, 60.0}, {-76.2, 21.6, 57.5}, {-74.3, 41.8, 50.5}, {-70.6, 61.7, 39.9},
	{-63.3, 80.4, 27.5}, {-51.7, 96.8, 15.1}, {-36.8, 110.5, 4.5}, {-19.7, 121.2, -2.5},
	{0.0, 124.4, -5.0},
	{19.7, 121.2, -2.5}, {36.8, 110.5, 4.5}, {51.7, 96.8, 15.1}, {63.3, 80.4, 27.5},
	{70.6, 61.7, 39.9}, {74.3, 41.8, 50.5}, {76.2, 21.6, 57.5}, {76.9, 1.4, 60.0},
	// 17–21 brow on the image's left, outer to inner; 22–26 mirrored
	{-60.2, -13.9, 15}, {-51.3, -22.6, 5}, {-38.4, -25.6, -3}, {-24.8, -24.1, -8}, {-12.1, -19.0, -10},
	{12.1, -19.0, -10}, {24.8, -24.1, -8}, {38.4, -25.6, -3}, {51.3, -22.6, 5}, {60.2, -13.9, 15},
	// 27–30 nose bridge down to the tip, 31–35 nostrils left to right
	{0.0, -4.1, -10}, {0.0, 8.5, -17}, {0.0, 21.1, -24}, {0.0, 34.1, -32},
	{-15.1, 43.5, -10}, {-7.9, 46.3, -16}, {0.0, 48.7, -19}, {7.9, 46.3, -16}, {15.1, 43.5, -10},
	// 36–41 eye on the image's left (outer corner, upper lid, inner corner,
	// lower lid); 42–47 the other eye from its inner corner
	{-45.0, -1.1, 12}, {-37.1, -5.6, 5}, {-27.8, -5.6, 3}, {-19.6, 0.0, 2}, {-28.4, 1.7, 3}, {-37.5, 1.7, 5},
	{19.6, 0.0, 2}, {27.8, -5.6, 3}, {37.1, -5.6, 5}, {45.0, -1.1, 12}, {37.5, 1.7, 5}, {28.4, 1.7, 3},
	// 48–59 outer lips from the image-left corner, clockwise in the image
	{-29.6, 69.7, 5}, {-19.0, 64.1, -6}, {-8.1, 61.7, -11}, {0.0, 63.5, -12}, {8.1, 61.7, -11}, {19.0, 64.1, -6},
	{29.6, 69.7, 5}, {19.4, 80.2, -5}, {8.7, 84.6, -9}, {0.0, 85.5, -10}, {-8.7, 84.6, -9}, {-19.4, 80.2, -5},
	// 60–67 inner lips
	{-25.0, 70.0, 2}, {-8.2, 67.8, -8}, {0.0, 68.6, -9}, {8.2, 67.8, -8},
	{25.0, 70.0, 2}, {8.3, 75.2, -8}, {0.0, 76.2, -9}, {-8.3, 75.2, -8},
}

// poseIndices are the landmarks the solver fits: chin, brows, nose, eyes and
// mouth corners. Lips other than the corners move with expression and the
// jaw outline is a silhouette, so they are left out.
var poseIndices = func() []int {
	idx := []int{8, 48, 54}
	for i := 17; i <= 47; i++ {
		idx = append(idx, i)
	}
	return idx
}()

// poseWeight returns the x and y weights of landmark i in the fit, about
// 1/σ where σ is how far that coordinate of real faces strays from the mean
// face after fitting (measured on the LFW set above: the nose ~1.5 mm, eye
// and brow heights 3–7 mm because eye shape and brow height differ between
// people, mouth corners and chin more with expression). Without the weights
// upturned or downturned eyes read as several degrees of pitch.
func poseWeight(i int) [2]float64 {
	switch {
	case i >= 27 && i <= 35: // nose
		return [2]float64{1, 1}
	case i >= 36 && i <= 47: // eyes
		return [2]float64{1, 0.35}
	case i >= 17 && i <= 26: // brows
		return [2]float64{0.7, 0.25}
	case i == 8: // chin
		return [2]float64{0.5, 0.2}
	}
	return [2]float64{0.3, 0.35} // mouth corners
}

// poseModel is meanFace68 at poseIndices, centred on its mean so the
// weak-perspective initialisation can ignore the offset.
var poseModel = func() [][3]float64 {
	m := make([][3]float64, len(poseIndices))
	var c [3]float64
	for k, i := range poseIndices {
		m[k] = meanFace68[i]
		for j := range c {
			c[j] += m[k][j] / float64(len(poseIndices))
		}
	}
	for k := range m {
		for j := range c {
			m[k][j] -= c[j]
		}
	}
	return m
}()

type (
	poseVec [3]float64
	poseMat [3][3]float64
)

// poseCamera is a pinhole camera without distortion.
type poseCamera struct{ f, cx, cy float64 }

func (c poseCamera) project(r poseMat, t poseVec, x [3]float64) (u, v float64) {
	p := poseAdd(poseMulVec(r, x), t)
	return c.f*p[0]/p[2] + c.cx, c.f*p[1]/p[2] + c.cy
}

// initialPose fits a weak-perspective (scaled orthographic) camera: the
// image offsets from the landmarks' centroid are a linear function of the
// centred model points, solved by least squares; the two rows of that map,
// made orthonormal, are the first two rows of the rotation and their length
// is the scale, which gives the distance.
func initialPose(cam poseCamera, obs [][2]float64) (poseMat, poseVec, error) {
	var mu, mv float64
	for _, o := range obs {
		mu += o[0] / float64(len(obs))
		mv += o[1] / float64(len(obs))
	}
	var a poseMat
	var bu, bv poseVec
	for k, x := range poseModel {
		for i := 0; i < 3; i++ {
			for j := 0; j < 3; j++ {
				a[i][j] += x[i] * x[j]
			}
			bu[i] += x[i] * (obs[k][0] - mu)
			bv[i] += x[i] * (obs[k][1] - mv)
		}
	}
	inv, ok := poseInverse(a)
	if !ok {
		return poseMat{}, poseVec{}, fmt.Errorf("%w: singular model", ErrPoseDegenerate)
	}
	r1, r2 := poseMulVec(inv, bu), poseMulVec(inv, bv)
	s1, s2 := poseNorm(r1), poseNorm(r2)
	if !(s1 > 1e-9 && s2 > 1e-9) {
		return poseMat{}, poseVec{}, fmt.Errorf("%w: landmarks have no extent", ErrPoseDegenerate)
	}
	e1 := poseScale(r1, 1/s1)
	e2 := poseSub(r2, poseScale(e1, poseDot(r2, e1)))
	if n := poseNorm(e2); n > 1e-3*s2 {
		e2 = poseScale(e2, 1/n)
	} else {
		return poseMat{}, poseVec{}, fmt.Errorf("%w: landmarks are collinear", ErrPoseDegenerate)
	}
	s := (s1 + s2) / 2 // pixels per millimetre
	r := poseMat{e1, e2, poseCross(e1, e2)}
	tz := cam.f / s
	t := poseVec{(mu - cam.cx) * tz / cam.f, (mv - cam.cy) * tz / cam.f, tz}
	return r, t, nil
}

// poseState is what the solver fits: the rotation, the translation in
// millimetres, and stretch, the vertical scale of the mean face. People's
// faces differ most in their height-to-width proportion, and a rigid model
// can only explain a shorter face by pitching it (foreshortening, which is
// flat near 0°: a face 5% shorter than the model looks like 18° of pitch).
// Letting the model stretch, with a prior towards 1, leaves pitch to the
// first-order cue: how the nose and lips, nearer the camera, move against
// the eyes and brows.
type poseState struct {
	r       poseMat
	t       poseVec
	stretch float64
}

// poseParams is the number of parameters refinePose updates: rotation (3),
// translation (3) and stretch.
const poseParams = 7

// stretchPrior weighs the prior on stretch: a residual of stretchPrior ×
// (stretch−1) millimetres on the face, i.e. a 10% stretch costs as much as
// one landmark off by stretchPrior/10 mm.
const stretchPrior = 20

func (s poseState) apply(d [poseParams]float64) poseState {
	return poseState{
		r:       poseMulMat(poseRodrigues(poseVec{d[0], d[1], d[2]}), s.r),
		t:       poseAdd(s.t, poseVec{d[3], d[4], d[5]}),
		stretch: s.stretch + d[6],
	}
}

// refinePose runs Levenberg–Marquardt on the pose and stretch. The rotation
// is updated multiplicatively (R ← exp(ω)·R) so it stays a rotation and has
// no gimbal lock; the Jacobian is taken by central differences, which is
// plenty for 33 points and 7 unknowns.
func refinePose(cam poseCamera, obs [][2]float64, r poseMat, t poseVec) poseState {
	// The prior is measured in pixels at the face's distance.
	pxPerMM := cam.f / t[2]
	residuals := func(s poseState, out []float64) float64 {
		var sum float64
		for k, x := range poseModel {
			u, v := cam.project(s.r, s.t, [3]float64{x[0], s.stretch * x[1], x[2]})
			w := poseWeight(poseIndices[k])
			out[2*k], out[2*k+1] = w[0]*(u-obs[k][0]), w[1]*(v-obs[k][1])
		}
		out[len(out)-1] = stretchPrior * pxPerMM * (s.stretch - 1)
		for _, e := range out {
			sum += e * e
		}
		return sum
	}

	n := 2*len(poseModel) + 1
	cur := poseState{r: r, t: t, stretch: 1}
	res := make([]float64, n)
	plus, minus := make([]float64, n), make([]float64, n)
	jac := make([][poseParams]float64, n)
	cost := residuals(cur, res)
	lambda := 1e-3
	for iter := 0; iter < 100; iter++ {
		// Steps: radians for rotation, millimetres (scaled to the
		// distance) for translation, a fraction for stretch.
		for p := 0; p < poseParams; p++ {
			h := 1e-6
			if p >= 3 && p < 6 {
				h = 1e-6 * cur.t[2]
			}
			var d [poseParams]float64
			d[p] = h
			residuals(cur.apply(d), plus)
			d[p] = -h
			residuals(cur.apply(d), minus)
			for i := range jac {
				jac[i][p] = (plus[i] - minus[i]) / (2 * h)
			}
		}
		var jtj [poseParams][poseParams]float64
		var jtr [poseParams]float64
		for i := range jac {
			for p := 0; p < poseParams; p++ {
				jtr[p] += jac[i][p] * res[i]
				for q := 0; q < poseParams; q++ {
					jtj[p][q] += jac[i][p] * jac[i][q]
				}
			}
		}
		improved := false
		for try := 0; try < 10; try++ {
			a := jtj
			for p := 0; p < poseParams; p++ {
				a[p][p] *= 1 + lambda
			}
			step, ok := poseSolve(a, jtr)
			if !ok {
				lambda *= 10
				continue
			}
			for p := range step {
				step[p] = -step[p]
			}
			next := cur.apply(step)
			if next.t[2] <= 0 || next.stretch <= 0 {
				lambda *= 10
				continue
			}
			if c := residuals(next, plus); c < cost {
				converged := cost-c < 1e-10*cost+1e-12
				cur, cost = next, c
				copy(res, plus)
				lambda = max(lambda/10, 1e-9)
				improved = true
				if converged {
					return cur
				}
				break
			}
			lambda *= 10
		}
		if !improved {
			break
		}
	}
	return cur
}

// eulerFromRotation splits R = Rz(roll)·Ry(yaw)·Rx(pitch) into degrees.
func eulerFromRotation(r poseMat) Pose {
	deg := 180 / math.Pi
	sy := math.Max(-1, math.Min(1, -r[2][0]))
	return Pose{
		Yaw:   math.Asin(sy) * deg,
		Pitch: math.Atan2(r[2][1], r[2][2]) * deg,
		Roll:  math.Atan2(r[1][0], r[0][0]) * deg,
	}
}

// rotationFromEuler is the inverse of eulerFromRotation (angles in degrees).
func rotationFromEuler(p Pose) poseMat {
	rad := math.Pi / 180
	sx, cx := math.Sincos(p.Pitch * rad)
	sy, cy := math.Sincos(p.Yaw * rad)
	sz, cz := math.Sincos(p.Roll * rad)
	rx := poseMat{{1, 0, 0}, {0, cx, -sx}, {0, sx, cx}}
	ry := poseMat{{cy, 0, sy}, {0, 1, 0}, {-sy, 0, cy}}
	rz := poseMat{{cz, -sz, 0}, {sz, cz, 0}, {0, 0, 1}}
	return poseMulMat(rz, poseMulMat(ry, rx))
}

// poseRodrigues returns the rotation by |w| radians about w.
func poseRodrigues(w poseVec) poseMat {
	th := poseNorm(w)
	if th < 1e-12 {
		return poseMat{{1, -w[2], w[1]}, {w[2], 1, -w[0]}, {-w[1], w[0], 1}}
	}
	k := poseScale(w, 1/th)
	s, c := math.Sincos(th)
	var r poseMat
	for i := 0; i < 3; i++ {
		for j := 0; j < 3; j++ {
			r[i][j] = (1 - c) * k[i] * k[j]
			if i == j {
				r[i][j] += c
			}
		}
	}
	r[0][1] -= s * k[2]
	r[0][2] += s * k[1]
	r[1][0] += s * k[2]
	r[1][2] -= s * k[0]
	r[2][0] -= s * k[1]
	r[2][1] += s * k[0]
	return r
}

func poseAdd(a, b poseVec) poseVec { return poseVec{a[0] + b[0], a[1] + b[1], a[2] + b[2]} }
func poseSub(a, b poseVec) poseVec { return poseVec{a[0] - b[0], a[1] - b[1], a[2] - b[2]} }
func poseScale(a poseVec, s float64) poseVec {
	return poseVec{a[0] * s, a[1] * s, a[2] * s}
}
func poseDot(a, b poseVec) float64 { return a[0]*b[0] + a[1]*b[1] + a[2]*b[2] }
func poseNorm(a poseVec) float64   { return math.Sqrt(poseDot(a, a)) }
func poseCross(a, b poseVec) poseVec {
	return poseVec{a[1]*b[2] - a[2]*b[1], a[2]*b[0] - a[0]*b[2], a[0]*b[1] - a[1]*b[0]}
}

func poseMulVec(m poseMat, x poseVec) poseVec {
	return poseVec{poseDot(m[0], x), poseDot(m[1], x), poseDot(m[2], x)}
}

func poseMulMat(a, b poseMat) poseMat {
	var c poseMat
	for i := 0; i < 3; i++ {
		for j := 0; j < 3; j++ {
			c[i][j] = a[i][0]*b[0][j] + a[i][1]*b[1][j] + a[i][2]*b[2][j]
		}
	}
	return c
}

func poseTranspose(m poseMat) poseMat {
	return poseMat{{m[0][0], m[1][0], m[2][0]}, {m[0][1], m[1][1], m[2][1]}, {m[0][2], m[1][2], m[2][2]}}
}

// poseInverse inverts a 3×3 matrix by its adjugate.
func poseInverse(m poseMat) (poseMat, bool) {
	c0, c1, c2 := poseCross(m[1], m[2]), poseCross(m[2], m[0]), poseCross(m[0], m[1])
	det := poseDot(m[0], c0)
	if math.Abs(det) < 1e-12 {
		return poseMat{}, false
	}
	// The columns of the inverse are the cross products over det.
	var inv poseMat
	for i := 0; i < 3; i++ {
		inv[i] = poseVec{c0[i] / det, c1[i] / det, c2[i] / det}
	}
	return inv, true
}

// poseSolve solves a·x = b by Gaussian elimination with partial pivoting.
func poseSolve(a [poseParams][poseParams]float64, b [poseParams]float64) ([poseParams]float64, bool) {
	for col := 0; col < poseParams; col++ {
		piv := col
		for row := col + 1; row < poseParams; row++ {
			if math.Abs(a[row][col]) > math.Abs(a[piv][col]) {
				piv = row
			}
		}
		if math.Abs(a[piv][col]) < 1e-300 {
			return b, false
		}
		a[col], a[piv] = a[piv], a[col]
		b[col], b[piv] = b[piv], b[col]
		for row := col + 1; row < poseParams; row++ {
			f := a[row][col] / a[col][col]
			for k := col; k < poseParams; k++ {
				a[row][k] -= f * a[col][k]
			}
			b[row] -= f * b[col]
		}
	}
	var x [poseParams]float64
	for row := poseParams - 1; row >= 0; row-- {
		s := b[row]
		for k := row + 1; k < poseParams; k++ {
			s -= a[row][k] * x[k]
		}
		x[row] = s / a[row][row]
	}
	return x, true
}

func poseFinite(xs ...float64) bool {
	for _, x := range xs {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return false
		}
	}
	return true
}
