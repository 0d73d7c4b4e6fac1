package descriptor

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/facekit/facekit/internal/missing"
	"github.com/facekit/facekit/internal/testenv"
)

// BenchmarkDescribe times one Describe call per model on a detected face:
// alignment, normalisation and the network, not detection. Run it with
// -cpu 1 for the one-core figure; cpu-ms/op is the process CPU time, which
// a shared machine does not inflate as it does wall time.
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
			bare := face
			bare.HasDescriptor = false // time the network, not a copy
			t0 := processCPUNanos()
			for b.Loop() {
				if _, err := d.Describe(ctx, img, bare); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(processCPUNanos()-t0)/1e6/float64(b.N), "cpu-ms/op")
		})
	}
}
