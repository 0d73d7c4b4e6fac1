package baidu

import (
	"github.com/facekit/facekit/engine"
	"github.com/facekit/facekit/engine/layout"
	"github.com/facekit/facekit/quality/facegeom"
	"github.com/facekit/facekit/service"
)

// addLandmarks fills the landmark fields face_field asks for, derived from
// dlib's 68 points by engine/layout. As the API documents, "landmark" asks
// for both the 4-point and the 72-point layout and "landmark150" for the
// 150 named points, which Baidu returns as an object keyed by point name.
// Faces without landmarks (recalled by token) get none.
func addLandmarks(out *detectFace, f service.Face, fields map[string]bool) {
	if len(f.Landmarks) == 0 {
		return
	}
	if fields["landmark"] || fields["landmark72"] {
		out.Landmark = points(layout.Landmark4(f.Landmarks))
		out.Landmark72 = points(layout.Landmark72(f.Landmarks))
	}
	if fields["landmark150"] {
		named := layout.Landmark150(f.Landmarks)
		if len(named) > 0 {
			out.Landmark150 = make(map[string]point, len(named))
			for _, n := range named {
				out.Landmark150[n.Name] = point{X: round2(n.X), Y: round2(n.Y)}
			}
		}
	}
}

func points(ps []engine.PointF) []point {
	if len(ps) == 0 {
		return nil
	}
	out := make([]point, len(ps))
	for i, p := range ps {
		out[i] = point{X: round2(p.X), Y: round2(p.Y)}
	}
	return out
}

// addGeometry fills the attributes package quality/facegeom reads from the
// landmark geometry: eye_status, expression and face_shape. A face whose
// landmarks the measurements cannot use simply lacks the field.
func addGeometry(out *detectFace, f service.Face, fields map[string]bool) {
	if len(f.Landmarks) == 0 {
		return
	}
	if fields["eye_status"] {
		if e, err := facegeom.Eyes(f.Landmarks); err == nil {
			e.LeftEye, e.RightEye = round4(e.LeftEye), round4(e.RightEye)
			out.EyeStatus = &e
		}
	}
	if fields["expression"] {
		if e, err := facegeom.Expr(f.Landmarks); err == nil {
			e.Probability = round4(e.Probability)
			out.Expression = &e
		}
	}
	if fields["face_shape"] {
		if s, err := facegeom.Shape(f.Landmarks); err == nil {
			s.Probability = round4(s.Probability)
			out.FaceShape = &s
		}
	}
}
