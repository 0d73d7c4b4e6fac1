package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/facekit/facekit/engine"
	"github.com/facekit/facekit/engine/imageio"
)

// engineConfig is the one config path of the commands that run the engine
// (detect, compare, models, calibrate, eval): the same Config as serve,
// from the defaults, then the TOML file (--config or $FACEKIT_CONFIG), then
// the environment, with the engine flags registered on fs so that they
// override it once fs is parsed. The file is read before the flags are
// registered so that their defaults show the effective values.
func engineConfig(fs *flag.FlagSet, args []string) (*Config, error) {
	cfg, err := loadConfig(configFlag(args), os.Getenv)
	if err != nil {
		return nil, err
	}
	fs.String("config", "", "TOML config file (env FACEKIT_CONFIG); flags override it")
	registerEngineConfigFlags(fs, &cfg)
	return &cfg, nil
}

// registerEngineConfigFlags adds the engine flags of the offline commands,
// defaulting to cfg's values (the config file's and the environment's).
func registerEngineConfigFlags(fs *flag.FlagSet, cfg *Config) {
	fs.StringVar(&cfg.Engine.Models, "models", cfg.Engine.Models, "directory with the model files (config [engine] models, env FACEKIT_MODEL_DIR)")
	fs.StringVar(&cfg.Engine.ShapeModel, "shape-model", cfg.Engine.ShapeModel, "68-point landmark model (default: Debian's libdlib-data copy; env FACEKIT_SHAPE_MODEL)")
	fs.StringVar(&cfg.Engine.Detector, "detector", cfg.Engine.Detector, "face detector: auto (HOG, the CNN only when HOG finds nothing), hog, cnn (cnn also finds turned faces, but takes seconds per photo) or ssd (face-api SSD MobileNet v1, see docs/detectors.md; env FACEKIT_DETECTOR)")
	fs.IntVar(&cfg.Engine.Pool, "pool", cfg.Engine.Pool, "native engine instances (0 = one per CPU; env FACEKIT_POOL)")
}

// openEngine starts the engine cfg describes.
func openEngine(cfg Config) (*engine.Engine, error) {
	return engine.New(engine.Config{
		ModelDir:      cfg.Engine.Models,
		ShapeModel:    cfg.Engine.ShapeModel,
		PoolSize:      cfg.Engine.Pool,
		Detector:      engine.Detector(cfg.Engine.Detector),
		DetectMaxSide: cfg.Engine.DetectMaxSide,
	})
}

// shapeModel is the landmark model file cfg names, else Debian's.
func shapeModel(cfg Config) string {
	if cfg.Engine.ShapeModel != "" {
		return cfg.Engine.ShapeModel
	}
	return engine.DefaultShapeModel
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
