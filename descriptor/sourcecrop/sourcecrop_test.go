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
	"github.com/facekit/facekit/internal/testenv"
	"github.com/facekit/facekit/store"
)

// loadFace returns a photo of testdata/faces and its largest face.
func loadFace(t *testing.T, eng *engine.Engine, name string) (*imageio.Image, engine.Face) {
	t.Helper()
	raw, err := os.ReadFile(testenv.Face(t, name))
	if err != nil {
		t.Fatal(err)
	}
	img, err := imageio.Decode(raw, imageio.DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	faces, err := eng.Analyze(context.Background(), img, engine.Options{Upsample: -1, MaxFaces: 1, Landmarks: true, Descriptors: true})
	if err != nil || len(faces) == 0 {
		t.Fatalf("%s: %d faces, %v", name, len(faces), err)
	}
	return img, faces[0]
}

// meanAbsDiff compares two equally sized images channel by channel.
func meanAbsDiff(a, b *imageio.Image) float64 {
	var s float64
	for y := 0; y < a.Height; y++ {
		for x := 0; x < a.Width; x++ {
			r1, g1, b1 := a.RGBAt(x, y)
			r2, g2, b2 := b.RGBAt(x, y)
			s += abs(int(r1)-int(r2)) + abs(int(g1)-int(g2)) + abs(int(b1)-int(b2))
		}
	}
	return s / float64(3*a.Width*a.Height)
}

func abs(d int) float64 {
	if d < 0 {
		return float64(-d)
	}
	return float64(d)
}

// TestCropHoldsEveryModelsAlignment checks the package's geometric claim on
// real faces: the crops the models cut (dlib's 150×150 chip, faceres'
// zoomed 224×224 crop, the 112×112 ArcFace crop) come out of the source crop
// nearly as they come out of the photo, and descriptors recomputed from it
// stay far closer to the originals than the models' match thresholds.
func TestCropHoldsEveryModelsAlignment(t *testing.T) {
	eng := testenv.Engine(t)
	mobile, err := descriptor.Open(descriptor.MobileFace.Name, descriptor.Env{
		Engine: eng, HumanModels: filepath.Join(testenv.ModelDir(t), "human-models")})
	if err != nil {
		t.Skipf("mobileface: %v", err)
	}
	ctx := context.Background()
	for _, name := range []string{"jimin.jpg", "bona.jpg", "chaeyeon2.jpg", "elkie.jpg"} {
		t.Run(name, func(t *testing.T) {
			img, f := loadFace(t, eng, name)
			src, err := sourcecrop.Make(img, f)
			if err != nil {
				t.Fatal(err)
			}
			cimg, cf, err := sourcecrop.Open(src)
			if err != nil {
				t.Fatal(err)
			}
			if cimg.Width != sourcecrop.Size || cimg.Height != sourcecrop.Size {
				t.Fatalf("crop is %dx%d", cimg.Width, cimg.Height)
			}
			t.Logf("%s: source crop %d bytes", name, len(src.JPEG))

			// dlib's chip: a part of it falling outside the crop would be
			// black and blow the difference up to ~50+.
			a, err := engine.Chip(img, f, 150, 0.25)
			if err != nil {
				t.Fatal(err)
			}
			b, err := engine.Chip(cimg, cf, 150, 0.25)
			if err != nil {
				t.Fatal(err)
			}
			// The TF models' crops, aligned on the five points.
			warp := func(im *imageio.Image, fc engine.Face, size int, zoom float64) *imageio.Image {
				p, err := descriptor.FivePoints(fc)
				if err != nil {
					t.Fatal(err)
				}
				ref := descriptor.Reference(size, zoom)
				return descriptor.WarpSimilarity(im, descriptor.EstimateSimilarity(p[:], ref[:]), size)
			}
			for _, c := range []struct {
				model  string
				a, b   *imageio.Image
				maxMAD float64
			}{
				{"dlib chip 150", a, b, 12},
				{"faceres 224 zoom 0.8", warp(img, f, 224, 0.8), warp(cimg, cf, 224, 0.8), 12},
				{"arcface 112", warp(img, f, 112, 1), warp(cimg, cf, 112, 1), 12},
			} {
				mad := meanAbsDiff(c.a, c.b)
				t.Logf("%s: %s mean |Δ| %.2f of 255", name, c.model, mad)
				if mad > c.maxMAD {
					t.Errorf("%s: %s from the crop differs by %.1f per channel", name, c.model, mad)
				}
			}

			// Descriptors: ResNet (Euclidean, match below 0.6) and mobileface
			// (cosine).
			faces := []engine.Face{cf}
			if err := eng.Describe(ctx, cimg, faces); err != nil {
				t.Fatal(err)
			}
			dr := engine.Distance(f.Descriptor, faces[0].Descriptor)
			v1, err := mobile.Describe(ctx, img, f)
			if err != nil {
				t.Fatal(err)
			}
			v2, err := mobile.Describe(ctx, cimg, cf)
			if err != nil {
				t.Fatal(err)
			}
			dm, err := descriptor.Distance(descriptor.Cosine, v1, v2)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: re-described from the crop: ResNet moved %.3f (threshold 0.6), mobileface %.3f cosine", name, dr, dm)
			if dr > 0.15 {
				t.Errorf("ResNet descriptor from the crop is %.3f from the original", dr)
			}
			if dm > 0.1 {
				t.Errorf("mobileface descriptor from the crop is %.3f from the original", dm)
			}
		})
	}
}

func TestOpenRejectsIncompleteCrops(t *testing.T) {
	if _, _, err := sourcecrop.Open(nil); err == nil {
		t.Error("nil crop opened")
	}
	if _, _, err := sourcecrop.Open(&store.SourceCrop{JPEG: []byte{0xff, 0xd8}, Landmarks: make([][2]float32, 5)}); err == nil {
		t.Error("crop with 5 landmarks opened")
	}
	if _, err := sourcecrop.Make(imageio.NewImage(10, 10), engine.Face{}); err == nil {
		t.Error("crop made of a face without landmarks")
	}
}
