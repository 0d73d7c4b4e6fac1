package baidu

import "image"

// WholeFaceBox exposes the box mapping to the external tests: left, top,
// width, height (fractional pixels) and rotation.
func WholeFaceBox(r image.Rectangle, rotation int) (left, top, width, height float64, rot int) {
	l := wholeFaceBox(r, rotation)
	return l.Left, l.Top, l.Width, l.Height, l.Rotation
}
