package baidu_test

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/color"
	"image/jpeg"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/facekit/facekit/server"
	"github.com/facekit/facekit/server/baidu"
	"github.com/facekit/facekit/service"
)

func TestToken(t *testing.T) {
	e := mustStart(t, nil)
	t.Run("IssuedWithBrainAllScope", func(t *testing.T) {
		ans := e.fetchToken(e.apiKey, e.secret)
		if ans.Status != http.StatusOK || ans.AccessToken == "" {
			t.Fatalf("token answer %+v", ans)
		}
		if !strings.Contains(" "+ans.Scope+" ", " brain_all_scope ") {
			t.Fatalf("scope %q lacks brain_all_scope; the SDKs would switch to signed requests", ans.Scope)
		}
		if ans.ExpiresIn != 2592000 {
			t.Fatalf("expires_in = %d, want 2592000 (30 days)", ans.ExpiresIn)
		}
		if ans.SessionKey == "" || ans.SessionSecret == "" || ans.RefreshToken == "" {
			t.Fatalf("missing session/refresh fields: %+v", ans)
		}
	})
	t.Run("WrongSecret", func(t *testing.T) {
		ans := e.fetchToken(e.apiKey, "not-the-secret")
		if ans.Status != http.StatusUnauthorized || ans.Error != "invalid_client" || ans.AccessToken != "" {
			t.Fatalf("token answer %+v", ans)
		}
	})
	t.Run("UnknownKey", func(t *testing.T) {
		ans := e.fetchToken("no-such-key", e.secret)
		if ans.Status != http.StatusUnauthorized || ans.Error != "invalid_client" {
			t.Fatalf("token answer %+v", ans)
		}
	})
	t.Run("UnsupportedGrant", func(t *testing.T) {
		resp, err := http.Get(e.base + "/oauth/2.0/token?grant_type=password&client_id=" + e.apiKey)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("HTTP %d, want 400", resp.StatusCode)
		}
	})
	t.Run("PostedForm", func(t *testing.T) {
		form := url.Values{"grant_type": {"client_credentials"}, "client_id": {e.apiKey}, "client_secret": {e.secret}}
		resp, err := http.PostForm(e.base+"/oauth/2.0/token", form)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var ans tokenAnswer
		json.NewDecoder(resp.Body).Decode(&ans)
		if resp.StatusCode != http.StatusOK || ans.AccessToken == "" {
			t.Fatalf("HTTP %d %+v", resp.StatusCode, ans)
		}
		// The new token works for API calls.
		if a := e.callAs(ans.AccessToken, "application/json", v3+"/faceset/group/getlist", obj{}); a.ErrorCode != 0 {
			t.Fatalf("call with posted-form token: %d %s", a.ErrorCode, a.ErrorMsg)
		}
	})
}

func TestAccessErrors(t *testing.T) {
	t.Run("MissingToken100", func(t *testing.T) {
		e := mustStart(t, nil)
		if a := e.callAs("", "application/json", v3+"/faceset/group/getlist", obj{}); a.ErrorCode != baidu.CodeInvalidParameter {
			t.Fatalf("code %d, want 100", a.ErrorCode)
		}
	})
	t.Run("UnknownToken110", func(t *testing.T) {
		e := mustStart(t, nil)
		a := e.callAs("24.made.up.token", "application/json", v3+"/faceset/group/getlist", obj{})
		if a.ErrorCode != baidu.CodeTokenInvalid || a.ErrorMsg != "Access token invalid or no longer valid" {
			t.Fatalf("got %d %q, want 110", a.ErrorCode, a.ErrorMsg)
		}
	})
	t.Run("ExpiredToken111", func(t *testing.T) {
		e := mustStart(t, nil)
		e.clock.advance(31 * 24 * time.Hour)
		e.expect(baidu.CodeTokenExpired, v3+"/faceset/group/getlist", obj{})
	})
	t.Run("QPSLimit18", func(t *testing.T) {
		// One request per 1000 s: the second call in a row is over the
		// limit however slow the machine is.
		e := mustStart(t, nil, func(c *service.Config, _ *service.Deps, _ *server.Config) { c.QPS = 0.001 })
		e.must(v3+"/faceset/group/getlist", obj{}, nil)
		e.expect(baidu.CodeQPSLimit, v3+"/faceset/group/getlist", obj{})
	})
	t.Run("PerAppQPS18", func(t *testing.T) {
		e := mustStart(t, nil)
		if err := e.db.SetAppLimits(context.Background(), e.app.ID, 1, 0); err != nil {
			t.Fatal(err)
		}
		// At 1 QPS a burst of three calls cannot all pass.
		codes := []int{}
		for range 3 {
			codes = append(codes, e.call(v3+"/faceset/group/getlist", obj{}).ErrorCode)
		}
		if codes[0] != 0 || codes[2] != baidu.CodeQPSLimit && codes[1] != baidu.CodeQPSLimit {
			t.Fatalf("codes %v: want success then 18", codes)
		}
	})
	t.Run("Quota19", func(t *testing.T) {
		e := mustStart(t, nil)
		if err := e.db.SetAppLimits(context.Background(), e.app.ID, 0, 1); err != nil {
			t.Fatal(err)
		}
		e.must(v3+"/faceset/group/getlist", obj{}, nil)
		e.expect(baidu.CodeTotalLimit, v3+"/faceset/group/getlist", obj{})
	})
	t.Run("UnknownPath3", func(t *testing.T) {
		e := mustStart(t, nil)
		e.expect(baidu.CodeUnsupportedMethod, v3+"/no-such-method", obj{})
	})
	t.Run("ApplicationsAreIsolated", func(t *testing.T) {
		e := mustStart(t, nil)
		e.must(v3+"/faceset/group/add", obj{"group_id": "mine"}, nil)
		other, secret, err := e.db.CreateApp(context.Background(), "other")
		if err != nil {
			t.Fatal(err)
		}
		tok := e.fetchToken(other.APIKey, secret).AccessToken
		a := e.callAs(tok, "application/json", v3+"/faceset/group/getlist", obj{})
		var res struct {
			GroupIDList []string `json:"group_id_list"`
		}
		json.Unmarshal(a.Result, &res)
		if a.ErrorCode != 0 || len(res.GroupIDList) != 0 {
			t.Fatalf("other app sees %s", a.raw)
		}
	})
}

func TestFacesetWithoutFaces(t *testing.T) {
	e := mustStart(t, nil)
	e.must(v3+"/faceset/group/add", obj{"group_id": "g1"}, nil)

	t.Run("EnvelopeShape", func(t *testing.T) {
		a := e.must(v3+"/faceset/group/add", obj{"group_id": "g_shape"}, nil)
		var m map[string]any
		json.Unmarshal(a.raw, &m)
		for _, k := range []string{"error_code", "error_msg", "log_id", "timestamp", "cached", "result"} {
			if _, ok := m[k]; !ok {
				t.Errorf("envelope lacks %q: %s", k, a.raw)
			}
		}
		if a.ErrorMsg != "SUCCESS" || string(a.Result) != "null" {
			t.Fatalf("envelope %s", a.raw)
		}
		if d := time.Since(time.Unix(a.Timestamp, 0)); d < -time.Minute || d > time.Minute {
			t.Fatalf("timestamp %d is not now", a.Timestamp)
		}
	})
	t.Run("GroupList", func(t *testing.T) {
		var res struct {
			GroupIDList []string `json:"group_id_list"`
		}
		e.must(v3+"/faceset/group/getlist", obj{"start": 0, "length": 50}, &res)
		if len(res.GroupIDList) < 1 || res.GroupIDList[0] != "g1" {
			t.Fatalf("group list %v", res.GroupIDList)
		}
	})
	t.Run("EmptyGroupUsers", func(t *testing.T) {
		a := e.must(v3+"/faceset/group/getusers", obj{"group_id": "g1"}, nil)
		if !strings.Contains(string(a.Result), `"user_id_list":[]`) {
			t.Fatalf("result %s", a.Result)
		}
	})
	t.Run("PHPStyleJSONWithFormContentType", func(t *testing.T) {
		// PHP's curl posts json_encode() text with a form content type.
		a := e.callAs(e.token, "application/x-www-form-urlencoded", v3+"/faceset/group/add", []byte(`{"group_id":"g_php"}`))
		if a.ErrorCode != 0 {
			t.Fatalf("code %d %s", a.ErrorCode, a.ErrorMsg)
		}
	})
	t.Run("FormBody", func(t *testing.T) {
		a := e.callAs(e.token, "application/x-www-form-urlencoded", v3+"/faceset/group/add", []byte(`group_id=g_form`))
		if a.ErrorCode != 0 {
			t.Fatalf("code %d %s", a.ErrorCode, a.ErrorMsg)
		}
	})

	cases := []struct {
		name string
		path string
		body any
		code int
	}{
		{"DuplicateGroup223101", "/faceset/group/add", obj{"group_id": "g1"}, baidu.CodeGroupExists},
		{"MissingGroupID222001", "/faceset/group/add", obj{}, baidu.CodeParamNull},
		{"BadGroupID222006", "/faceset/group/add", obj{"group_id": "has space"}, baidu.CodeGroupIDFormat},
		{"LongGroupID222006", "/faceset/group/add", obj{"group_id": strings.Repeat("a", 129)}, baidu.CodeGroupIDFormat},
		{"DeleteUnknownGroup223100", "/faceset/group/delete", obj{"group_id": "nope"}, baidu.CodeGroupNotExist},
		{"UsersOfUnknownGroup223100", "/faceset/group/getusers", obj{"group_id": "nope"}, baidu.CodeGroupNotExist},
		{"BadStart222002", "/faceset/group/getlist", obj{"start": -1}, baidu.CodeStartFormat},
		{"LengthTooLarge222003", "/faceset/group/getlist", obj{"length": 1001}, baidu.CodeLengthFormat},
		{"UnknownUser223103", "/faceset/user/get", obj{"user_id": "nobody", "group_id": "g1"}, baidu.CodeUserNotExist},
		{"UnknownUserAllGroups223103", "/faceset/user/get", obj{"user_id": "nobody", "group_id": "@ALL"}, baidu.CodeUserNotExist},
		{"FacesOfUnknownUser223103", "/faceset/face/getlist", obj{"user_id": "nobody", "group_id": "g1"}, baidu.CodeUserNotExist},
		{"DeleteUnknownUser223103", "/faceset/user/delete", obj{"user_id": "nobody", "group_id": "g1"}, baidu.CodeUserNotExist},
		{"DeleteFaceUnknownUser", "/faceset/face/delete", obj{"user_id": "nobody", "group_id": "g1", "face_token": "abc"}, baidu.CodeUserNotExist},
		{"DeleteFaceBadToken222025", "/faceset/face/delete", obj{"user_id": "u", "group_id": "g1", "face_token": "a/b"}, baidu.CodeFaceTokenFormat},
		{"CopyToUnknownGroup223111", "/faceset/user/copy", obj{"user_id": "u", "src_group_id": "g1", "dst_group_id": "nope"}, baidu.CodeDstGroupNotExist},
		{"CopyUnknownUser223103", "/faceset/user/copy", obj{"user_id": "nobody", "src_group_id": "g1", "dst_group_id": "g_php"}, baidu.CodeUserNotExist},
		{"AddUserMissingImage222001", "/faceset/user/add", obj{"image_type": "BASE64", "group_id": "g1", "user_id": "u"}, baidu.CodeParamNull},
		{"AddUserInfoTooLong222010", "/faceset/user/add", obj{"image": "x", "image_type": "BASE64", "group_id": "g1", "user_id": "u", "user_info": strings.Repeat("i", 257)}, baidu.CodeUserInfoFormat},
		{"AddUserBadUserID222018", "/faceset/user/add", obj{"image": "x", "image_type": "BASE64", "group_id": "g1", "user_id": "ü"}, baidu.CodeUserIDFormat},
		{"AddUserBadAction100", "/faceset/user/add", obj{"image": "x", "image_type": "BASE64", "group_id": "g1", "user_id": "u", "action_type": "MERGE"}, baidu.CodeInvalidParameter},
		{"BrokenJSON222200", "/faceset/group/add", []byte(`{"group_id":`), baidu.CodeBodyNotJSON},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { e.expect(tc.code, v3+tc.path, tc.body) })
	}
	t.Run("MissingParamNamesIt", func(t *testing.T) {
		a := e.expect(baidu.CodeParamNull, v3+"/faceset/group/add", obj{})
		if a.ErrorMsg != "param[group_id] is null" {
			t.Fatalf("error_msg %q", a.ErrorMsg)
		}
	})
}

// tinyJPEG is a valid image without a face.
func tinyJPEG(t testing.TB) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 64, 64))
	for y := range 64 {
		for x := range 64 {
			img.Set(x, y, color.RGBA{uint8(x * 4), 90, uint8(y * 4), 255})
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, nil); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestImageErrorsWithoutEngine(t *testing.T) {
	photoSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/jpeg")
		w.Write(tinyJPEG(t))
	}))
	defer photoSrv.Close()
	e := mustStart(t, nil, func(_ *service.Config, _ *service.Deps, c *server.Config) { c.MaxBodyBytes = 64 << 10 })

	cases := []struct {
		name string
		path string
		body any
		code int
	}{
		{"BadBase64_222013", "/detect", obj{"image": "!!!not base64!!!", "image_type": "BASE64"}, baidu.CodeImageFormat},
		{"NotAnImage222203", "/detect", obj{"image": b64([]byte("hello, this is text, not a picture")), "image_type": "BASE64"}, baidu.CodeImageCheck},
		{"TruncatedJPEG222203", "/detect", obj{"image": b64(tinyJPEG(t)[:200]), "image_type": "BASE64"}, baidu.CodeImageCheck},
		{"OversizedBody222013", "/detect", obj{"image": strings.Repeat("A", 70<<10), "image_type": "BASE64"}, baidu.CodeImageFormat},
		{"URLToLoopbackRefused222204", "/detect", obj{"image": photoSrv.URL + "/a.jpg", "image_type": "URL"}, baidu.CodeDownload},
		{"FileURL222204", "/detect", obj{"image": "file:///etc/passwd", "image_type": "URL"}, baidu.CodeDownload},
		{"UnknownFaceToken222209", "/detect", obj{"image": "0123456789abcdef0123456789abcdef", "image_type": "FACE_TOKEN"}, baidu.CodeFaceTokenNotExist},
		{"UnknownImageType222015", "/detect", obj{"image": "x", "image_type": "FILE"}, baidu.CodeImageTypeFormat},
		{"MissingImageType222001", "/detect", obj{"image": "x"}, baidu.CodeParamNull},
		{"MaxFaceNumTooLarge222016", "/detect", obj{"image": "x", "image_type": "BASE64", "max_face_num": 11}, baidu.CodeMaxFaceNumFormat},
		{"BadFaceType222024", "/detect", obj{"image": "x", "image_type": "BASE64", "face_type": "SELFIE"}, baidu.CodeFaceTypeFormat},
		{"BadQualityControl222019", "/search", obj{"image": "x", "image_type": "BASE64", "group_id_list": "g", "quality_control": "MAX"}, baidu.CodeQualityFormat},
		{"LivenessUnavailable6", "/detect", obj{"image": "x", "image_type": "BASE64", "liveness_control": "LOW"}, baidu.CodeNoPermission},
		{"SearchMissingGroups222001", "/search", obj{"image": "x", "image_type": "BASE64"}, baidu.CodeParamNull},
		{"SearchTooManyGroups223104", "/search", obj{"image": "x", "image_type": "BASE64", "group_id_list": "a,b,c,d,e,f,g,h,i,j,k"}, baidu.CodeGroupListTooLarge},
		{"SearchMaxUserNum51_222021", "/search", obj{"image": "x", "image_type": "BASE64", "group_id_list": "g", "max_user_num": 51}, baidu.CodeMaxUserNumFormat},
		{"MultiSearchMaxUserNum21_222021", "/multi-search", obj{"image": "x", "image_type": "BASE64", "group_id_list": "g", "max_user_num": 21}, baidu.CodeMaxUserNumFormat},
		{"SearchThreshold222027", "/search", obj{"image": "x", "image_type": "BASE64", "group_id_list": "g", "match_threshold": "high"}, baidu.CodeThresholdFormat},
		{"MatchOneImage222208", "/match", []obj{{"image": "x", "image_type": "BASE64"}}, baidu.CodeImageCount},
		{"MatchObjectNotArray222208", "/match", obj{"image": "x", "image_type": "BASE64"}, baidu.CodeImageCount},
		{"MatchMissingType222001", "/match", []obj{{"image": "x"}, {"image": "y", "image_type": "BASE64"}}, baidu.CodeParamNull},
		{"FaceverifyNoLivenessModel6", "/faceverify", []obj{{"image": "x", "image_type": "BASE64"}}, baidu.CodeNoPermission},
		{"FaceverifyNoImages222208", "/faceverify", []obj{}, baidu.CodeImageCount},
		{"PersonVerifyMissingName222001", "/person/verify", obj{"image": "x", "image_type": "BASE64", "id_card_number": "110101199003077777"}, baidu.CodeParamNull},
		{"PersonVerifyNoRegistry6", "/person/verify", obj{"image": "x", "image_type": "BASE64", "id_card_number": "110101199003077777", "name": "张三"}, baidu.CodeNoPermission},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { e.expect(tc.code, v3+tc.path, tc.body) })
	}
	t.Run("MingjingVerifyNoRegistry6", func(t *testing.T) {
		e.expect(baidu.CodeNoPermission, "/rest/2.0/face/v4/mingjing/verify", obj{"image": "x", "id_card_number": "110101199003077777", "name": "张三"})
	})
	t.Run("MingjingEncryptedUnavailable6", func(t *testing.T) {
		e.expect(baidu.CodeNoPermission, "/rest/2.0/face/v4/mingjing/match", obj{"sec_level": "lite", "data": "xxx"})
	})
}

func TestSessionCode(t *testing.T) {
	e := mustStart(t, nil)
	a := e.must("/rest/2.0/face/v1/faceliveness/sessioncode", obj{"appid": e.app.ID}, nil)
	var res struct {
		SessionID string `json:"session_id"`
		Code      string `json:"code"`
	}
	json.Unmarshal(a.Result, &res)
	if len(res.Code) < 3 || len(res.Code) > 6 || strings.Trim(res.Code, "0123456789") != "" {
		t.Fatalf("code %q is not 3-6 digits", res.Code)
	}
	stored, err := e.db.GetSessionCode(context.Background(), e.app.ID, res.SessionID)
	if err != nil || stored.Code != res.Code {
		t.Fatalf("stored session %+v, %v", stored, err)
	}
	var m map[string]any
	json.Unmarshal(a.raw, &m)
	if m["err_no"] != float64(0) || m["serverlogid"] == nil {
		t.Fatalf("session envelope lacks the documented err_no/serverlogid: %s", a.raw)
	}
	t.Run("NoSessionStore6", func(t *testing.T) {
		e := mustStart(t, nil, func(_ *service.Config, d *service.Deps, _ *server.Config) { d.Sessions = nil })
		e.expect(baidu.CodeNoPermission, "/rest/2.0/face/v1/faceliveness/sessioncode", obj{})
	})
}
