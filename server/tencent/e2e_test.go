package tencent_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/facekit/facekit/descriptor"
	"github.com/facekit/facekit/internal/libtest"
	"github.com/facekit/facekit/internal/testenv"
	"github.com/facekit/facekit/server"
	"github.com/facekit/facekit/server/tencent"
	"github.com/facekit/facekit/service"
	"github.com/facekit/facekit/service/imagesrc"
	"github.com/facekit/facekit/store/backend"
	"github.com/facekit/facekit/store/registry"
	"github.com/facekit/facekit/store/registry/httpsrc"
	"github.com/facekit/facekit/store/registry/sqlitesrc"
)

const (
	appID     = "1250000000"
	idJimin   = "11010519491231002X"
	nameJimin = "朴智旻"
	idNoPhoto = "440304199001011233"
	idNoFace  = "320106198503152714"
	idUnknown = "11010519000101001X"
	// matchSelfie passes the recommended 75 against jimin.jpg; see
	// docs/calibration.md for why not every genuine pair does.
	matchSelfie = "jimin6.jpg"
)

type env struct {
	tb       testing.TB
	base     string
	db       backend.Library
	appRowID string
	cred     tencent.Credential
	rnd      atomic.Uint32
}

type option func(*service.Config, *service.Deps)

func withRegistry(src registry.Source) option {
	return func(_ *service.Config, d *service.Deps) { d.Registry = src }
}

// mustStart runs the real server with the Tencent dialect, one application
// whose API key and secret are the Tencent SecretId/SecretKey, and a
// registry holding jimin.jpg.
func mustStart(tb testing.TB, opts ...option) *env {
	tb.Helper()
	eng := testenv.Engine(tb)
	dir := tb.TempDir()
	db := libtest.Open(tb, nil)
	app, secret, err := db.CreateApp(context.Background(), "test")
	if err != nil {
		tb.Fatal(err)
	}
	reg, err := sqlitesrc.Open(filepath.Join(dir, "registry.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { reg.Close() })
	for _, p := range []registry.Photo{
		{IDNumber: idJimin, Name: nameJimin, Image: testenv.Photo(tb, "jimin.jpg")},
		{IDNumber: idNoPhoto, Name: "李四"},
		{IDNumber: idNoFace, Name: "王五", Image: testenv.BlankPNG(tb, 200, 240)},
	} {
		if err := reg.Add(context.Background(), p); err != nil {
			tb.Fatal(err)
		}
	}
	cred := tencent.Credential{AppID: appID, SecretID: app.APIKey, SecretKey: secret}
	resnet, err := descriptor.Open(descriptor.ResNet, descriptor.Env{Engine: eng})
	if err != nil {
		tb.Fatal(err)
	}
	cfg := service.Config{Fetch: imagesrc.Config{AllowPrivate: true}}
	deps := service.Deps{
		Engine: eng, Descriptor: resnet, Library: db, Searcher: db, Apps: db, FaceTokens: db, Sessions: db, Registry: reg,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	for _, o := range opts {
		o(&cfg, &deps)
	}
	svc, err := service.New(cfg, deps)
	if err != nil {
		tb.Fatal(err)
	}
	srv, err := server.New(server.Config{}, svc, tencent.New(tencent.Config{Credentials: []tencent.Credential{cred}}))
	if err != nil {
		tb.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		<-done
	})
	return &env{tb: tb, base: "http://" + ln.Addr().String(), db: db, appRowID: app.ID, cred: cred}
}

// sign returns a fresh valid signature.
func (e *env) sign() string {
	now := time.Now()
	return tencent.Sign(appID, "", e.cred.SecretID, e.cred.SecretKey, now.Add(time.Hour), now, e.rnd.Add(1))
}

type reply struct {
	HTTP int
	Data struct {
		Similarity *float64 `json:"similarity"`
		SessionID  string   `json:"session_id"`
	} `json:"data"`
	Code    int    `json:"code"`
	Message string `json:"message"`
	raw     string
}

func (e *env) do(auth, contentType string, body []byte) reply {
	e.tb.Helper()
	req, err := http.NewRequest(http.MethodPost, e.base+tencent.Path, bytes.NewReader(body))
	if err != nil {
		e.tb.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.tb.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var r reply
	if err := json.Unmarshal(raw, &r); err != nil {
		e.tb.Fatalf("HTTP %d, not JSON: %s", resp.StatusCode, raw)
	}
	r.HTTP, r.raw = resp.StatusCode, string(raw)
	return r
}

// multipartBody builds the documented multipart request; image is sent as
// a file part.
func multipartBody(tb testing.TB, fields map[string]string, img []byte) ([]byte, string) {
	tb.Helper()
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	for k, v := range fields {
		w.WriteField(k, v)
	}
	if img != nil {
		fw, _ := w.CreateFormFile("image", "test.jpg")
		fw.Write(img)
	}
	w.Close()
	return b.Bytes(), w.FormDataContentType()
}

func (e *env) postMultipart(auth string, fields map[string]string, img []byte) reply {
	e.tb.Helper()
	body, ct := multipartBody(e.tb, fields, img)
	return e.do(auth, ct, body)
}

func fields(id, name string) map[string]string {
	return map[string]string{"appid": appID, "idcard_number": id, "idcard_name": name, "session_id": "s-1"}
}

func TestCompareOutcomes(t *testing.T) {
	e := mustStart(t)
	tests := []struct {
		name   string
		fields map[string]string
		image  []byte
		code   int
		sim    string // "high" (> 75), "low" (<= 75), "" none
	}{
		{"Match", fields(idJimin, nameJimin), testenv.Photo(t, matchSelfie), 0, "high"},
		{"NonMatch", fields(idJimin, nameJimin), testenv.Photo(t, "tzuyu.jpg"), 0, "low"},
		{"NameMismatch", fields(idJimin, "张三"), testenv.Photo(t, matchSelfie), tencent.CodeNameMismatch, ""},
		{"NotFound", fields(idUnknown, nameJimin), testenv.Photo(t, matchSelfie), tencent.CodeIDInvalid, ""},
		{"NoPhoto", fields(idNoPhoto, "李四"), testenv.Photo(t, matchSelfie), tencent.CodePhotoInvalid, ""},
		{"RegisteredPhotoWithoutFace", fields(idNoFace, "王五"), testenv.Photo(t, matchSelfie), tencent.CodePhotoPoorQuality, ""},
		{"InvalidIDNumber", fields("110105194912310021", nameJimin), testenv.Photo(t, matchSelfie), tencent.CodeIDInvalid, ""},
		{"InvalidName", fields(idJimin, "Jimin"), testenv.Photo(t, matchSelfie), tencent.CodeNameMismatch, ""},
		{"MissingName", fields(idJimin, ""), testenv.Photo(t, matchSelfie), tencent.CodeMissingIdentity, ""},
		{"MissingAppID", map[string]string{"idcard_number": idJimin, "idcard_name": nameJimin}, testenv.Photo(t, matchSelfie), tencent.CodeInvalidParam, ""},
		{"OtherAppID", map[string]string{"appid": "1250000009", "idcard_number": idJimin, "idcard_name": nameJimin}, testenv.Photo(t, matchSelfie), tencent.CodeTargetMismatch, ""},
		{"NoImage", fields(idJimin, nameJimin), nil, tencent.CodeNoImage, ""},
		{"NoFace", fields(idJimin, nameJimin), testenv.BlankPNG(t, 300, 300), tencent.CodeSelfieNoFace, ""},
		{"CorruptImage", fields(idJimin, nameJimin), []byte("\xff\xd8\xff\xe0 broken"), tencent.CodeSelfieDecode, ""},
		{"GIF", fields(idJimin, nameJimin), []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;"), tencent.CodeSelfieDecode, ""},
		{"TooLarge", fields(idJimin, nameJimin), make([]byte, 7<<20), tencent.CodeBodyTooLarge, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.postMultipart(e.sign(), tt.fields, tt.image)
			if r.HTTP != 200 || r.Code != tt.code || r.Message != tencent.Message(tt.code) {
				t.Fatalf("HTTP %d code %d %q; want code %d %q: %s", r.HTTP, r.Code, r.Message, tt.code, tencent.Message(tt.code), r.raw)
			}
			switch tt.sim {
			case "high", "low":
				if r.Data.Similarity == nil {
					t.Fatalf("no similarity: %s", r.raw)
				}
				s := *r.Data.Similarity
				t.Logf("similarity %g", s)
				if s < 0 || s > 100 || (tt.sim == "high") != (s > 75) {
					t.Errorf("similarity %g; want %s (threshold 75)", s, tt.sim)
				}
				if r.Data.SessionID != "s-1" {
					t.Errorf("session_id %q not echoed", r.Data.SessionID)
				}
			default:
				if r.Data.Similarity != nil {
					t.Errorf("similarity on an error: %s", r.raw)
				}
			}
		})
	}
}

func TestImageForms(t *testing.T) {
	e := mustStart(t)
	selfie := testenv.Photo(t, matchSelfie)
	files := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/test.jpg" {
			w.Write(selfie)
			return
		}
		http.NotFound(w, r)
	}))
	defer files.Close()

	ref := e.postMultipart(e.sign(), fields(idJimin, nameJimin), selfie)
	if ref.Code != 0 {
		t.Fatalf("multipart file: %s", ref.raw)
	}
	jsonBody := func(u string) []byte {
		b, _ := json.Marshal(map[string]string{"appid": appID, "idcard_number": idJimin, "idcard_name": nameJimin, "url": u, "session_id": "j"})
		return b
	}
	t.Run("JSONURL", func(t *testing.T) {
		r := e.do(e.sign(), "application/json", jsonBody(files.URL+"/test.jpg"))
		if r.Code != 0 || *r.Data.Similarity != *ref.Data.Similarity || r.Data.SessionID != "j" {
			t.Fatalf("%s (multipart gave %s)", r.raw, ref.raw)
		}
	})
	t.Run("JSONURLDownloadFails", func(t *testing.T) {
		r := e.do(e.sign(), "application/json", jsonBody(files.URL+"/missing.jpg"))
		if r.Code != tencent.CodeNoImage {
			t.Fatalf("%s", r.raw)
		}
	})
	t.Run("MultipartBase64Image", func(t *testing.T) {
		f := fields(idJimin, nameJimin)
		f["image"] = base64.StdEncoding.EncodeToString(selfie)
		r := e.postMultipart(e.sign(), f, nil)
		if r.Code != 0 || *r.Data.Similarity != *ref.Data.Similarity {
			t.Fatalf("%s", r.raw)
		}
	})
	t.Run("URLWinsOverImage", func(t *testing.T) {
		f := fields(idJimin, nameJimin)
		f["url"] = files.URL + "/test.jpg"
		r := e.postMultipart(e.sign(), f, testenv.BlankPNG(t, 100, 100))
		if r.Code != 0 {
			t.Fatalf("%s", r.raw)
		}
	})
	t.Run("BadJSON", func(t *testing.T) {
		if r := e.do(e.sign(), "application/json", []byte("{")); r.Code != tencent.CodeBadRequest {
			t.Fatalf("%s", r.raw)
		}
	})
	t.Run("WrongContentType", func(t *testing.T) {
		if r := e.do(e.sign(), "text/plain", []byte("hello")); r.Code != tencent.CodeBadRequest {
			t.Fatalf("%s", r.raw)
		}
	})
}

func TestSignatureOutcomes(t *testing.T) {
	e := mustStart(t)
	now := time.Now()
	sel := testenv.Photo(t, matchSelfie)
	f := fields(idUnknown, nameJimin) // valid request that stops at the registry: cheap
	tests := []struct {
		name string
		auth string
		code int
	}{
		{"Missing", "", tencent.CodeNoSignature},
		{"Garbage", "FCHXdPTEwMDAwMzc5Jms9QUtJRGVRZDBrRU1yM2J4ZjhRckJi==", tencent.CodeMalformed},
		{"WrongSecret", tencent.Sign(appID, "", e.cred.SecretID, "not-the-secret", now.Add(time.Hour), now, 1), tencent.CodeBadSignature},
		{"UnknownSecretID", tencent.Sign(appID, "", "AKIDnobody", "x", now.Add(time.Hour), now, 2), tencent.CodeSecretIDUnknown},
		{"UnknownAppID", tencent.Sign("1", "", e.cred.SecretID, e.cred.SecretKey, now.Add(time.Hour), now, 3), tencent.CodeAppIDUnknown},
		{"Expired", tencent.Sign(appID, "", e.cred.SecretID, e.cred.SecretKey, now.Add(-time.Minute), now.Add(-2*time.Minute), 4), tencent.CodeExpired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.postMultipart(tt.auth, f, sel)
			if r.Code != tt.code || r.Message != tencent.Message(tt.code) {
				t.Fatalf("code %d %q; want %d: %s", r.Code, r.Message, tt.code, r.raw)
			}
		})
	}
	t.Run("Replayed", func(t *testing.T) {
		auth := e.sign()
		if r := e.postMultipart(auth, f, sel); r.Code != tencent.CodeIDInvalid {
			t.Fatalf("first use: %s", r.raw)
		}
		if r := e.postMultipart(auth, f, sel); r.Code != tencent.CodeReplay {
			t.Fatalf("second use: %s", r.raw)
		}
	})
}

func TestLimits(t *testing.T) {
	f := fields(idUnknown, nameJimin)
	t.Run("RateLimit", func(t *testing.T) {
		e := mustStart(t)
		if err := e.db.SetAppLimits(context.Background(), e.appRowID, 1, 0); err != nil {
			t.Fatal(err)
		}
		// Requests that fail validation right after admission are cheap,
		// so the calls land within one second even on a loaded machine.
		limited := false
		for i := 0; i < 5 && !limited; i++ {
			limited = e.postMultipart(e.sign(), fields("123", nameJimin), nil).Code == tencent.CodeTooFrequent
		}
		if !limited {
			t.Fatal("5 calls in a row at 1 QPS were all admitted")
		}
	})
	t.Run("Quota", func(t *testing.T) {
		e := mustStart(t)
		if err := e.db.SetAppLimits(context.Background(), e.appRowID, 0, 1); err != nil {
			t.Fatal(err)
		}
		e.postMultipart(e.sign(), f, testenv.Photo(t, matchSelfie))
		r := e.postMultipart(e.sign(), f, testenv.Photo(t, matchSelfie))
		if r.Code != tencent.CodeBadRequest || r.Message != "account abnormal,errorno is:2" {
			t.Fatalf("%s", r.raw)
		}
	})
	t.Run("NoRegistry", func(t *testing.T) {
		e := mustStart(t, withRegistry(nil))
		if r := e.postMultipart(e.sign(), fields(idJimin, nameJimin), testenv.Photo(t, matchSelfie)); r.Code != tencent.CodeNoPermission {
			t.Fatalf("%s", r.raw)
		}
	})
	t.Run("RegistryDown", func(t *testing.T) {
		up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) }))
		defer up.Close()
		src, err := httpsrc.New(httpsrc.Config{URL: up.URL + "/p?id={id}", Retries: -1})
		if err != nil {
			t.Fatal(err)
		}
		e := mustStart(t, withRegistry(src))
		if r := e.postMultipart(e.sign(), fields(idJimin, nameJimin), testenv.Photo(t, matchSelfie)); r.Code != tencent.CodeServiceDown {
			t.Fatalf("%s", r.raw)
		}
	})
	t.Run("UnknownPath", func(t *testing.T) {
		e := mustStart(t)
		resp, err := http.Post(e.base+"/face/nosuchcall", "application/json", bytes.NewReader([]byte("{}")))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var r reply
		json.NewDecoder(resp.Body).Decode(&r)
		if resp.StatusCode != 404 || r.Code != tencent.CodeBadRequest {
			t.Fatalf("HTTP %d code %d", resp.StatusCode, r.Code)
		}
	})
}
