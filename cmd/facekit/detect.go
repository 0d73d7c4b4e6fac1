package main

import (
	"context"
	"encoding/json"
	"fmt"
	"image"
	"io"
	"strings"

	"github.com/facekit/facekit/descriptor"
	"github.com/facekit/facekit/engine"
)

// detectedFace is the JSON form of one face printed by `facekit detect`.
type detectedFace struct {
	Box         box         `json:"box"`
	Probability float64     `json:"probability"`
	Confidence  float64     `json:"confidence"`
	Pose        engine.Pose `json:"pose"`
	Landmarks   [][2]int    `json:"landmarks,omitempty"`
	Descriptor  []float32   `json:"descriptor,omitempty"`
	// DescriptorModel names the model of Descriptor: vectors of different
	// models are not comparable.
	DescriptorModel string `json:"descriptor_model,omitempty"`
}

type box struct {
	Left   int `json:"left"`
	Top    int `json:"top"`
	Width  int `json:"width"`
	Height int `json:"height"`
}

type detectedImage struct {
	File   string         `json:"file"`
	Width  int            `json:"width"`
	Height int            `json:"height"`
	Faces  []detectedFace `json:"faces"`
	Error  string         `json:"error,omitempty"`
}

func runDetect(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("detect", stderr)
	cfg, err := engineConfig(fs, args)
	if err != nil {
		return err
	}
	asJSON := fs.Bool("json", false, "print JSON")
	withLandmarks := fs.Bool("landmarks", false, "include the 68 landmarks")
	withDescriptor := fs.Bool("descriptor", false, "include each face's descriptor, of the configured model (--descriptor-model)")
	fs.StringVar(&cfg.Engine.Descriptor, "descriptor-model", cfg.Engine.Descriptor,
		"descriptor model of --descriptor: "+strings.Join(descriptor.Names(), ", ")+" (default: config [engine] descriptor, env FACEKIT_DESCRIPTOR, else "+descriptor.Default+")")
	upsample := fs.Int("upsample", -1, "upsample the image this many times before detecting (-1: once if nothing is found)")
	maxSide := fs.Int("detect-max-side", 0, "detect on a copy shrunk to this longer side (0 = the engine bound, 2048)")
	maxFaces := fs.Int("max-faces", 0, "keep at most this many faces, largest first (0 = all)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: facekit detect [flags] IMAGE...")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return errUsage
	}
	eng, err := openEngine(*cfg)
	if err != nil {
		return err
	}
	defer eng.Close()
	var desc descriptor.Describer
	if *withDescriptor {
		if desc, err = openDescriptor(*cfg, eng); err != nil {
			return err
		}
	}

	opts := engine.Options{Upsample: *upsample, DetectMaxSide: *maxSide, MaxFaces: *maxFaces, Landmarks: true}
	var results []detectedImage
	failed := 0
	for _, path := range fs.Args() {
		res := detectedImage{File: path, Faces: []detectedFace{}}
		faces, w, h, err := detectFile(eng, desc, path, opts)
		if err != nil {
			failed++
			res.Error = err.Error()
			if fs.NArg() == 1 && !*asJSON {
				return err // one image: its error is the one line
			}
			if !*asJSON {
				fmt.Fprintf(stderr, "facekit detect: %v\n", oneLine(err))
			}
		}
		res.Width, res.Height = w, h
		for _, f := range faces {
			res.Faces = append(res.Faces, toDetected(f, *withLandmarks))
		}
		results = append(results, res)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(results); err != nil {
			return err
		}
	} else {
		printDetected(stdout, results, *withLandmarks, *withDescriptor)
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d images failed", failed, len(results))
	}
	return nil
}

// describedFace is a detected face with its descriptor, when one was asked
// for.
type describedFace struct {
	engine.Face
	Vector []float32
	Model  string
}

// detectFile detects the faces of the image at path and, when desc is not
// nil, describes each with it (the dlib ResNet inside the engine's own
// pass, another model from the landmarks afterwards).
func detectFile(eng *engine.Engine, desc descriptor.Describer, path string, opts engine.Options) ([]describedFace, int, int, error) {
	img, err := loadImage(path)
	if err != nil {
		return nil, 0, 0, err
	}
	ctx := context.Background()
	if desc != nil {
		opts.Landmarks = true // every model aligns from them
		opts.Descriptors = desc.Name() == descriptor.ResNet
	}
	faces, err := eng.Analyze(ctx, img, opts)
	if err != nil {
		return nil, img.Width, img.Height, fmt.Errorf("%s: %w", path, err)
	}
	out := make([]describedFace, len(faces))
	for i, f := range faces {
		out[i].Face = f
		if desc == nil {
			continue
		}
		if out[i].Vector, err = desc.Describe(ctx, img, f); err != nil {
			return nil, img.Width, img.Height, fmt.Errorf("%s: face %d: %w", path, i+1, err)
		}
		out[i].Model = desc.Name()
	}
	return out, img.Width, img.Height, nil
}

func toDetected(f describedFace, landmarks bool) detectedFace {
	d := detectedFace{
		Box:         boxOf(f.Rect),
		Probability: round(f.Probability, 4),
		Confidence:  round(f.Confidence, 4),
		Pose:        engine.Pose{Yaw: round(f.Pose.Yaw, 2), Pitch: round(f.Pose.Pitch, 2), Roll: round(f.Pose.Roll, 2)},
	}
	if landmarks {
		for _, p := range f.Landmarks {
			d.Landmarks = append(d.Landmarks, [2]int{p.X, p.Y})
		}
	}
	d.Descriptor, d.DescriptorModel = f.Vector, f.Model
	return d
}

func boxOf(r image.Rectangle) box {
	return box{Left: r.Min.X, Top: r.Min.Y, Width: r.Dx(), Height: r.Dy()}
}

func printDetected(w io.Writer, results []detectedImage, landmarks, descriptor bool) {
	for _, res := range results {
		if res.Error != "" {
			continue
		}
		fmt.Fprintf(w, "%s: %dx%d, %d face(s)\n", res.File, res.Width, res.Height, len(res.Faces))
		for i, f := range res.Faces {
			fmt.Fprintf(w, "  face %d: box %d,%d %dx%d  probability %.3f  yaw %+.1f pitch %+.1f roll %+.1f\n",
				i+1, f.Box.Left, f.Box.Top, f.Box.Width, f.Box.Height, f.Probability, f.Pose.Yaw, f.Pose.Pitch, f.Pose.Roll)
			if landmarks {
				fmt.Fprintf(w, "    landmarks: %v\n", f.Landmarks)
			}
			if descriptor {
				fmt.Fprintf(w, "    descriptor (%s): %v\n", f.DescriptorModel, f.Descriptor)
			}
		}
	}
}

func round(v float64, places int) float64 {
	p := 1.0
	for i := 0; i < places; i++ {
		p *= 10
	}
	if v < 0 {
		return -float64(int64(-v*p+0.5)) / p
	}
	return float64(int64(v*p+0.5)) / p
}
