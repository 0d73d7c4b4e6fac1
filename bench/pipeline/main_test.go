package main

import (
	"math"
	"testing"
)

func TestIoU(t *testing.T) {
	tests := []struct {
		name string
		a, b [4]int
		want float64
	}{
		{"Identical", [4]int{0, 0, 10, 10}, [4]int{0, 0, 10, 10}, 1},
		{"Disjoint", [4]int{0, 0, 10, 10}, [4]int{20, 20, 30, 30}, 0},
		{"Touching", [4]int{0, 0, 10, 10}, [4]int{10, 0, 20, 10}, 0},
		{"HalfOverlap", [4]int{0, 0, 10, 10}, [4]int{5, 0, 15, 10}, 50.0 / 150},
		{"Contained", [4]int{0, 0, 10, 10}, [4]int{0, 0, 5, 10}, 0.5},
		{"Empty", [4]int{0, 0, 0, 0}, [4]int{0, 0, 0, 0}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := iou(tt.a[0], tt.a[1], tt.a[2], tt.a[3], tt.b[0], tt.b[1], tt.b[2], tt.b[3])
			if math.Abs(got-tt.want) > 1e-12 {
				t.Fatalf("iou = %v, want %v", got, tt.want)
			}
		})
	}
}
