// Package control holds the control level that quality control and
// liveness control share: NONE (no check), LOW, NORMAL and HIGH. The two
// checks judge different measurements, but a request names their levels
// the same way, so one type parses both and neither check can drift from
// the other's spelling.
package control

import (
	"errors"
	"fmt"
	"strings"
)

// Level is how strict a check is.
type Level int

// The levels, from no check to the strictest.
const (
	LevelNone Level = iota
	LevelLow
	LevelNormal
	LevelHigh
)

// ErrUnknownLevel is returned by ParseLevel for anything but NONE, LOW,
// NORMAL or HIGH. Which request parameter was wrong is the caller's to
// say: each API has its own code for a bad quality or liveness level.
var ErrUnknownLevel = errors.New("control: unknown level")

// ParseLevel reads a level name (NONE, LOW, NORMAL, HIGH; case-insensitive,
// surrounding blanks ignored). The empty string is NONE, the default of
// every API facekit speaks.
func ParseLevel(s string) (Level, error) {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "", "NONE":
		return LevelNone, nil
	case "LOW":
		return LevelLow, nil
	case "NORMAL":
		return LevelNormal, nil
	case "HIGH":
		return LevelHigh, nil
	}
	return LevelNone, fmt.Errorf("%w: %q", ErrUnknownLevel, s)
}

// String returns the level's name as ParseLevel reads it; a value outside
// the four levels prints as Level(n) so that a bug shows rather than
// passing for NONE.
func (l Level) String() string {
	switch l {
	case LevelNone:
		return "NONE"
	case LevelLow:
		return "LOW"
	case LevelNormal:
		return "NORMAL"
	case LevelHigh:
		return "HIGH"
	}
	return fmt.Sprintf("Level(%d)", int(l))
}
