package sourcecrop_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/facekit/facekit/descriptor"
	"github.com/facekit/facekit/descriptor/sourcecrop"
	"github.com/facekit/facekit/engine"
	"github.com/facekit/facekit/engine/imageio"
	"github.com/facekit/facekit/internal/missing"
	"github.com/facekit/facekit/internal/testenv"
)

// BenchmarkMake is the cost a source crop adds to an enrolment (warp and
// JPEG encoding of the 320×320 crop).
func BenchmarkMake(b *testing.B) {
	img, f := benchFace(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := sourcecrop.Make(img, f); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRedescribe is the per-face cost of `facekit reembed` for each
// model: decode the crop, then describe it (one goroutine).
func BenchmarkRedescribe(b *testing.B) {
	img, f := benchFace(b)
	src, err := sourcecrop.Make(img, f)
	if err != nil {
		b.Fatal(err)
	}
	env := descriptor.Env{Engine: testenv.Engine(b), HumanModels: filepath.Join(testenv.ModelDir(b), "human-models")}
	for _, name := range descriptor.Names() {
		b.Run(name, func(b *testing.B) {
			d, err := descriptor.Open(name, env)
			if err != nil {
				missing.Data(b, missing.ModelDir, "%v", err)
			}
			ctx := context.Background()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				cimg, cf, err := sourcecrop.Open(src)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := d.Describe(ctx, cimg, cf); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func benchFace(b *testing.B) (*imageio.Image, engine.Face) {
	b.Helper()
	raw, err := os.ReadFile(testenv.Face(b, "jimin.jpg"))
	if err != nil {
		b.Fatal(err)
	}
	img, err := imageio.Decode(raw, imageio.DefaultLimits())
	if err != nil {
		b.Fatal(err)
	}
	faces, err := testenv.Engine(b).Analyze(context.Background(), img, engine.Options{MaxFaces: 1, Landmarks: true})
	if err != nil || len(faces) == 0 {
		b.Fatalf("jimin.jpg: %d faces, %v", len(faces), err)
	}
	return img, faces[0]
}
