package engine

import (
	"image"
	"math"
)

// The MMOD CNN's boxes follow another convention than HOG's: the 68-point
// shape predictor was trained on HOG boxes, so CNN boxes are mapped to
// HOG's convention before landmarks are fitted (and are reported in it).
// The mapping moves the box centre by a fraction of the box size and
// scales the box. Its constants are medians over the first 150 LFW images
// (the first photo of each person; both detectors found all 150 faces):
// HOG's box centre sits 0.078·w right of and 0.073·h below the CNN's
// (10th-90th percentiles -0.016..0.099 and -0.066..0.174), and its sides
// are 1.094 and 1.087 times the CNN's (0.91..1.30). TestCNNBoxesMapToHOGConvention
// checks the mapping on the next 60 LFW images.
const (
	cnnShiftX = 0.078
	cnnShiftY = 0.073
	cnnScale  = 1.09
)

// cnnToHOGBox maps an MMOD CNN box to the HOG convention.
func cnnToHOGBox(r image.Rectangle) image.Rectangle {
	w, h := float64(r.Dx()), float64(r.Dy())
	cx := float64(r.Min.X+r.Max.X)/2 + cnnShiftX*w
	cy := float64(r.Min.Y+r.Max.Y)/2 + cnnShiftY*h
	return boxAround(cx, cy, cnnScale*w, cnnScale*h)
}

// hogToCNNBox is cnnToHOGBox's inverse (up to rounding).
func hogToCNNBox(r image.Rectangle) image.Rectangle {
	w, h := float64(r.Dx())/cnnScale, float64(r.Dy())/cnnScale
	cx := float64(r.Min.X+r.Max.X)/2 - cnnShiftX*w
	cy := float64(r.Min.Y+r.Max.Y)/2 - cnnShiftY*h
	return boxAround(cx, cy, w, h)
}

// boxAround returns the w×h rectangle centred on (cx, cy), rounded to whole
// pixels.
func boxAround(cx, cy, w, h float64) image.Rectangle {
	x0, y0 := int(math.Round(cx-w/2)), int(math.Round(cy-h/2))
	return image.Rect(x0, y0, x0+int(math.Round(w)), y0+int(math.Round(h)))
}

// SSD boxes (package ssd) are mapped to HOG's convention the same way: they
// are about as wide as HOG's but taller (forehead to chin) and sit higher
// and further left. The constants are medians over the 72 of the first 150
// LFW images where both detectors found the face (see
// TestSSDBoxesMapToHOGConvention, which logs them and checks the mapping
// on the next images).
const (
	ssdShiftX = 0.085
	ssdShiftY = 0.073
	ssdScaleX = 1.061
	ssdScaleY = 0.839
)

// ssdToHOGBox maps an SSD box to the HOG convention.
func ssdToHOGBox(r image.Rectangle) image.Rectangle {
	w, h := float64(r.Dx()), float64(r.Dy())
	cx := float64(r.Min.X+r.Max.X)/2 + ssdShiftX*w
	cy := float64(r.Min.Y+r.Max.Y)/2 + ssdShiftY*h
	return boxAround(cx, cy, ssdScaleX*w, ssdScaleY*h)
}

// hogToSSDBox is ssdToHOGBox's inverse (up to rounding).
func hogToSSDBox(r image.Rectangle) image.Rectangle {
	w, h := float64(r.Dx())/ssdScaleX, float64(r.Dy())/ssdScaleY
	cx := float64(r.Min.X+r.Max.X)/2 - ssdShiftX*w
	cy := float64(r.Min.Y+r.Max.Y)/2 - ssdShiftY*h
	return boxAround(cx, cy, w, h)
}
