package index_test

import (
	"context"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/facekit/facekit/engine"
	"github.com/facekit/facekit/engine/imageio"
	"github.com/facekit/facekit/internal/testenv"
	"github.com/facekit/facekit/store"
	"github.com/facekit/facekit/store/index"
)

var lfwImages = flag.Int("lfw", 0, "TestFloat16OnRealDescriptors: also describe this many LFW images (people with at least two, in name order)")

// realFace is one described face and the person it shows.
type realFace struct {
	person, token string
	vec           []float32
}

// describeFaces runs the engine over the shared test photos (every face of
// faces/*.jpg; a person is the file name without digits, each face of the
// group photo its own person) and over the first n LFW images of people
// with at least two (the central face).
func describeFaces(t *testing.T, n int) []realFace {
	eng := testenv.Engine(t)
	dir := testenv.TestData(t)
	type job struct {
		path, person string
		central      bool
	}
	var jobs []job
	photos, _ := filepath.Glob(filepath.Join(dir, "faces", "*.jpg"))
	for _, p := range photos {
		name := strings.TrimSuffix(filepath.Base(p), ".jpg")
		jobs = append(jobs, job{p, strings.TrimRight(name, "0123456789"), false})
	}
	if n > 0 {
		people, _ := os.ReadDir(filepath.Join(dir, "lfw", "images"))
		for _, pe := range people {
			imgs, _ := filepath.Glob(filepath.Join(dir, "lfw", "images", pe.Name(), "*.jpg"))
			if len(imgs) < 2 {
				continue
			}
			for _, im := range imgs {
				if n == 0 {
					break
				}
				jobs = append(jobs, job{im, "lfw:" + pe.Name(), true})
				n--
			}
			if n == 0 {
				break
			}
		}
	}
	var (
		mu    sync.Mutex
		faces []realFace
		wg    sync.WaitGroup
	)
	ch := make(chan job)
	for w := 0; w < 2; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range ch {
				data, err := os.ReadFile(j.path)
				if err != nil {
					t.Error(err)
					continue
				}
				img, err := imageio.Decode(data, imageio.DefaultLimits())
				if err != nil {
					t.Errorf("%s: %v", j.path, err)
					continue
				}
				opts := engine.Options{Upsample: -1, Landmarks: true, Descriptors: true}
				if j.central {
					opts.SortByCenter, opts.MaxFaces = true, 1
				}
				found, err := eng.Analyze(context.Background(), img, opts)
				if err != nil {
					t.Errorf("%s: %v", j.path, err)
					continue
				}
				mu.Lock()
				for i, f := range found {
					person := j.person
					if len(found) > 1 {
						person = fmt.Sprintf("%s#%d", j.person, i) // faces of a group photo
					}
					vec := make([]float32, len(f.Descriptor))
					copy(vec, f.Descriptor[:])
					faces = append(faces, realFace{person, fmt.Sprintf("%s#%d", j.path, i), vec})
				}
				mu.Unlock()
			}
		}()
	}
	for _, j := range jobs {
		ch <- j
	}
	close(ch)
	wg.Wait()
	sort.Slice(faces, func(i, j int) bool { return faces[i].token < faces[j].token })
	return faces
}

// TestFloat16OnRealDescriptors compares float16 with float32 (exact) search
// on dlib descriptors of real photos, leave-one-out: every face of a person
// with several faces is searched, top 10, against all other faces. Recall@1
// (the nearest user is the right person) must be the same within 0.1%, and
// the nearest user the same for at least 99.9% of probes. With -lfw N the
// gallery grows by N LFW images (the figures in docs/benchmarks.md).
func TestFloat16OnRealDescriptors(t *testing.T) {
	if testing.Short() {
		t.Skip("describes the test photos (about 30 s of CPU); run without -short")
	}
	faces := describeFaces(t, *lfwImages)
	x16, err16 := index.NewWithOptions(index.Options{Precision: index.Float16})
	x32, err32 := index.NewWithOptions(index.Options{Precision: index.Float32})
	if err16 != nil || err32 != nil {
		t.Fatal(err16, err32)
	}
	count := map[string]int{}
	add := func(f realFace) {
		for _, x := range []*index.Index{x16, x32} {
			err := x.Update(func(w *index.Writer) error {
				return w.AddFace("a", "g", store.User{UserID: f.person}, f.token, store.Embedding{Model: engine.ModelName, Vector: f.vec})
			})
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	remove := func(f realFace) {
		for _, x := range []*index.Index{x16, x32} {
			x.Update(func(w *index.Writer) error { w.RemoveFace("a", "g", f.person, f.token); return nil })
		}
	}
	for _, f := range faces {
		add(f)
		count[f.person]++
	}
	const k = 10
	var probes, right16, right32, agree, overlap int
	var shortlisted, shortProbes, shortRows int // int8 prefilter's float16 rescoring
	maxErr := 0.0
	for _, f := range faces {
		if count[f.person] < 2 {
			continue
		}
		remove(f)
		probe := store.Embedding{Model: engine.ModelName, Vector: f.vec}
		c16, err16 := x16.Search("a", []string{"g"}, probe, "", k)
		c32, err32 := x32.Search("a", []string{"g"}, probe, "", k)
		if n, rows := x16.Shortlist("a", "g", f.vec, k); n >= 0 {
			shortlisted += n
			shortProbes++
			shortRows = rows
		}
		add(f)
		if err16 != nil || err32 != nil || len(c16) == 0 || len(c16) != len(c32) {
			t.Fatalf("%s: %d/%d candidates, %v %v", f.token, len(c16), len(c32), err16, err32)
		}
		probes++
		if c16[0].UserID == f.person {
			right16++
		}
		if c32[0].UserID == f.person {
			right32++
		}
		if c16[0].UserID == c32[0].UserID {
			agree++
		} else if len(c32) > 1 {
			// Expected only where float32 itself sees a near tie.
			t.Logf("%s: nearest user %s (float32) vs %s (float16); float32 distance %.6f, next user %.6f farther",
				f.token, c32[0].UserID, c16[0].UserID, c32[0].Distance, c32[1].Distance-c32[0].Distance)
		}
		d32 := map[string]float64{}
		for _, c := range c32 {
			d32[c.UserID] = c.Distance
		}
		for _, c := range c16 {
			if d, ok := d32[c.UserID]; ok {
				overlap++
				maxErr = max(maxErr, math.Abs(c.Distance-d))
			}
		}
	}
	if probes == 0 {
		t.Fatal("no person with two faces: nothing measured")
	}
	p := float64(probes)
	t.Logf("%d faces, %d probes: recall@1 float32 %.4f float16 %.4f; same top-1 user %.4f; top-%d overlap %.4f; max distance error %.2g",
		len(faces), probes, float64(right32)/p, float64(right16)/p, float64(agree)/p, k, float64(overlap)/(p*float64(min(k, len(count)))), maxErr)
	if shortProbes > 0 {
		t.Logf("int8 prefilter: %.1f of %d rows scored in float16 per top-%d search (mean over %d probes)",
			float64(shortlisted)/float64(shortProbes), shortRows, k, shortProbes)
	}
	if diff := math.Abs(float64(right16-right32)) / p; diff > 0.001 {
		t.Errorf("recall@1 differs by %.4f (float16 %d, float32 %d of %d)", diff, right16, right32, probes)
	}
	if float64(probes-agree) > 0.001*p {
		t.Errorf("float16 top-1 user differs from float32 on %d of %d probes", probes-agree, probes)
	}
	if maxErr > 1e-3 {
		t.Errorf("float16 distance error %g > 1e-3", maxErr)
	}
}
