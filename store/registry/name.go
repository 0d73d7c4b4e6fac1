package registry

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Name length limits in runes. Han names have at least a one-character
// surname and a one-character given name; transliterated minority names
// (e.g. 买买提·艾力) run long, and the registry keeps the full name even when
// the printed card abbreviates it.
const (
	MinNameRunes = 2
	MaxNameRunes = 30
)

// MiddleDot is the separator used on ID cards between the parts of a
// transliterated name (U+00B7).
const MiddleDot = '\u00B7'

// NormalizeName validates a resident name and returns it normalised: outer
// white space removed and every middle-dot variant replaced by U+00B7.
//
// Accepted: valid UTF-8, 2–30 runes, CJK unified ideographs (the basic block,
// extensions A–H and the compatibility ideographs, since rare name
// characters live there) and middle dots that are neither first, last nor
// adjacent to another dot. Accepted as middle dots: U+00B7, U+30FB (katakana
// middle dot, what Japanese and some Chinese IMEs type), U+FF65 (its
// half-width form) and U+2027 (hyphenation point, common in Taiwan
// encodings). Not accepted: U+2022 bullet and U+2219/U+22C5 operators — they
// are list and maths symbols, and treating them as name separators would let
// pasted garbage through.
//
// Latin letters, digits and spaces are rejected: the resident registry
// records names in Chinese characters (minority and naturalised citizens'
// names included), and foreigners' permanent residence cards use a
// different number format that NormalizeIDNumber rejects anyway.
//
// Returns ErrInvalidName wrapped with the reason.
func NormalizeName(s string) (string, error) {
	if !utf8.ValidString(s) {
		return "", fmt.Errorf("%w: not valid UTF-8", ErrInvalidName)
	}
	s = strings.TrimSpace(s)
	n := utf8.RuneCountInString(s)
	if n < MinNameRunes || n > MaxNameRunes {
		return "", fmt.Errorf("%w: %d characters, want %d to %d", ErrInvalidName, n, MinNameRunes, MaxNameRunes)
	}
	var b strings.Builder
	b.Grow(len(s))
	prevDot := true // a dot is not allowed first
	i := 0
	for _, r := range s {
		switch {
		case isMiddleDot(r):
			if prevDot {
				return "", fmt.Errorf("%w: separator %q at position %d", ErrInvalidName, r, i+1)
			}
			b.WriteRune(MiddleDot)
			prevDot = true
		case isHan(r):
			b.WriteRune(r)
			prevDot = false
		default:
			return "", fmt.Errorf("%w: character %q (U+%04X) at position %d", ErrInvalidName, r, r, i+1)
		}
		i++
	}
	if prevDot {
		return "", fmt.Errorf("%w: ends with a separator", ErrInvalidName)
	}
	return b.String(), nil
}

func isMiddleDot(r rune) bool {
	switch r {
	case '\u00B7', '\u30FB', '\uFF65', '\u2027':
		return true
	}
	return false
}

// isHan reports whether r is a CJK ideograph usable in a name. The ranges
// are the Unicode 15.1 ideograph blocks; radicals, strokes and ideographic
// punctuation are deliberately outside them.
func isHan(r rune) bool {
	switch {
	case r >= 0x4E00 && r <= 0x9FFF: // CJK Unified Ideographs
		return true
	case r >= 0x3400 && r <= 0x4DBF: // Extension A
		return true
	case r >= 0x20000 && r <= 0x2A6DF: // Extension B
		return true
	case r >= 0x2A700 && r <= 0x2EBEF: // Extensions C, D, E, F
		return true
	case r >= 0x2EBF0 && r <= 0x2EE5F: // Extension I
		return true
	case r >= 0x30000 && r <= 0x323AF: // Extensions G, H
		return true
	case r >= 0xF900 && r <= 0xFAFF: // Compatibility Ideographs
		return true
	case r >= 0x2F800 && r <= 0x2FA1F: // Compatibility Ideographs Supplement
		return true
	}
	return false
}
