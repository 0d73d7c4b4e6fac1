package facegeom

import "image"

// Attributes are the geometric face_field values of one face.
type Attributes struct {
	EyeStatus  EyeStatus  `json:"eye_status"`
	Expression Expression `json:"expression"`
	FaceShape  FaceShape  `json:"face_shape"`
}

// Analyze measures every geometric attribute of a face from its 68
// landmarks. Returns ErrLandmarks or ErrDegenerate for unusable input.
func Analyze(lm []image.Point) (Attributes, error) {
	var a Attributes
	var err error
	if a.EyeStatus, err = Eyes(lm); err != nil {
		return Attributes{}, err
	}
	if a.Expression, err = Expr(lm); err != nil {
		return Attributes{}, err
	}
	if a.FaceShape, err = Shape(lm); err != nil {
		return Attributes{}, err
	}
	return a, nil
}
