// Package engine is the Go face of the native core: it turns a decoded image
// into faces with a box, 68 landmarks, a head pose and a descriptor. The types
// here are plain Go so that everything above the engine (quality, store,
// server) never touches cgo.
package engine

import (
	"image"
	"math"
)

// DescriptorSize is the length of a dlib ResNet face descriptor.
const DescriptorSize = 128

// Descriptor is a 128-d dlib ResNet face descriptor. Two descriptors of the
// same person are close in Euclidean distance (dlib's own decision threshold
// is 0.6).
type Descriptor [DescriptorSize]float32

// Distance returns the Euclidean distance between two descriptors.
func Distance(a, b Descriptor) float64 {
	var sum float32
	for i := range a {
		d := a[i] - b[i]
		sum += d * d
	}
	return math.Sqrt(float64(sum))
}

// PointF is a sub-pixel image position.
type PointF struct {
	X float64 `json:"x"`
	Y float64 `json:"y"`
}

// Pose is the head orientation in degrees. Signs follow the convention most
// face APIs document: yaw negative when the face turns to its left (towards
// the image's right... see engine/pose.go for the exact derivation), pitch
// negative when looking up, roll negative when the head is tilted
// counter-clockwise in the image.
type Pose struct {
	Yaw   float64 `json:"yaw"`
	Pitch float64 `json:"pitch"`
	Roll  float64 `json:"roll"`
}

// Face is one detected face.
type Face struct {
	// Rect is the detector's box in image pixel coordinates.
	Rect image.Rectangle
	// Confidence is the raw detector score (HOG: SVM margin; CNN: MMOD score).
	Confidence float64
	// Probability maps Confidence to 0..1 (see Detector docs for the mapping).
	Probability float64
	// Landmarks are dlib's 68 points (iBUG 300-W layout), empty if not computed.
	Landmarks []image.Point
	// Pose is computed from Landmarks; zero if Landmarks is empty.
	Pose Pose
	// Descriptor is valid only if HasDescriptor.
	Descriptor    Descriptor
	HasDescriptor bool
}
