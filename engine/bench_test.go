package engine_test

import (
	"bytes"
	"context"
	"image"
	"image/jpeg"
	"testing"

	"golang.org/x/image/draw"

	"github.com/facekit/facekit/descriptor"
	"github.com/facekit/facekit/engine"
	"github.com/facekit/facekit/engine/imageio"
	"github.com/facekit/facekit/internal/missing"
)

// vga returns a 640×480 copy of a test photo (crop to 4:3, then resize) and
// its JPEG encoding, the size the stage benchmarks are quoted at.
func vga(b *testing.B, name string) (*imageio.Image, []byte) {
	b.Helper()
	src := mustImage(b, name)
	w := src.Width
	h := w * 3 / 4
	if h > src.Height {
		h = src.Height
		w = h * 4 / 3
	}
	crop := image.Rect((src.Width-w)/2, (src.Height-h)/2, (src.Width+w)/2, (src.Height+h)/2)
	dst := image.NewRGBA(image.Rect(0, 0, 640, 480))
	draw.CatmullRom.Scale(dst, dst.Bounds(), src, crop, draw.Src, nil)
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, dst, &jpeg.Options{Quality: 90}); err != nil {
		b.Fatal(err)
	}
	img, err := imageio.Decode(buf.Bytes(), imageio.DefaultLimits())
	if err != nil {
		b.Fatal(err)
	}
	return img, buf.Bytes()
}

func BenchmarkDecodeJPEG640x480(b *testing.B) {
	_, data := vga(b, "jimin.jpg")
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := imageio.Decode(data, imageio.DefaultLimits()); err != nil {
			b.Fatal(err)
		}
	}
}

func benchAnalyze(b *testing.B, opts engine.Options) {
	e := mustEngine(b)
	img, _ := vga(b, "jimin.jpg")
	if faces, err := e.Analyze(context.Background(), img, opts); err != nil || len(faces) == 0 {
		b.Fatalf("no face in the benchmark photo (err %v)", err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := e.Analyze(context.Background(), img, opts); err != nil {
			b.Fatal(err)
		}
	}
}

// Stage costs: DetectHOG is detection alone; Landmarks adds the shape fit
// and pose; Pipeline adds the descriptor (the whole per-image cost).
func BenchmarkDetectHOG640x480(b *testing.B) { benchAnalyze(b, engine.Options{}) }
func BenchmarkLandmarks640x480(b *testing.B) { benchAnalyze(b, engine.Options{Landmarks: true}) }
func BenchmarkPipeline640x480(b *testing.B)  { benchAnalyze(b, engine.Options{Descriptors: true}) }
func BenchmarkDetectCNN640x480(b *testing.B) {
	if !mustEngine(b).HasCNN() {
		missing.Data(b, missing.ModelDir, "CNN model mmod_human_face_detector.dat not provisioned")
	}
	benchAnalyze(b, engine.Options{Detector: engine.DetectorCNN})
}

// BenchmarkDescriptor times the descriptor stage alone on faces whose
// landmarks are already known.
func BenchmarkDescriptor(b *testing.B) {
	e := mustEngine(b)
	img, _ := vga(b, "jimin.jpg")
	faces, err := e.Analyze(context.Background(), img, engine.Options{Landmarks: true})
	if err != nil || len(faces) == 0 {
		b.Fatalf("no face (err %v)", err)
	}
	faces = faces[:1]
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := e.Describe(context.Background(), img, faces); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPipelineParallel runs whole-image analyses on every pool
// instance at once; compare ns/op at -cpu 1,2 for the scaling.
func BenchmarkPipelineParallel(b *testing.B) {
	e := mustEngine(b)
	img, _ := vga(b, "jimin.jpg")
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := e.Analyze(context.Background(), img, engine.Options{Descriptors: true}); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkDescribePath640x480 compares the two roads to a face's ResNet
// descriptor, interleaved (run with -count) so that a shared machine's load
// falls on both alike: InAnalyze computes it in the Analyze pass (the
// service's road for the default model before issue 12); Describer runs
// Analyze for landmarks and then the ResNet's descriptor.Describer, the
// road every model, the default included, now takes in the service.
func BenchmarkDescribePath640x480(b *testing.B) {
	e := mustEngine(b)
	img, _ := vga(b, "jimin.jpg")
	ctx := context.Background()
	resnet, err := descriptor.Open(descriptor.ResNet, descriptor.Env{Engine: e})
	if err != nil {
		b.Fatal(err)
	}
	b.Run("InAnalyze", func(b *testing.B) {
		for b.Loop() {
			faces, err := e.Analyze(ctx, img, engine.Options{Upsample: -1, MaxFaces: 1, Landmarks: true, Descriptors: true})
			if err != nil || len(faces) == 0 || !faces[0].HasDescriptor {
				b.Fatalf("no described face (err %v)", err)
			}
		}
	})
	b.Run("Describer", func(b *testing.B) {
		for b.Loop() {
			faces, err := e.Analyze(ctx, img, engine.Options{Upsample: -1, MaxFaces: 1, Landmarks: true})
			if err != nil || len(faces) == 0 {
				b.Fatalf("no face (err %v)", err)
			}
			if _, err := resnet.Describe(ctx, img, faces[0]); err != nil {
				b.Fatal(err)
			}
		}
	})
}
