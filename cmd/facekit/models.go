package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/facekit/facekit/descriptor"
	"github.com/facekit/facekit/engine"
)

func runModels(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("models", stderr)
	cfg, err := engineConfig(fs, args)
	if err != nil {
		return err
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	type entry struct{ name, path, need string }
	files := []entry{
		{"68-point landmarks", shapeModel(*cfg), "required (Debian libdlib-data; make setup)"},
		{"ResNet descriptor", filepath.Join(cfg.Engine.Models, engine.ResNetFile), "required (make models)"},
		{"MMOD CNN detector", filepath.Join(cfg.Engine.Models, engine.MMODFile), "optional, for --detector cnn (make models)"},
	}
	// The configured descriptor model's own file, when the engine does not
	// load it: the default model (mobilefacenet) is not the engine's ResNet.
	model := cfg.Engine.DescriptorModel()
	if f, err := descriptor.File(model, descriptor.Env{HumanModels: humanModelsDir(*cfg)}); err != nil {
		return err
	} else if f != "" {
		files = append(files, entry{"descriptor " + model, f, "required, the configured descriptor model (make models)"})
	}
	missing := 0
	for _, f := range files {
		st, err := os.Stat(f.path)
		if err != nil {
			fmt.Fprintf(stdout, "missing  %-20s %s  — %s\n", f.name, f.path, f.need)
			if f.need[:8] == "required" {
				missing++
			}
			continue
		}
		fmt.Fprintf(stdout, "ok       %-20s %s (%.1f MB)\n", f.name, f.path, float64(st.Size())/1e6)
	}
	if missing > 0 {
		return fmt.Errorf("%d required model file(s) missing", missing)
	}
	return nil
}
