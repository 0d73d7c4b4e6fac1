package baidu_test

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/facekit/facekit/engine"
	"github.com/facekit/facekit/engine/attributes"
	"github.com/facekit/facekit/engine/imageio"
	"github.com/facekit/facekit/engine/liveness"
	"github.com/facekit/facekit/internal/testenv"
	"github.com/facekit/facekit/server"
	"github.com/facekit/facekit/server/baidu"
	"github.com/facekit/facekit/service"
)

// The tests here run the server with the human models (engine/attributes,
// engine/liveness) and check what face_field, liveness_control and
// faceverify answer over HTTP.

var (
	humanOnce sync.Once
	sharedAtt *attributes.Analyzer
	sharedLiv *liveness.Checker
	humanErr  error
)

// mustHumanModels returns the attribute analyzer and liveness checker,
// loaded once per test binary, or skips when the models are absent.
func mustHumanModels(tb testing.TB) (*attributes.Analyzer, *liveness.Checker) {
	tb.Helper()
	humanOnce.Do(func() {
		dir := filepath.Join(testenv.ModelDir(tb), "human-models")
		if sharedAtt, humanErr = attributes.New(dir); humanErr != nil {
			return
		}
		sharedLiv, humanErr = liveness.New(dir)
	})
	if errors.Is(humanErr, engine.ErrModelMissing) {
		tb.Skipf("human models not provisioned: %v", humanErr)
	}
	if humanErr != nil {
		tb.Fatal(humanErr)
	}
	return sharedAtt, sharedLiv
}

// withHumanModels gives the server the attribute analyzer and the liveness
// checker.
func withHumanModels(a *attributes.Analyzer, l *liveness.Checker) option {
	return func(_ *service.Config, d *service.Deps, _ *server.Config) { d.Attributes, d.Liveness = a, l }
}

// attrFace is a face_list entry with every field these tests read; the
// pointers tell absent fields from zero values.
type attrFace struct {
	FaceToken string   `json:"face_token"`
	Location  *loc     `json:"location"`
	Age       *float64 `json:"age"`
	Gender    *typed   `json:"gender"`
	Emotion   *typed   `json:"emotion"`
	Glasses   *typed   `json:"glasses"`
	FaceType  *typed   `json:"face_type"`
	Beauty    *float64 `json:"beauty"`
	Liveness  *struct {
		LiveMapScore *float64 `json:"livemapscore"`
	} `json:"liveness"`
	FaceProbability *float64 `json:"face_probability"`
	Angle           *struct{ Yaw, Pitch, Roll float64 }
}

type typed struct {
	Type        string  `json:"type"`
	Probability float64 `json:"probability"`
}

const allFields = "age,beauty,expression,face_shape,gender,glasses,landmark,landmark150,quality,eye_status,emotion,face_type"

func TestDetectAttributes(t *testing.T) {
	eng := testenv.Engine(t)
	att, liv := mustHumanModels(t)
	photos := []string{"jimin.jpg", "tzuyu.jpg", "bona2.jpg"}
	if testing.Short() {
		photos = photos[:1]
	}
	testenv.Photo(t, photos[0])
	e := mustStart(t, eng, withHumanModels(att, liv))
	oneOf := func(v string, allowed ...string) bool {
		for _, a := range allowed {
			if v == a {
				return true
			}
		}
		return false
	}
	for _, name := range photos {
		t.Run("WellFormed/"+name, func(t *testing.T) {
			e := e.with(t)
			var res struct {
				FaceList []attrFace `json:"face_list"`
			}
			a := e.must(v3+"/detect", obj{"image": b64(testenv.Photo(t, name)), "image_type": "BASE64", "face_field": allFields}, &res)
			if len(res.FaceList) != 1 {
				t.Fatalf("face_list %s", a.Result)
			}
			f := res.FaceList[0]
			if f.Age == nil || *f.Age < 0 || *f.Age > 100 {
				t.Errorf("age %v, want 0..100", f.Age)
			}
			if f.Gender == nil || !oneOf(f.Gender.Type, "male", "female") || f.Gender.Probability < 0 || f.Gender.Probability > 1 {
				t.Errorf("gender %+v", f.Gender)
			}
			// pouty and grimace are in Baidu's list but no model here has them.
			if f.Emotion == nil || !oneOf(f.Emotion.Type, "angry", "disgust", "fear", "happy", "sad", "surprise", "neutral") ||
				f.Emotion.Probability < 0 || f.Emotion.Probability > 1 {
				t.Errorf("emotion %+v", f.Emotion)
			}
			if f.Glasses == nil || !oneOf(f.Glasses.Type, "none", "common", "sun") || f.Glasses.Probability < 0 || f.Glasses.Probability > 1 {
				t.Errorf("glasses %+v", f.Glasses)
			}
			// Nothing measures these: absent, never invented.
			if f.FaceType != nil || f.Beauty != nil || strings.Contains(string(a.Result), `"liveness"`) {
				t.Errorf("face_type, beauty or liveness present: %s", a.Result)
			}
		})
	}
	t.Run("OnlyWhatIsAsked", func(t *testing.T) {
		e := e.with(t)
		var res struct {
			FaceList []attrFace `json:"face_list"`
		}
		e.must(v3+"/detect", obj{"image": b64(testenv.Photo(t, photos[0])), "image_type": "BASE64", "face_field": "age"}, &res)
		f := res.FaceList[0]
		if f.Age == nil || f.Gender != nil || f.Emotion != nil || f.Glasses != nil {
			t.Fatalf("face_field=age answered %+v", f)
		}
	})
}

func TestModelFieldsAbsentWithoutHumanModels(t *testing.T) {
	eng := testenv.Engine(t)
	e := mustStart(t, eng) // no Attributes, no Liveness
	img := b64(testenv.Photo(t, "jimin.jpg"))

	t.Run("DetectOmitsModelFields", func(t *testing.T) {
		e := e.with(t)
		var res struct {
			FaceList []attrFace `json:"face_list"`
		}
		a := e.must(v3+"/detect", obj{"image": img, "image_type": "BASE64", "face_field": allFields}, &res)
		f := res.FaceList[0]
		if f.Age != nil || f.Gender != nil || f.Emotion != nil || f.Glasses != nil || f.FaceType != nil || f.Beauty != nil {
			t.Fatalf("model fields without the models: %s", a.Result)
		}
		if f.Location == nil || !strings.Contains(string(a.Result), `"eye_status"`) {
			t.Fatalf("the landmark fields should still be there: %s", a.Result)
		}
	})
	t.Run("LivenessControlUnavailable6", func(t *testing.T) {
		e.with(t).expect(baidu.CodeNoPermission, v3+"/detect", obj{"image": img, "image_type": "BASE64", "liveness_control": "LOW"})
	})
	t.Run("LivenessNoneStillWorks", func(t *testing.T) {
		e.with(t).must(v3+"/detect", obj{"image": img, "image_type": "BASE64", "liveness_control": "NONE"}, nil)
	})
	t.Run("FaceverifyUnavailable6", func(t *testing.T) {
		e.with(t).expect(baidu.CodeNoPermission, v3+"/faceverify", []obj{{"image": img, "image_type": "BASE64"}})
	})
}

// nuaaCrop is one NUAA crop with face_liveness as the checker scores it on
// the face the server's detector finds.
type nuaaCrop struct {
	path  string
	data  []byte
	score float64
}

// nuaaCrops scores the first n crops (sorted by name) of one subject's
// live or print folder.
func nuaaCrops(t *testing.T, eng *engine.Engine, liv *liveness.Checker, kind, subject string, n int) []nuaaCrop {
	t.Helper()
	dir := filepath.Join(testenv.TestData(t), "spoof-nuaa", kind, subject)
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		t.Skipf("NUAA crops not present: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	var out []nuaaCrop
	for _, name := range names {
		if len(out) == n {
			break
		}
		p := filepath.Join(dir, name)
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		img, err := imageio.Decode(data, imageio.DefaultLimits())
		if err != nil {
			t.Fatal(err)
		}
		// The options the server's DetectFaces uses, so that the face (and
		// so the score) is the one the server scores.
		faces, err := eng.Analyze(context.Background(), img, engine.Options{Upsample: -1, MaxFaces: 1, Landmarks: true, Descriptors: true})
		if err != nil {
			t.Fatal(err)
		}
		if len(faces) == 0 {
			continue
		}
		s, err := liv.Score(img, faces[0])
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, nuaaCrop{p, data, s})
	}
	return out
}

func TestLivenessControl(t *testing.T) {
	eng := testenv.Engine(t)
	att, liv := mustHumanModels(t)
	n := 4
	if testing.Short() {
		n = 2
	}
	// Subjects picked from the scores measured when this test was written
	// (print 0006 mostly scores below the HIGH threshold, live 0001 above
	// LOW); the assertions below do not depend on that choice.
	crops := append(nuaaCrops(t, eng, liv, "live", "0001", n), nuaaCrops(t, eng, liv, "print", "0006", n)...)
	e := mustStart(t, eng, withHumanModels(att, liv))

	// The liveness package guarantees no per-image outcome, so every
	// answer is judged against the checker's own score and the level's
	// threshold: the server must reject exactly the faces below it.
	levels := []liveness.Level{liveness.LevelLow, liveness.LevelNormal, liveness.LevelHigh}
	rejected, passed := 0, 0
	for _, c := range crops {
		for _, lv := range levels {
			want := baidu.CodeSuccess
			if c.score < liveness.Threshold(lv) {
				want = baidu.CodeLivenessFail
			}
			a := e.with(t).call(v3+"/detect", obj{"image": b64(c.data), "image_type": "BASE64", "liveness_control": lv.String()})
			if a.ErrorCode != want {
				t.Errorf("%s (face_liveness %.4f) at %s: error_code %d, want %d (threshold %.4f)",
					filepath.Base(c.path), c.score, lv, a.ErrorCode, want, liveness.Threshold(lv))
			}
			if want == baidu.CodeSuccess {
				passed++
			} else {
				rejected++
				if a.ErrorMsg != baidu.Message(baidu.CodeLivenessFail) {
					t.Errorf("error_msg %q", a.ErrorMsg)
				}
			}
		}
	}
	t.Logf("%d crops × %d levels: %d passed, %d rejected", len(crops), len(levels), passed, rejected)

	// A crop that fails HIGH must be refused by every endpoint that takes
	// liveness_control, after quality and before recognition.
	var low *nuaaCrop
	for i := range crops {
		if crops[i].score < liveness.Threshold(liveness.LevelHigh) && (low == nil || crops[i].score < low.score) {
			low = &crops[i]
		}
	}
	if low == nil {
		t.Logf("no crop scored below the HIGH threshold %.4f; endpoint checks skipped", liveness.Threshold(liveness.LevelHigh))
		return
	}
	img := b64(low.data)
	t.Run("UserAddRefused223120", func(t *testing.T) {
		e := e.with(t)
		e.expect(baidu.CodeLivenessFail, v3+"/faceset/user/add", obj{"image": img, "image_type": "BASE64",
			"group_id": "g", "user_id": "u", "liveness_control": "HIGH"})
	})
	t.Run("MatchRefused223120", func(t *testing.T) {
		e := e.with(t)
		e.expect(baidu.CodeLivenessFail, v3+"/match", []obj{
			{"image": img, "image_type": "BASE64", "liveness_control": "HIGH"},
			{"image": img, "image_type": "BASE64"},
		})
	})
	t.Run("MingjingRegisterImageRefused223120", func(t *testing.T) {
		e := e.with(t)
		e.expect(baidu.CodeLivenessFail, "/rest/2.0/face/v4/mingjing/match", obj{"image": img, "register_image": img,
			"register_liveness_control": "HIGH"})
	})
	t.Run("MultiSearchLeavesTheFaceOut", func(t *testing.T) {
		e := e.with(t)
		// Without the control the face reaches the search (and the
		// missing group); with it the face is dropped, so nobody matched.
		body := obj{"image": img, "image_type": "BASE64", "group_id_list": "nogroup"}
		e.expect(baidu.CodeGroupNotExist, v3+"/multi-search", body)
		body["liveness_control"] = "HIGH"
		e.expect(baidu.CodeMatchUserNotFound, v3+"/multi-search", body)
	})
	t.Run("FaceTokenCannotBeScored223120", func(t *testing.T) {
		e := e.with(t)
		var res struct {
			FaceList []attrFace `json:"face_list"`
		}
		e.must(v3+"/detect", obj{"image": img, "image_type": "BASE64"}, &res)
		e.expect(baidu.CodeLivenessFail, v3+"/detect", obj{"image": res.FaceList[0].FaceToken, "image_type": "FACE_TOKEN", "liveness_control": "LOW"})
	})
}

func TestFaceverify(t *testing.T) {
	eng := testenv.Engine(t)
	att, liv := mustHumanModels(t)
	crops := nuaaCrops(t, eng, liv, "live", "0004", 3)
	if len(crops) < 3 {
		t.Skipf("only %d NUAA crops with a face", len(crops))
	}
	e := mustStart(t, eng, withHumanModels(att, liv))
	type result struct {
		FaceLiveness *float64            `json:"face_liveness"`
		Thresholds   map[string]*float64 `json:"thresholds"`
		FaceList     []attrFace          `json:"face_list"`
	}
	check := func(t *testing.T, res result, cs []nuaaCrop) {
		t.Helper()
		if res.FaceLiveness == nil || len(res.FaceList) != len(cs) {
			t.Fatalf("face_liveness %v, %d faces for %d images", res.FaceLiveness, len(res.FaceList), len(cs))
		}
		th := liveness.CalibratedThresholds()
		for k, v := range map[string]float64{"frr_1e-4": th.FRR1e4, "frr_1e-3": th.FRR1e3, "frr_1e-2": th.FRR1e2} {
			if res.Thresholds[k] == nil || math.Abs(*res.Thresholds[k]-v) > 1e-9 {
				t.Errorf("thresholds[%s] = %v, want %v", k, res.Thresholds[k], v)
			}
		}
		best := -1.0
		for i, f := range res.FaceList {
			if f.Liveness == nil || f.Liveness.LiveMapScore == nil || f.Location == nil || f.FaceProbability == nil || f.Angle == nil || len(f.FaceToken) != 32 {
				t.Fatalf("face %d: %+v", i, f)
			}
			s := *f.Liveness.LiveMapScore
			// The same score the checker gives (rounded to 4 decimals).
			if math.Abs(s-cs[i].score) > 1e-4 {
				t.Errorf("face %d livemapscore %v, checker %v", i, s, cs[i].score)
			}
			best = max(best, s)
		}
		if *res.FaceLiveness != best {
			t.Errorf("face_liveness %v, want the best livemapscore %v", *res.FaceLiveness, best)
		}
	}
	t.Run("OneImage", func(t *testing.T) {
		var res result
		e.with(t).must(v3+"/faceverify", []obj{{"image": b64(crops[0].data), "image_type": "BASE64"}}, &res)
		check(t, res, crops[:1])
		if res.FaceList[0].Age != nil {
			t.Errorf("age without face_field")
		}
	})
	t.Run("ThreeImagesWithFaceField", func(t *testing.T) {
		var res result
		body := make([]obj, 3)
		for i, c := range crops[:3] {
			body[i] = obj{"image": b64(c.data), "image_type": "BASE64", "face_field": "age,gender"}
		}
		a := e.with(t).must(v3+"/faceverify", body, &res)
		check(t, res, crops[:3])
		for i, f := range res.FaceList {
			if f.Age == nil || f.Gender == nil {
				t.Errorf("face %d: no age/gender for face_field=age,gender: %s", i, a.Result)
			}
		}
		var raw struct {
			FaceList []map[string]json.RawMessage `json:"face_list"`
		}
		if err := json.Unmarshal(a.Result, &raw); err != nil {
			t.Fatal(err)
		}
		if _, ok := raw.FaceList[0]["beauty"]; ok {
			t.Errorf("beauty is never measured: %s", a.Result)
		}
	})
	t.Run("TwoImages222208", func(t *testing.T) {
		img := obj{"image": b64(crops[0].data), "image_type": "BASE64"}
		e.with(t).expect(baidu.CodeImageCount, v3+"/faceverify", []obj{img, img})
	})
	t.Run("FaceToken6", func(t *testing.T) {
		e := e.with(t)
		var res struct {
			FaceList []attrFace `json:"face_list"`
		}
		e.must(v3+"/detect", obj{"image": b64(crops[0].data), "image_type": "BASE64"}, &res)
		e.expect(baidu.CodeNoPermission, v3+"/faceverify", []obj{{"image": res.FaceList[0].FaceToken, "image_type": "FACE_TOKEN"}})
	})
}
