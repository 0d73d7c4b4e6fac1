package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/facekit/facekit/engine"
	"github.com/facekit/facekit/engine/imageio"
)

// engineFlags are the flags of every command that runs the engine.
type engineFlags struct {
	modelDir string
	shape    string
	detector string
	pool     int
}

func (f *engineFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.modelDir, "models", envOr("FACEKIT_MODEL_DIR", "models/data"), "directory with the model files (env FACEKIT_MODEL_DIR)")
	fs.StringVar(&f.shape, "shape-model", envOr("FACEKIT_SHAPE_MODEL", engine.DefaultShapeModel), "68-point landmark model (env FACEKIT_SHAPE_MODEL)")
	fs.StringVar(&f.detector, "detector", envOr("FACEKIT_DETECTOR", string(engine.DetectorAuto)), "face detector: auto (HOG, the CNN only when HOG finds nothing), hog or cnn (env FACEKIT_DETECTOR)")
	fs.IntVar(&f.pool, "pool", 0, "native engine instances (0 = one per CPU)")
}

func (f *engineFlags) open() (*engine.Engine, error) {
	return engine.New(engine.Config{
		ModelDir:   f.modelDir,
		ShapeModel: f.shape,
		PoolSize:   f.pool,
		Detector:   engine.Detector(f.detector),
	})
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// loadImage reads and decodes an image file with the default intake limits.
func loadImage(path string) (*imageio.Image, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	img, err := imageio.Decode(data, imageio.DefaultLimits())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return img, nil
}
