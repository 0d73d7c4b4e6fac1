package store

import (
	"errors"
	"math"
	"strings"
	"testing"
)

func TestValidID(t *testing.T) {
	tests := []struct {
		name, id string
		want     bool
	}{
		{"LettersDigitsUnderscore", "Group_01", true},
		{"MaxLength", strings.Repeat("a", MaxIDLength), true},
		{"TooLong", strings.Repeat("a", MaxIDLength+1), false},
		{"Empty", "", false},
		{"Hyphen", "a-b", false},
		{"Space", "a b", false},
		{"NonASCII", "用户", false},
		{"NUL", "a\x00", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ValidID(tt.id); got != tt.want {
				t.Fatalf("ValidID(%q) = %v, want %v", tt.id, got, tt.want)
			}
		})
	}
}

func TestEmbeddingValidate(t *testing.T) {
	tests := []struct {
		name string
		e    Embedding
		ok   bool
	}{
		{"Valid", Embedding{Model: "m", Vector: []float32{0, 1}}, true},
		{"NoModel", Embedding{Vector: []float32{1}}, false},
		{"EmptyVector", Embedding{Model: "m"}, false},
		{"NaN", Embedding{Model: "m", Vector: []float32{float32(math.NaN())}}, false},
		{"Inf", Embedding{Model: "m", Vector: []float32{float32(math.Inf(-1))}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.e.Validate()
			if tt.ok != (err == nil) || err != nil && !errors.Is(err, ErrInvalidEmbedding) {
				t.Fatalf("Validate() = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}
