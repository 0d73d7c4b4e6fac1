// Package eval measures face-verification accuracy the way published
// figures are measured: the LFW 10-fold protocol (threshold chosen on nine
// folds, applied to the tenth), ROC and true-accept rate at fixed
// false-accept rates, genuine/impostor distance distributions, score-level
// fusion of two descriptor models, and an SVG picture of it all. It also
// computes the descriptors of an image set across all cores with an on-disk
// cache, so a benchmark can be rerun in seconds.
package eval

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
)

// ErrMalformedPairs is wrapped by every pairs-parsing error.
var ErrMalformedPairs = errors.New("eval: malformed pairs file")

// ParseError locates a pairs-file problem.
type ParseError struct {
	Line int    // 1-based line number
	Msg  string // what is wrong
}

func (e *ParseError) Error() string { return fmt.Sprintf("eval: pairs line %d: %s", e.Line, e.Msg) }

// Unwrap makes errors.Is(err, ErrMalformedPairs) hold.
func (e *ParseError) Unwrap() error { return ErrMalformedPairs }

// Pair is one verification trial: two images, whether they show the same
// person, and the cross-validation fold it belongs to.
type Pair struct {
	A, B string // image paths relative to the images directory (or absolute)
	Same bool
	Fold int // 0-based
}

// DefaultFolds is the number of folds of the LFW protocol.
const DefaultFolds = 10

// ParsePairs reads either pairs format, told apart by the first line: LFW's
// pairs.txt starts with "FOLDS N" (two integers), the plain format does not.
func ParsePairs(r io.Reader) ([]Pair, error) {
	lines, err := readLines(r)
	if err != nil {
		return nil, err
	}
	if len(lines) == 0 {
		return nil, &ParseError{Line: 1, Msg: "empty file"}
	}
	if f := strings.Fields(lines[0].text); len(f) == 2 && isInt(f[0]) && isInt(f[1]) {
		return parseLFW(lines)
	}
	return parsePlain(lines)
}

type line struct {
	n    int
	text string
}

// readLines returns the non-blank lines with their numbers; '#' starts a
// comment line in the plain format, which LFW files never contain.
func readLines(r io.Reader) ([]line, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	var out []line
	for n := 1; sc.Scan(); n++ {
		t := strings.TrimSpace(sc.Text())
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		out = append(out, line{n, t})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("eval: read pairs: %w", err)
	}
	return out, nil
}

func isInt(s string) bool {
	_, err := strconv.Atoi(s)
	return err == nil
}

// LFWImage is the path of image n of person name inside an LFW images
// directory.
func LFWImage(name string, n int) string {
	return filepath.Join(name, fmt.Sprintf("%s_%04d.jpg", name, n))
}

// parseLFW reads the pairs.txt layout: "FOLDS N", then per fold N same
// lines "name n1 n2" followed by N different lines "name1 n1 name2 n2".
func parseLFW(lines []line) ([]Pair, error) {
	h := strings.Fields(lines[0].text)
	folds, _ := strconv.Atoi(h[0])
	per, _ := strconv.Atoi(h[1])
	if folds < 1 || per < 1 || folds*per > 1<<24 {
		return nil, &ParseError{Line: lines[0].n, Msg: fmt.Sprintf("header %q: want positive fold count and pairs per class", lines[0].text)}
	}
	body := lines[1:]
	if want := folds * 2 * per; len(body) != want {
		last := lines[len(lines)-1].n
		return nil, &ParseError{Line: last, Msg: fmt.Sprintf("header promises %d folds × %d pairs = %d lines, file has %d", folds, 2*per, want, len(body))}
	}
	pairs := make([]Pair, 0, len(body))
	for i, l := range body {
		fold, same := i/(2*per), i%(2*per) < per
		f := strings.Fields(l.text)
		var p Pair
		switch {
		case same && len(f) == 3:
			a, errA := imageNumber(f[1])
			b, errB := imageNumber(f[2])
			if err := errors.Join(errA, errB); err != nil {
				return nil, &ParseError{Line: l.n, Msg: err.Error()}
			}
			p = Pair{A: LFWImage(f[0], a), B: LFWImage(f[0], b), Same: true, Fold: fold}
		case !same && len(f) == 4:
			a, errA := imageNumber(f[1])
			b, errB := imageNumber(f[3])
			if err := errors.Join(errA, errB); err != nil {
				return nil, &ParseError{Line: l.n, Msg: err.Error()}
			}
			p = Pair{A: LFWImage(f[0], a), B: LFWImage(f[2], b), Fold: fold}
		case same:
			return nil, &ParseError{Line: l.n, Msg: fmt.Sprintf("want a same-person line \"name n1 n2\" (fold %d), got %q", fold+1, l.text)}
		default:
			return nil, &ParseError{Line: l.n, Msg: fmt.Sprintf("want a different-person line \"name1 n1 name2 n2\" (fold %d), got %q", fold+1, l.text)}
		}
		pairs = append(pairs, p)
	}
	return pairs, nil
}

func imageNumber(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 9999 {
		return 0, fmt.Errorf("image number %q is not in 1..9999", s)
	}
	return n, nil
}

// parsePlain reads "a b same|diff" lines (also 1/0, true/false, genuine/
// impostor). Folds are assigned stratified: the i-th same pair goes to fold
// i mod 10, and so does the i-th different pair, so every fold keeps the
// file's class balance whatever its order.
func parsePlain(lines []line) ([]Pair, error) {
	pairs := make([]Pair, 0, len(lines))
	var nSame, nDiff int
	for _, l := range lines {
		f := strings.Fields(l.text)
		if len(f) != 3 {
			return nil, &ParseError{Line: l.n, Msg: fmt.Sprintf("want \"imageA imageB same|diff\", got %q", l.text)}
		}
		var same bool
		switch strings.ToLower(f[2]) {
		case "same", "1", "true", "genuine", "match":
			same = true
		case "diff", "different", "0", "false", "impostor", "nonmatch":
		default:
			return nil, &ParseError{Line: l.n, Msg: fmt.Sprintf("label %q is neither same nor diff", f[2])}
		}
		p := Pair{A: f[0], B: f[1], Same: same}
		if same {
			p.Fold = nSame % DefaultFolds
			nSame++
		} else {
			p.Fold = nDiff % DefaultFolds
			nDiff++
		}
		pairs = append(pairs, p)
	}
	return pairs, nil
}

// Refold reassigns pairs to k stratified folds (as the plain format does)
// and returns them; Refold is for subsets too small to keep their original
// folds, such as one LFW fold.
func Refold(pairs []Pair, k int) []Pair {
	out := make([]Pair, len(pairs))
	var nSame, nDiff int
	for i, p := range pairs {
		if p.Same {
			p.Fold = nSame % k
			nSame++
		} else {
			p.Fold = nDiff % k
			nDiff++
		}
		out[i] = p
	}
	return out
}

// Images returns the distinct image paths the pairs reference, in first-use
// order.
func Images(pairs []Pair) []string {
	seen := make(map[string]bool, 2*len(pairs))
	var out []string
	for _, p := range pairs {
		for _, im := range [2]string{p.A, p.B} {
			if !seen[im] {
				seen[im] = true
				out = append(out, im)
			}
		}
	}
	return out
}
