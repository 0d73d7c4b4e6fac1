package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/facekit/facekit/descriptor"
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
	fs.StringVar(&cfg.Engine.Descriptor, "descriptor", cfg.Engine.Descriptor,
		"descriptor model: "+strings.Join(descriptor.Names(), ", ")+" (default: config [engine] descriptor, env FACEKIT_DESCRIPTOR, else "+descriptor.Default+")")
	fs.StringVar(&cfg.Engine.Calibration, "calibration", cfg.Engine.Calibration, "distance→FAR curve file of the model (default: the model's embedded LFW curve)")
	threshold := fs.Float64("threshold", 0,
		"distance below which two faces are the same person, in the model's metric (0: the model's calibrated 1-in-1000 false-accept point)")
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
	// The model and its curve are settled before the engine loads: a
	// curve of another model is refused without seconds of loading.
	curve, err := curveFor(*cfg)
	if err != nil {
		return err
	}
	if *threshold == 0 {
		*threshold = curve.DistanceAtFAR(defaultCompareFAR)
	}
	eng, err := openEngine(*cfg)
	if err != nil {
		return err
	}
	defer eng.Close()
	desc, err := openDescriptor(*cfg, eng)
	if err != nil {
		return err
	}
	opts := engine.Options{Upsample: -1, MaxFaces: 1}
	var vecs [2][]float32
	for i, path := range fs.Args() {
		faces, _, _, err := detectFile(eng, desc, path, opts)
		if err != nil {
			return err
		}
		if len(faces) == 0 {
			return fmt.Errorf("%s: %w", path, errNoFace)
		}
		vecs[i] = faces[0].Vector
	}
	dist, err := descriptor.Distance(descriptor.MetricOf(desc), vecs[0], vecs[1])
	if err != nil {
		return err
	}
	same := dist < *threshold
	far := curve.FAR(dist)
	if *asJSON {
		return json.NewEncoder(stdout).Encode(map[string]any{
			"model": desc.Name(), "distance": round(dist, 4), "threshold": round(*threshold, 4), "same": same, "false_accept_rate": far,
		})
	}
	verdict := "different people"
	if same {
		verdict = "same person"
	}
	fmt.Fprintf(stdout, "%s distance %.4f (threshold %.4f): %s; an impostor pair is this close with probability %.2g\n", desc.Name(), dist, *threshold, verdict, far)
	return nil
}
