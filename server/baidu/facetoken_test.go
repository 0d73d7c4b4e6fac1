package baidu_test

import (
	"testing"

	"github.com/facekit/facekit/internal/testenv"
)

// A face passed by FACE_TOKEN keeps the location it was detected with:
// the token cache stores the box and its rotation.
func TestFaceTokenLocation(t *testing.T) {
	eng := testenv.Engine(t)
	img := b64(testenv.Photo(t, "tzuyu.jpg"))
	e := mustStart(t, eng)
	var first, again detectRes
	e.must(v3+"/detect", obj{"image": img, "image_type": "BASE64"}, &first)
	f := first.FaceList[0]
	if f.Location == nil {
		t.Fatalf("no location: %+v", f)
	}
	e.must(v3+"/detect", obj{"image": f.FaceToken, "image_type": "FACE_TOKEN"}, &again)
	g := again.FaceList[0]
	if g.FaceToken != f.FaceToken || g.Location == nil || *g.Location != *f.Location {
		t.Fatalf("by token: %+v location %+v; by image: location %+v", g, g.Location, f.Location)
	}
	// Nothing else of the face is kept: no probability or pose is invented.
	if g.FaceProbability != nil || g.Angle != nil {
		t.Fatalf("by token: probability %v, angle %v", g.FaceProbability, g.Angle)
	}
}
