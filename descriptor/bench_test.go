package descriptor

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/facekit/facekit/internal/missing"
	"github.com/facekit/facekit/internal/testenv"
)

// BenchmarkDescribe times one Describe call per model on a detected face:
// alignment, normalisation and the network, not detection.
func BenchmarkDescribe(b *testing.B) {
	e := mustEngine(b)
	img, face := mustFace(b, e, "jimin.jpg")
	env := Env{Engine: e, HumanModels: filepath.Join(testenv.ModelDir(b), "human-models")}
	for _, name := range Names() {
		b.Run(name, func(b *testing.B) {
			d, err := Open(name, env)
			if err != nil {
				missing.Data(b, missing.ModelDir, "model not available: %v", err)
			}
			ctx := context.Background()
			for b.Loop() {
				if _, err := d.Describe(ctx, img, face); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
