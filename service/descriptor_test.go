package service

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/facekit/facekit/calibration"
	"github.com/facekit/facekit/descriptor"
	"github.com/facekit/facekit/internal/missing"
	"github.com/facekit/facekit/internal/testenv"
	"github.com/facekit/facekit/store"
	"github.com/facekit/facekit/store/sqlite"
)

// mobilefaceCurve measures a small distance → FAR curve for mobileface on
// the shared test faces (person = file name without digits), in cosine
// distance as descriptor.Compare reads it. It has few pairs, so only its
// order matters here, not its values.
func mobilefaceCurve(t *testing.T, s *Service, app string) *calibration.Curve {
	t.Helper()
	dir := filepath.Join(testenv.TestData(t), "faces")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var samples []calibration.Sample
	for _, e := range entries {
		raw, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		det, err := s.DetectFaces(context.Background(), app, ImageSource{Kind: ImageBytes, Bytes: raw}, DetectOptions{})
		if err != nil || det.Faces[0].Vector == nil {
			continue // no face found: not a sample
		}
		label := strings.TrimRight(strings.TrimSuffix(e.Name(), filepath.Ext(e.Name())), "0123456789")
		samples = append(samples, calibration.Sample{Label: label, Path: e.Name(), Vector: det.Faces[0].Vector})
	}
	dist, err := calibration.Measure(samples)
	if err != nil {
		t.Fatal(err)
	}
	curve, err := calibration.Fit(dist, calibration.FitOptions{Model: "mobileface", Source: "test faces", MinSupport: 10})
	if err != nil {
		t.Fatal(err)
	}
	// Measure compares Euclidean; the vectors are unit length, so the
	// cosine distance is e²/2.
	for i := range curve.Points {
		curve.Points[i].Distance = curve.Points[i].Distance * curve.Points[i].Distance / 2
	}
	return curve
}

// TestServeOtherDescriptor runs the core with mobileface instead of the
// ResNet: faces are described (and cached, enrolled, searched and
// compared) as mobileface vectors under the cosine metric, enrolment keeps
// a source crop, and a curve of another model is refused.
func TestServeOtherDescriptor(t *testing.T) {
	if testing.Short() {
		t.Skip("describes the 34 shared test faces to measure a curve")
	}
	eng := testenv.Engine(t)
	mobile, err := descriptor.Open("mobileface", descriptor.Env{HumanModels: filepath.Join(testenv.ModelDir(t), "human-models")})
	if err != nil {
		missing.Data(t, missing.ModelDir, "mobileface: %v", err)
	}
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "facekit.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	app, _, err := db.CreateApp(ctx, "test")
	if err != nil {
		t.Fatal(err)
	}
	deps := Deps{Engine: eng, Library: db, Searcher: db, Apps: db, FaceTokens: db, Descriptor: mobile}

	if deps.Curve, err = calibration.ForModel(descriptor.ResNet); err != nil {
		t.Fatal(err)
	}
	if _, err := New(Config{}, deps); err == nil || !strings.Contains(err.Error(), `curve is for "dlib_resnet_v1"`) {
		t.Fatalf("New with the ResNet's curve for mobileface: %v", err)
	}
	// A first service measures the curve the second one scores with.
	deps.Curve = &calibration.Curve{Model: "mobileface", Points: []calibration.Point{{Distance: 1, FAR: 1}}}
	first, err := New(Config{}, deps)
	if err != nil {
		t.Fatal(err)
	}
	deps.Curve = mobilefaceCurve(t, first, app.ID)
	core, err := New(Config{SourceCrops: true}, deps)
	if err != nil {
		t.Fatal(err)
	}
	if core.Model() != "mobileface" {
		t.Fatalf("model %q", core.Model())
	}

	detect := func(name string) Face {
		raw, err := os.ReadFile(testenv.Face(t, name))
		if err != nil {
			t.Fatal(err)
		}
		f, err := core.DetectOne(ctx, app.ID, ImageSource{Kind: ImageBytes, Bytes: raw})
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	enrolled := detect("jimin.jpg")
	if enrolled.Model != "mobileface" || len(enrolled.Vector) != descriptor.MobileFace.Dim || enrolled.HasDescriptor {
		t.Fatalf("face: model %q, %d-d, ResNet computed %v; want mobileface, 256-d, no ResNet pass", enrolled.Model, len(enrolled.Vector), enrolled.HasDescriptor)
	}
	if _, err := core.Enroll(ctx, app.ID, store.User{GroupID: "g", UserID: "jimin"}, enrolled, store.ActionAppend); err != nil {
		t.Fatal(err)
	}
	if _, err := core.Enroll(ctx, app.ID, store.User{GroupID: "g", UserID: "bona"}, detect("bona.jpg"), store.ActionAppend); err != nil {
		t.Fatal(err)
	}
	faces, err := db.ListFaces(ctx, app.ID, "g", "jimin")
	if err != nil || faces[0].Embedding.Model != "mobileface" {
		t.Fatalf("enrolled: %+v %v", faces, err)
	}
	if src, err := db.SourceCrop(ctx, app.ID, "g", "jimin", faces[0].Token); err != nil || src == nil || len(src.Landmarks) != 68 {
		t.Fatalf("source crop: %v %v", src, err)
	}

	probe := detect("jimin2.jpg")
	cands, err := core.Search(ctx, app.ID, []string{"g"}, probe, "", 2)
	if err != nil {
		t.Fatal(err)
	}
	want := Distance(probe, enrolled)
	if cands[0].UserID != "jimin" || math.Abs(cands[0].Distance-want) > 1e-4 {
		t.Fatalf("search: %+v; want jimin at the cosine distance %.4f", cands, want)
	}
	direct, _ := descriptor.Distance(descriptor.Cosine, probe.Vector, enrolled.Vector)
	if math.Abs(want-direct) > 1e-9 {
		t.Errorf("Distance %.6f, cosine %.6f", want, direct)
	}
	if same, other := core.FAR(cands[0].Distance), core.FAR(cands[1].Distance); same >= other {
		t.Errorf("FAR of the same person %.3g not below another's %.3g", same, other)
	}

	// The cached token recalls the mobileface vector.
	recalled, err := core.RecallFace(ctx, app.ID, probe.Token)
	if err != nil || recalled.Model != "mobileface" || Distance(recalled, probe) > 1e-6 {
		t.Fatalf("recall: %+v %v", recalled.Model, err)
	}
}
