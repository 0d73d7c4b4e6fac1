package baidu

import (
	"testing"

	"github.com/facekit/facekit/service"
)

// code returns the Baidu code of err, 0 for nil.
func code(err error) int {
	if err == nil {
		return 0
	}
	be, _ := toError(err)
	return be.Code
}

func TestParseBody(t *testing.T) {
	t.Run("JSONObject", func(t *testing.T) {
		req, err := parseBody([]byte(` {"group_id":"g1","max_face_num":3}`))
		if err != nil {
			t.Fatal(err)
		}
		if g, _, _ := req.obj.str("group_id", 0); g != "g1" {
			t.Fatalf("group_id = %q", g)
		}
		if n, err := req.obj.intIn("max_face_num", 1, 1, 10, CodeMaxFaceNumFormat); err != nil || n != 3 {
			t.Fatalf("max_face_num = %d, %v", n, err)
		}
	})
	t.Run("JSONArray", func(t *testing.T) {
		req, err := parseBody([]byte(`[{"image":"a","image_type":"BASE64"},{"image":"b","image_type":"URL"}]`))
		if err != nil || len(req.list) != 2 {
			t.Fatalf("list = %v, %v", req.list, err)
		}
		if s, _, _ := req.list[1].str("image_type", 0); s != "URL" {
			t.Fatalf("second image_type = %q", s)
		}
	})
	t.Run("Form", func(t *testing.T) {
		req, err := parseBody([]byte(`group_id=g1&user_info=a%20b&start=5`))
		if err != nil {
			t.Fatal(err)
		}
		if s, _, _ := req.obj.str("user_info", 0); s != "a b" {
			t.Fatalf("user_info = %q", s)
		}
		if n, err := req.obj.intIn("start", 0, 0, 100, CodeStartFormat); err != nil || n != 5 {
			t.Fatalf("start = %d, %v", n, err)
		}
	})
	t.Run("EmptyIsNoParams", func(t *testing.T) {
		req, err := parseBody(nil)
		if err != nil || len(req.obj) != 0 {
			t.Fatalf("parseBody(nil) = %v, %v", req.obj, err)
		}
	})
	t.Run("BrokenJSONIsNotJSONError", func(t *testing.T) {
		_, err := parseBody([]byte(`{"group_id":`))
		if code(err) != CodeBodyNotJSON {
			t.Fatalf("code = %d, want %d", code(err), CodeBodyNotJSON)
		}
	})
}

func TestParams(t *testing.T) {
	p := func(s string) params {
		req, err := parseBody([]byte(s))
		if err != nil {
			t.Fatal(err)
		}
		return req.obj
	}
	cases := []struct {
		name string
		fn   func() error
		want int
	}{
		{"MissingRequired", func() error { _, err := p(`{}`).required("group_id", CodeGroupIDFormat); return err }, CodeParamNull},
		{"EmptyRequired", func() error { _, err := p(`{"group_id":""}`).required("group_id", CodeGroupIDFormat); return err }, CodeParamNull},
		{"NullRequired", func() error { _, err := p(`{"group_id":null}`).required("group_id", CodeGroupIDFormat); return err }, CodeParamNull},
		{"ObjectWhereStringExpected", func() error { _, err := p(`{"group_id":{}}`).required("group_id", CodeGroupIDFormat); return err }, CodeGroupIDFormat},
		{"BadIDCharacters", func() error { _, err := p(`{"group_id":"a-b"}`).id("group_id", CodeGroupIDFormat); return err }, CodeGroupIDFormat},
		{"GoodID", func() error { _, err := p(`{"user_id":"u_1"}`).id("user_id", CodeUserIDFormat); return err }, 0},
		{"NumericIDFromPHP", func() error { _, err := p(`{"user_id":233451}`).id("user_id", CodeUserIDFormat); return err }, 0},
		{"IntNotNumber", func() error {
			_, err := p(`{"max_face_num":"x"}`).intIn("max_face_num", 1, 1, 10, CodeMaxFaceNumFormat)
			return err
		}, CodeMaxFaceNumFormat},
		{"IntFraction", func() error {
			_, err := p(`{"max_face_num":1.5}`).intIn("max_face_num", 1, 1, 10, CodeMaxFaceNumFormat)
			return err
		}, CodeMaxFaceNumFormat},
		{"IntTooLarge", func() error {
			_, err := p(`{"max_face_num":11}`).intIn("max_face_num", 1, 1, 10, CodeMaxFaceNumFormat)
			return err
		}, CodeMaxFaceNumFormat},
		{"IntAsString", func() error {
			_, err := p(`{"max_face_num":"10"}`).intIn("max_face_num", 1, 1, 10, CodeMaxFaceNumFormat)
			return err
		}, 0},
		{"ThresholdNaN", func() error {
			_, err := p(`{"match_threshold":"NaN"}`).floatIn("match_threshold", 80, 0, 100, CodeThresholdFormat)
			return err
		}, CodeThresholdFormat},
		{"ThresholdTooHigh", func() error {
			_, err := p(`{"match_threshold":101}`).floatIn("match_threshold", 80, 0, 100, CodeThresholdFormat)
			return err
		}, CodeThresholdFormat},
		{"QualityUnknownLevel", func() error { _, err := p(`{"quality_control":"MAX"}`).controls(""); return err }, CodeQualityFormat},
		{"LivenessUnknownLevel", func() error { _, err := p(`{"liveness_control":"x"}`).controls(""); return err }, CodeLivenessFormat},
		{"ControlsLowerCase", func() error { _, err := p(`{"quality_control":"normal"}`).controls(""); return err }, 0},
		{"FaceTypeUnknown", func() error { return p(`{"face_type":"SELFIE"}`).faceType("face_type") }, CodeFaceTypeFormat},
		{"ImageTypeUnknown", func() error {
			_, err := p(`{"image":"x","image_type":"FILE"}`).image("image", "image_type", "")
			return err
		}, CodeImageTypeFormat},
		{"ImageTypeMissing", func() error { _, err := p(`{"image":"x"}`).image("image", "image_type", ""); return err }, CodeParamNull},
		{"ImageMissing", func() error { _, err := p(`{"image_type":"BASE64"}`).image("image", "image_type", ""); return err }, CodeParamNull},
		{"GroupListTooLong", func() error { _, err := p(`{"group_id_list":"a,b,c,d,e,f,g,h,i,j,k"}`).groupList(); return err }, CodeGroupListTooLarge},
		{"GroupListBadID", func() error { _, err := p(`{"group_id_list":"a,b c"}`).groupList(); return err }, CodeGroupListFormat},
		{"GroupListEmptyEntry", func() error { _, err := p(`{"group_id_list":"a,,b"}`).groupList(); return err }, CodeGroupListFormat},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := code(tc.fn()); got != tc.want {
				t.Fatalf("code = %d, want %d", got, tc.want)
			}
		})
	}
	t.Run("GroupListDeduplicated", func(t *testing.T) {
		g, err := p(`{"group_id_list":"a, b,a"}`).groupList()
		if err != nil || len(g) != 2 || g[0] != "a" || g[1] != "b" {
			t.Fatalf("groupList = %v, %v", g, err)
		}
	})
	t.Run("ImageKinds", func(t *testing.T) {
		for typ, kind := range map[string]service.ImageKind{"BASE64": service.ImageBase64, "URL": service.ImageURL, "FACE_TOKEN": service.ImageFaceToken} {
			src, err := p(`{"image":"v","image_type":"`+typ+`"}`).image("image", "image_type", "")
			if err != nil || src.Kind != kind || src.Value != "v" {
				t.Errorf("%s: %+v, %v", typ, src, err)
			}
		}
	})
	t.Run("FaceFieldsNormalised", func(t *testing.T) {
		f, err := p(`{"face_field":"Landmark, faceshape,landmark150"}`).faceFields()
		if err != nil || !f["landmark"] || !f["face_shape"] || !f["landmark150"] {
			t.Fatalf("faceFields = %v, %v", f, err)
		}
	})
	t.Run("StrOfNumber", func(t *testing.T) {
		s, ok, err := p(`{"n":12.5}`).str("n", 0)
		if err != nil || !ok || s != "12.5" {
			t.Fatalf("str = %q %v %v", s, ok, err)
		}
	})
}

// FuzzParseBody checks that no body, however malformed, panics the parser
// or the parameter readers, and that every failure is a Baidu error.
func FuzzParseBody(f *testing.F) {
	for _, seed := range []string{
		`{"image":"x","image_type":"BASE64","max_face_num":3}`,
		`[{"image":"a","image_type":"URL"},{"image":"b"}]`,
		`group_id=g1&start=0&length=10`,
		`{"group_id_list":"a,b","match_threshold":1e400}`,
		`{"face_field":["x"]}`, `[null]`, `{`, `%zz`, ``,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := parseBody(body)
		if err != nil {
			if _, known := toError(err); !known {
				t.Fatalf("unmapped error %v", err)
			}
			return
		}
		for _, p := range append(req.list, req.obj) {
			p.image("image", "image_type", "")
			p.intIn("max_face_num", 1, 1, 10, CodeMaxFaceNumFormat)
			p.floatIn("match_threshold", 80, 0, 100, CodeThresholdFormat)
			p.groupList()
			p.faceFields()
			p.controls("")
			p.id("group_id", CodeGroupIDFormat)
		}
	})
}
