package baidu

import (
	"image"
	"math"
)

// Baidu's location is the bounding box of its own 72 landmarks in the
// face's frame: the box is turned clockwise by location.rotation degrees,
// width and height are its sides, and left/top is its top-left corner in
// image coordinates. Six public Baidu detect responses that carry both
// (testdata/baidu_detect_responses.json, TestBaiduLocationIsLandmarkExtent)
// fit this to within 1.6 px: contour to contour, brow tops to chin, no
// forehead.
//
// The engine reports boxes in dlib's HOG convention. wholeFaceBox maps one
// to Baidu's: it moves the box centre by a fraction of the box size along
// the face's axes and scales its sides. The constants are medians, over
// the HOG faces of the test photos and of 100 LFW images, of where the
// extent of facekit's own landmark72 (server/baidu/layout) lies relative to
// the HOG box (TestWholeFaceBoxMatchesLandmarks re-measures them). The map
// uses the box alone, not the landmarks, so that a face recalled by
// FACE_TOKEN, whose landmarks are not kept, gets the same location.
const (
	wholeShiftX = -0.040 // centre moves left (in the face's frame) by 4% of the box width
	wholeShiftY = 0.071  // and down by 7.1% of its height: the chin, not the forehead
	wholeScaleX = 0.919
	wholeScaleY = 0.902
)

// wholeFaceBox maps an engine (HOG-convention) box to Baidu's location for
// a face turned rotation degrees clockwise, in fractional pixels as Baidu
// reports them. It may reach past the image edges, as the face does.
func wholeFaceBox(r image.Rectangle, rotation int) location {
	w, h := float64(r.Dx()), float64(r.Dy())
	sin, cos := math.Sincos(float64(rotation) * math.Pi / 180)
	// turn rotates a vector given in the face's frame into the image's
	// (y down, so a positive angle turns clockwise on screen).
	turn := func(x, y float64) (float64, float64) { return x*cos - y*sin, x*sin + y*cos }
	dx, dy := turn(wholeShiftX*w, wholeShiftY*h)
	cx, cy := float64(r.Min.X+r.Max.X)/2+dx, float64(r.Min.Y+r.Max.Y)/2+dy
	bw, bh := wholeScaleX*w, wholeScaleY*h
	ox, oy := turn(-bw/2, -bh/2)
	return location{Left: round2(cx + ox), Top: round2(cy + oy), Width: round2(bw), Height: round2(bh), Rotation: rotation}
}
