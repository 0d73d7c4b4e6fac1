package imageio_test

import (
	"fmt"
	"os"
	"testing"

	"github.com/facekit/facekit/engine/imageio"
	"github.com/facekit/facekit/internal/testenv"
)

// BenchmarkDecode decodes real test photos of several sizes and JPEG
// flavours (baseline and progressive) through the whole intake.
func BenchmarkDecode(b *testing.B) {
	for _, name := range []string{"jimin.jpg", "bona.jpg", "bona2.jpg", "bona3.jpg"} {
		data, err := os.ReadFile(testenv.Face(b, name))
		if err != nil {
			b.Fatal(err)
		}
		img, err := imageio.Decode(data, imageio.DefaultLimits())
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("%s/%dx%d", name, img.Width, img.Height), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := imageio.Decode(data, imageio.DefaultLimits()); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(img.Width*img.Height)*float64(b.N)/b.Elapsed().Seconds()/1e6, "Mpx/s")
		})
	}
}
