package baidu

import "github.com/facekit/facekit/server"

// addLandmarks fills the landmark fields face_field asks for. The 4-, 72-
// and 150-point layouts are derived from dlib's 68 points by engine/layout;
// until that package exists none is reported (never invented).
func addLandmarks(out *detectFace, f server.Face, fields map[string]bool) {}
