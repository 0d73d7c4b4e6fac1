package engine

import (
	"errors"
	"fmt"
	"image"
	"math"
	"testing"
)

// Sign conventions under test (see EstimatePose): roll positive clockwise in
// the image, pitch positive looking down, yaw positive when the person turns
// to their own right, i.e. the nose moves towards the image's LEFT.

// projectFace renders the 68 mean-face points seen with rotation r from
// distance tz mm (offset tx, ty mm) by the camera EstimatePose assumes for a
// w×h image, rounded to whole pixels as dlib reports them.
func projectFace(r poseMat, tx, ty, tz float64, w, h int) []image.Point {
	cam := poseCamera{f: float64(max(w, h)), cx: float64(w) / 2, cy: float64(h) / 2}
	pts := make([]image.Point, 68)
	for i, x := range meanFace68 {
		u, v := cam.project(r, poseVec{tx, ty, tz}, x)
		pts[i] = image.Pt(int(math.Round(u)), int(math.Round(v)))
	}
	return pts
}

func angleDiff(a, b float64) float64 {
	d := math.Mod(a-b+540, 360) - 180
	return math.Abs(d)
}

func TestEstimatePoseRecoversProjectedAngles(t *testing.T) {
	tests := []struct {
		yaw, pitch, roll float64
		tx, ty, tz       float64 // mm; 450 mm gives a ~200 px face in 640x480
		w, h             int
		tol              float64
	}{
		{0, 0, 0, 0, 0, 450, 640, 480, 2},
		{30, 0, 0, 0, 0, 450, 640, 480, 2},
		{-30, 0, 0, 0, 0, 450, 640, 480, 2},
		{0, 30, 0, 0, 0, 450, 640, 480, 2},
		{0, -30, 0, 0, 0, 450, 640, 480, 2},
		{0, 0, 30, 0, 0, 450, 640, 480, 2},
		{0, 0, -30, 0, 0, 450, 640, 480, 2},
		{20, -15, 10, 0, 0, 450, 640, 480, 2},
		{-25, 20, -30, 0, 0, 450, 640, 480, 2},
		{30, 30, 30, 0, 0, 450, 640, 480, 2},
		{-30, -30, -30, 0, 0, 450, 640, 480, 2},
		{45, 10, 5, 0, 0, 450, 640, 480, 2},
		{60, 0, 0, 0, 0, 450, 640, 480, 3}, // half the face foreshortened: rounding costs more
		{-60, 10, 0, 0, 0, 450, 640, 480, 3},
		{0, 45, 0, 0, 0, 450, 640, 480, 2},
		{0, -45, 10, 0, 0, 450, 640, 480, 2},
		{10, 5, 150, 0, 0, 450, 640, 480, 2},  // upside-down-ish head
		{-5, 0, -120, 0, 0, 450, 640, 480, 2}, // lying on its side
		// off-centre face in a portrait photo: perspective matters
		{15, -10, 5, 120, -150, 600, 480, 640, 2},
		// a small face (~70 px wide): integer rounding costs more
		{20, 10, -10, 0, 0, 1200, 640, 480, 4},
	}
	for _, tt := range tests {
		name := fmt.Sprintf("Yaw%+.0fPitch%+.0fRoll%+.0f/%dx%d_z%.0f", tt.yaw, tt.pitch, tt.roll, tt.w, tt.h, tt.tz)
		t.Run(name, func(t *testing.T) {
			want := Pose{Yaw: tt.yaw, Pitch: tt.pitch, Roll: tt.roll}
			// The angles are relative to the line of sight to the face.
			r := poseMulMat(lineOfSight(poseVec{tt.tx, tt.ty, tt.tz}), rotationFromEuler(want))
			pts := projectFace(r, tt.tx, tt.ty, tt.tz, tt.w, tt.h)
			got, err := EstimatePose(pts, tt.w, tt.h)
			if err != nil {
				t.Fatalf("EstimatePose: %v", err)
			}
			if angleDiff(got.Yaw, want.Yaw) > tt.tol || angleDiff(got.Pitch, want.Pitch) > tt.tol || angleDiff(got.Roll, want.Roll) > tt.tol {
				t.Errorf("got %+.2f, want %+v within %.0f°", got, want, tt.tol)
			}
		})
	}
}

// TestEstimatePoseLookingIntoLensOffCentre places faces away from the
// image centre, each turned (by a rotation built here) so that it looks
// straight at the camera: yaw and pitch must come out near 0.
func TestEstimatePoseLookingIntoLensOffCentre(t *testing.T) {
	for _, off := range [][2]float64{{0, -200}, {250, 0}, {-200, 150}} {
		t.Run(fmt.Sprintf("At%+.0f%+.0fmm", off[0], off[1]), func(t *testing.T) {
			pos := poseVec{off[0], off[1], 700}
			// Columns: the model's x stays horizontal, its z (into the
			// head) points along the ray from the camera.
			z := poseScale(pos, 1/poseNorm(pos))
			x := poseCross(poseVec{0, 1, 0}, z)
			x = poseScale(x, 1/poseNorm(x))
			y := poseCross(z, x)
			r := poseMat{{x[0], y[0], z[0]}, {x[1], y[1], z[1]}, {x[2], y[2], z[2]}}
			got, err := EstimatePose(projectFace(r, pos[0], pos[1], pos[2], 1280, 960), 1280, 960)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(got.Yaw) > 2 || math.Abs(got.Pitch) > 2 || math.Abs(got.Roll) > 3 {
				t.Errorf("got %+.2f, want about zero", got)
			}
		})
	}
}

func TestEulerRoundTrip(t *testing.T) {
	for _, p := range []Pose{{10, 20, 30}, {-80, 45, -170}, {0, -60, 90}} {
		got := eulerFromRotation(rotationFromEuler(p))
		if angleDiff(got.Yaw, p.Yaw) > 1e-9 || angleDiff(got.Pitch, p.Pitch) > 1e-9 || angleDiff(got.Roll, p.Roll) > 1e-9 {
			t.Errorf("round trip of %+v gave %+v", p, got)
		}
	}
}

// TestEstimatePoseSigns checks the conventions with rotations built by hand
// here, not through rotationFromEuler, and with the visible effect asserted
// first, so a sign flip in the implementation cannot hide in the test.
func TestEstimatePoseSigns(t *testing.T) {
	const w, h = 640, 480
	const a = 20 * math.Pi / 180
	s, c := math.Sin(a), math.Cos(a)
	frontal := projectFace(poseMat{{1, 0, 0}, {0, 1, 0}, {0, 0, 1}}, 0, 0, 450, w, h)
	eyeMidX := float64(frontal[36].X+frontal[45].X) / 2

	t.Run("RollClockwiseIsPositive", func(t *testing.T) {
		// Turn the 2D points 15° clockwise about the face centre (y points
		// down, so this is x' = x cos − y sin, y' = x sin + y cos).
		rs, rc := math.Sincos(15 * math.Pi / 180)
		cx, cy := float64(frontal[30].X), float64(frontal[30].Y)
		pts := make([]image.Point, 68)
		for i, p := range frontal {
			dx, dy := float64(p.X)-cx, float64(p.Y)-cy
			pts[i] = image.Pt(int(math.Round(cx+rc*dx-rs*dy)), int(math.Round(cy+rs*dx+rc*dy)))
		}
		if pts[45].Y <= pts[36].Y {
			t.Fatal("test setup: the image-right eye corner should drop when turned clockwise")
		}
		got, err := EstimatePose(pts, w, h)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(got.Roll-15) > 2 {
			t.Errorf("roll = %.1f, want +15±2", got.Roll)
		}
	})
	t.Run("NoseTowardsImageLeftIsPositiveYaw", func(t *testing.T) {
		// The person turns to their own right: about the vertical axis,
		// the nose (z < 0, towards the camera) swings to smaller x.
		pts := projectFace(poseMat{{c, 0, s}, {0, 1, 0}, {-s, 0, c}}, 0, 0, 450, w, h)
		if float64(pts[30].X) >= eyeMidX {
			t.Fatal("test setup: nose tip should be left of the eyes' midpoint")
		}
		got, err := EstimatePose(pts, w, h)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(got.Yaw-20) > 2 {
			t.Errorf("yaw = %.1f, want +20±2", got.Yaw)
		}
	})
	t.Run("LookingDownIsPositivePitch", func(t *testing.T) {
		// Nodding down: the nose tip swings down in the image and gets
		// closer to the mouth.
		pts := projectFace(poseMat{{1, 0, 0}, {0, c, -s}, {0, s, c}}, 0, 0, 450, w, h)
		if pts[51].Y-pts[30].Y >= frontal[51].Y-frontal[30].Y {
			t.Fatal("test setup: nose should move towards the mouth when looking down")
		}
		got, err := EstimatePose(pts, w, h)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(got.Pitch-20) > 2 {
			t.Errorf("pitch = %.1f, want +20±2", got.Pitch)
		}
	})
}

func TestEstimatePoseErrors(t *testing.T) {
	frontal := projectFace(poseMat{{1, 0, 0}, {0, 1, 0}, {0, 0, 1}}, 0, 0, 450, 640, 480)
	same := make([]image.Point, 68)
	for i := range same {
		same[i] = image.Pt(100, 100)
	}
	line := make([]image.Point, 68)
	for i := range line {
		line[i] = image.Pt(10+i*3, 20+i*2)
	}
	tests := []struct {
		name    string
		pts     []image.Point
		w, h    int
		wantErr error
	}{
		{"NoLandmarks", nil, 640, 480, ErrPoseLandmarks},
		{"TooFew", frontal[:67], 640, 480, ErrPoseLandmarks},
		{"TooMany", append(append([]image.Point(nil), frontal...), image.Pt(1, 1)), 640, 480, ErrPoseLandmarks},
		{"ZeroWidth", frontal, 0, 480, ErrPoseLandmarks},
		{"AllOnePoint", same, 640, 480, ErrPoseDegenerate},
		{"Collinear", line, 640, 480, ErrPoseDegenerate},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := EstimatePose(tt.pts, tt.w, tt.h)
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("error = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func BenchmarkEstimatePose(b *testing.B) {
	pts := projectFace(rotationFromEuler(Pose{Yaw: 20, Pitch: -10, Roll: 5}), 0, 0, 450, 640, 480)
	for b.Loop() {
		if _, err := EstimatePose(pts, 640, 480); err != nil {
			b.Fatal(err)
		}
	}
}
