package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/facekit/facekit/calibration"
	"github.com/facekit/facekit/engine"
)

// defaultCompareFAR is the false-accept rate of compare's default
// threshold. dlib's customary 0.6 accepts about 1 impostor pair in 100 on
// LFW, and more on faces of one ethnicity; 1 in 1000 is a safer default for
// a verification verdict.
const defaultCompareFAR = 1e-3

// errNoFace is reported when an image given to compare has no face.
var errNoFace = errors.New("no face found")

func runCompare(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("compare", stderr)
	cfg, err := engineConfig(fs, args)
	if err != nil {
		return err
	}
	threshold := fs.Float64("threshold", calibration.Default().DistanceAtFAR(defaultCompareFAR),
		"distance below which two faces are the same person (default: the calibrated 1-in-1000 false-accept point)")
	asJSON := fs.Bool("json", false, "print JSON")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: facekit compare [flags] IMAGE_A IMAGE_B")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		fs.Usage()
		return errUsage
	}
	eng, err := openEngine(*cfg)
	if err != nil {
		return err
	}
	defer eng.Close()
	opts := engine.Options{Upsample: -1, MaxFaces: 1, Descriptors: true}
	var desc [2]engine.Descriptor
	for i, path := range fs.Args() {
		faces, _, _, err := detectFile(eng, path, opts)
		if err != nil {
			return err
		}
		if len(faces) == 0 {
			return fmt.Errorf("%s: %w", path, errNoFace)
		}
		desc[i] = faces[0].Descriptor
	}
	dist := engine.Distance(desc[0], desc[1])
	same := dist < *threshold
	far := calibration.Default().FAR(dist)
	if *asJSON {
		return json.NewEncoder(stdout).Encode(map[string]any{
			"distance": round(dist, 4), "threshold": *threshold, "same": same, "false_accept_rate": far,
		})
	}
	verdict := "different people"
	if same {
		verdict = "same person"
	}
	fmt.Fprintf(stdout, "distance %.4f (threshold %.2f): %s; an impostor pair is this close with probability %.2g\n", dist, *threshold, verdict, far)
	return nil
}
