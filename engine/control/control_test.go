package control

import (
	"errors"
	"testing"
)

func TestParseLevel(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want Level
		err  error
	}{
		{"EmptyIsNone", "", LevelNone, nil},
		{"None", "NONE", LevelNone, nil},
		{"LowerCase", "low", LevelLow, nil},
		{"Blanks", " Normal ", LevelNormal, nil},
		{"High", "HIGH", LevelHigh, nil},
		{"Unknown", "HIGHEST", LevelNone, ErrUnknownLevel},
		{"UnknownMedium", "MEDIUM", LevelNone, ErrUnknownLevel},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseLevel(tt.in)
			if got != tt.want || !errors.Is(err, tt.err) || (tt.err == nil) != (err == nil) {
				t.Fatalf("ParseLevel(%q) = %v, %v; want %v, %v", tt.in, got, err, tt.want, tt.err)
			}
		})
	}
}

// TestStringRoundTrip checks that every level prints as the name
// ParseLevel reads back, and that an out-of-range value does not print as
// a valid level.
func TestStringRoundTrip(t *testing.T) {
	for _, l := range []Level{LevelNone, LevelLow, LevelNormal, LevelHigh} {
		if back, err := ParseLevel(l.String()); err != nil || back != l {
			t.Errorf("ParseLevel(%q) = %v, %v; want %v", l.String(), back, err, l)
		}
	}
	if s := Level(9).String(); s != "Level(9)" {
		t.Errorf("Level(9).String() = %q", s)
	}
}
