package engine

import (
	"context"
	"errors"
	"github.com/facekit/facekit/engine/dlib"
	"image"
	"testing"
	"time"
)

// A call waiting for a native instance gives up when its context ends
// instead of blocking forever.
func TestAnalyzeWaitsForPoolUntilContextEnds(t *testing.T) {
	e := &Engine{pool: make(chan *dlib.Instance), detector: DetectorHOG} // no instances: every borrow waits
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := e.Analyze(ctx, image.NewRGBA(image.Rect(0, 0, 16, 16)), Options{})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want context.DeadlineExceeded", err)
	}
}

func TestSortFaces(t *testing.T) {
	tests := []struct {
		name     string
		byCenter bool
		rects    []image.Rectangle
		want     []image.Rectangle
	}{
		{"LargestFirst", false,
			[]image.Rectangle{image.Rect(0, 0, 10, 10), image.Rect(50, 50, 80, 80), image.Rect(0, 0, 20, 20)},
			[]image.Rectangle{image.Rect(50, 50, 80, 80), image.Rect(0, 0, 20, 20), image.Rect(0, 0, 10, 10)}},
		{"EqualAreaTopLeftFirst", false,
			[]image.Rectangle{image.Rect(30, 0, 40, 10), image.Rect(0, 0, 10, 10)},
			[]image.Rectangle{image.Rect(0, 0, 10, 10), image.Rect(30, 0, 40, 10)}},
		{"CentreFirst", true,
			[]image.Rectangle{image.Rect(0, 0, 40, 40), image.Rect(45, 45, 55, 55)},
			[]image.Rectangle{image.Rect(45, 45, 55, 55), image.Rect(0, 0, 40, 40)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			faces := make([]Face, len(tt.rects))
			for i, r := range tt.rects {
				faces[i].Rect = r
			}
			sortFaces(faces, 100, 100, tt.byCenter)
			for i := range faces {
				if faces[i].Rect != tt.want[i] {
					t.Fatalf("position %d: %v, want %v", i, faces[i].Rect, tt.want[i])
				}
			}
		})
	}
}
