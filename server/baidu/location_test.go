package baidu_test

import (
	"image"
	"math"
	"testing"

	"github.com/facekit/facekit/server/baidu"
)

// TestWholeFaceBox checks the map on a 100 px box by hand: the centre moves
// 4.0 px left and 7.1 px down in the face's frame, the sides become 91.9 and
// 90.2, and left/top is the corner that is top-left in the face's frame
// (top-right on screen for a face turned 90° clockwise).
func TestWholeFaceBox(t *testing.T) {
	box := image.Rect(0, 0, 100, 100)
	tests := []struct {
		name     string
		rotation int
		want     [4]float64 // left, top, width, height
	}{
		{"Upright", 0, [4]float64{46 - 45.95, 57.1 - 45.1, 91.9, 90.2}},
		// Face frame x runs down the screen, y to the left: centre
		// (50−7.1, 50−4), corner = centre + (45.1, −45.95).
		{"TurnedClockwise90", 90, [4]float64{42.9 + 45.1, 46 - 45.95, 91.9, 90.2}},
		{"TurnedCounterclockwise90", -90, [4]float64{57.1 - 45.1, 54 + 45.95, 91.9, 90.2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, tp, w, h, rot := baidu.WholeFaceBox(box, tt.rotation)
			got := [4]float64{l, tp, w, h}
			for i := range got {
				if math.Abs(got[i]-tt.want[i]) > 0.011 {
					t.Fatalf("got %v, want %v", got, tt.want)
				}
			}
			if rot != tt.rotation {
				t.Errorf("rotation %d, want %d", rot, tt.rotation)
			}
		})
	}
}
