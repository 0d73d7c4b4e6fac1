package linkface_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"image/jpeg"
	"io"
	"log/slog"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/facekit/facekit/descriptor"
	"github.com/facekit/facekit/engine/imageio"
	"github.com/facekit/facekit/internal/libtest"
	"github.com/facekit/facekit/internal/testenv"
	"github.com/facekit/facekit/server"
	"github.com/facekit/facekit/server/linkface"
	"github.com/facekit/facekit/service"
	"github.com/facekit/facekit/service/imagesrc"
	"github.com/facekit/facekit/store/backend"
	"github.com/facekit/facekit/store/registry"
	"github.com/facekit/facekit/store/registry/httpsrc"
	"github.com/facekit/facekit/store/registry/sqlitesrc"
)

// Registry records used by the tests (valid GB 11643 numbers).
const (
	idJimin   = "11010519491231002X" // photo jimin.jpg
	nameJimin = "朴智旻"
	idNoPhoto = "440304199001011233" // record without a photo
	idNoFace  = "320106198503152714" // photo without a face
	idUnknown = "11010519000101001X" // not registered
)

// env is a running server with one application.
type env struct {
	tb      testing.TB
	base    string
	db      backend.Library
	apiID   string
	secret  string
	appID   string
	regfile string
}

type option func(*service.Config, *service.Deps, *linkface.Config)

func withRegistry(src registry.Source) option {
	return func(_ *service.Config, d *service.Deps, _ *linkface.Config) { d.Registry = src }
}

// mustStart runs the real server on 127.0.0.1:0 with the Linkface dialect,
// a fresh SQLite library and a registry holding jimin.jpg.
func mustStart(tb testing.TB, opts ...option) *env {
	tb.Helper()
	eng := testenv.Engine(tb)
	dir := tb.TempDir()
	db := libtest.Open(tb, nil)
	app, secret, err := db.CreateApp(context.Background(), "test")
	if err != nil {
		tb.Fatal(err)
	}
	regPath := filepath.Join(dir, "registry.db")
	reg, err := sqlitesrc.Open(regPath)
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

	resnet, err := descriptor.Open(descriptor.ResNet, descriptor.Env{Engine: eng})
	if err != nil {
		tb.Fatal(err)
	}
	cfg := service.Config{Fetch: imagesrc.Config{AllowPrivate: true}}
	deps := service.Deps{
		Engine: eng, Descriptor: resnet, Library: db, Searcher: db, Apps: db, FaceTokens: db, Sessions: db, Registry: reg,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	lcfg := linkface.Config{}
	for _, o := range opts {
		o(&cfg, &deps, &lcfg)
	}
	svc, err := service.New(cfg, deps)
	if err != nil {
		tb.Fatal(err)
	}
	srv, err := server.New(server.Config{}, svc, linkface.New(lcfg))
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
	return &env{tb: tb, base: "http://" + ln.Addr().String(), db: db, apiID: app.APIKey, secret: secret, appID: app.ID, regfile: regPath}
}

// reply is any Linkface answer.
type reply struct {
	HTTP       int
	RequestID  string   `json:"request_id"`
	Status     string   `json:"status"`
	Confidence *float64 `json:"confidence"`
	Image      string   `json:"image"`
	Reason     string   `json:"reason"`
	Selfie     *struct {
		ImageID string `json:"image_id"`
	} `json:"selfie"`
	Identity *struct {
		Validity bool   `json:"validity"`
		PhotoID  string `json:"photo_id"`
		Reason   string `json:"reason"`
	} `json:"identity"`
	raw string
}

// form is one request: text fields and an optional selfie_file.
type form struct {
	fields map[string]string
	file   []byte
}

// post sends f as multipart/form-data with the credentials in the query,
// as the cURL example does.
func (e *env) post(f form) reply {
	e.tb.Helper()
	return e.postTo(linkface.Path+"?api_id="+url.QueryEscape(e.apiID)+"&api_secret="+url.QueryEscape(e.secret), f)
}

func (e *env) postTo(path string, f form) reply {
	e.tb.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	for k, v := range f.fields {
		w.WriteField(k, v)
	}
	if f.file != nil {
		fw, _ := w.CreateFormFile("selfie_file", "selfie.jpg")
		fw.Write(f.file)
	}
	w.Close()
	resp, err := http.Post(e.base+path, w.FormDataContentType(), &body)
	if err != nil {
		e.tb.Fatal(err)
	}
	return decode(e.tb, resp)
}

func decode(tb testing.TB, resp *http.Response) reply {
	tb.Helper()
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var r reply
	if err := json.Unmarshal(raw, &r); err != nil {
		tb.Fatalf("HTTP %d, not JSON: %v: %s", resp.StatusCode, err, raw)
	}
	r.HTTP = resp.StatusCode
	r.raw = string(raw)
	if !strings.HasPrefix(r.RequestID, "TID") {
		tb.Fatalf("no request_id in %s", raw)
	}
	return r
}

func person(id, name string) map[string]string {
	return map[string]string{"id_number": id, "name": name}
}

func with(m map[string]string, k, v string) map[string]string {
	out := map[string]string{k: v}
	for kk, vv := range m {
		out[kk] = vv
	}
	return out
}

// matchSelfie is the selfie of the registered person. At the 0.7 threshold
// (FAR 1e-4) the measured FRR on LFW is about 32% (docs/calibration.md), so
// not every genuine pair passes: jimin2.jpg against jimin.jpg scores about
// 0.65 (FAR ~3e-4). jimin6.jpg is a clear frontal photo that does pass.
const matchSelfie = "jimin6.jpg"

func TestVerifyOutcomes(t *testing.T) {
	e := mustStart(t)
	jimin := person(idJimin, nameJimin)
	tests := []struct {
		name       string
		req        form
		http       int
		status     string
		image      string
		reason     string // top-level reason
		validity   *bool
		idReason   string // identity.reason
		confidence string // "null", "high" (>= 0.7), "low" (< 0.7), "" (absent)
	}{
		{name: "Match", req: form{jimin, testenv.Photo(t, matchSelfie)}, http: 200, status: "OK",
			validity: ptr(true), idReason: "Gongan status OK", confidence: "high"},
		{name: "NonMatch", req: form{jimin, testenv.Photo(t, "tzuyu.jpg")}, http: 200, status: "OK",
			validity: ptr(true), idReason: "Gongan status OK", confidence: "low"},
		{name: "NameMismatch", req: form{person(idJimin, "张三"), testenv.Photo(t, "jimin2.jpg")}, http: 200, status: "OK",
			validity: ptr(false), idReason: "Name and idcard number doesn’t match", confidence: "null"},
		{name: "NotFound", req: form{person(idUnknown, nameJimin), testenv.Photo(t, "jimin2.jpg")}, http: 200, status: "OK",
			validity: ptr(false), idReason: "Invalid idcard number", confidence: "null"},
		{name: "NoPhoto", req: form{person(idNoPhoto, "李四"), testenv.Photo(t, "jimin2.jpg")}, http: 200, status: "OK",
			validity: ptr(true), idReason: "Gongan photo doesn’t exist", confidence: "null"},
		{name: "RegisteredPhotoWithoutFace", req: form{person(idNoFace, "王五"), testenv.Photo(t, "jimin2.jpg")}, http: 400,
			status: "NO_FACE_DETECTED", validity: ptr(true), idReason: "poor picture quality"},
		{name: "InvalidIDNumber", req: form{person("110105194912310021", nameJimin), testenv.Photo(t, "jimin2.jpg")}, http: 400,
			status: "INVALID_ARGUMENT", reason: "Invalid idcard number"},
		{name: "MissingIDNumber", req: form{map[string]string{"name": nameJimin}, testenv.Photo(t, "jimin2.jpg")}, http: 400,
			status: "INVALID_ARGUMENT", reason: "Invalid idcard number"},
		{name: "InvalidName", req: form{person(idJimin, "Jimin Park"), testenv.Photo(t, "jimin2.jpg")}, http: 400,
			status: "INVALID_ARGUMENT", reason: "Invalid name"},
		{name: "EncodingError", req: form{person(idJimin, "\xc6\xd3\xd6\xc7"), testenv.Photo(t, "jimin2.jpg")}, http: 400,
			status: "ENCODING_ERROR"},
		{name: "NoSelfie", req: form{jimin, nil}, http: 400, status: "INVALID_ARGUMENT"},
		{name: "NoFace", req: form{jimin, testenv.BlankPNG(t, 300, 300)}, http: 400, status: "NO_FACE_DETECTED", image: "selfie",
			validity: ptr(true), idReason: "Gongan status OK"},
		{name: "CorruptImage", req: form{jimin, []byte("\xff\xd8\xff\xe0 this is no jpeg")}, http: 400,
			status: "CORRUPT_IMAGE", image: "selfie"},
		{name: "NotAnImage", req: form{jimin, []byte("hello, world")}, http: 400, status: "INVALID_IMAGE_FORMAT_OR_SIZE", image: "selfie"},
		{name: "TooWide", req: form{jimin, testenv.BlankPNG(t, 4001, 20)}, http: 400, status: "INVALID_IMAGE_FORMAT_OR_SIZE", image: "selfie"},
		{name: "TooBig", req: form{jimin, append(testenv.Photo(t, "jimin2.jpg"), make([]byte, 2<<20)...)}, http: 400,
			status: "IMAGE_FILE_SIZE_TOO_BIG", image: "selfie"},
		{name: "BadAutoRotate", req: form{with(jimin, "selfie_auto_rotate", "maybe"), testenv.Photo(t, "jimin2.jpg")}, http: 400,
			status: "INVALID_ARGUMENT"},
		{name: "UnknownImageID", req: form{with(jimin, "selfie_image_id", "0123456789abcdef0123456789abcdef"), nil}, http: 400,
			status: "IMAGE_ID_NOT_EXIST", image: "selfie"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.post(tt.req)
			if r.HTTP != tt.http || r.Status != tt.status || r.Image != tt.image {
				t.Fatalf("got HTTP %d %s image %q; want HTTP %d %s image %q: %s", r.HTTP, r.Status, r.Image, tt.http, tt.status, tt.image, r.raw)
			}
			if tt.reason != "" && r.Reason != tt.reason {
				t.Errorf("reason %q; want %q", r.Reason, tt.reason)
			}
			if tt.validity != nil {
				if r.Identity == nil || r.Identity.Validity != *tt.validity || r.Identity.Reason != tt.idReason {
					t.Fatalf("identity %+v; want validity %v reason %q: %s", r.Identity, *tt.validity, tt.idReason, r.raw)
				}
			} else if r.Identity != nil {
				t.Errorf("unexpected identity block: %s", r.raw)
			}
			switch tt.confidence {
			case "null":
				if r.Confidence != nil || !strings.Contains(r.raw, `"confidence":null`) {
					t.Errorf("confidence not null: %s", r.raw)
				}
			case "high", "low":
				if r.Confidence == nil {
					t.Fatalf("no confidence: %s", r.raw)
				}
				c := *r.Confidence
				t.Logf("confidence %g", c)
				if c < 0 || c > 1 || (tt.confidence == "high") != (c >= 0.7) {
					t.Errorf("confidence %g; want %s (threshold 0.7)", c, tt.confidence)
				}
				if r.Selfie == nil || len(r.Selfie.ImageID) != 32 || r.Identity.PhotoID == "" {
					t.Errorf("selfie.image_id / photo_id missing: %s", r.raw)
				}
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

// TestImageInputs covers the other three selfie inputs and their priority.
func TestImageInputs(t *testing.T) {
	e := mustStart(t)
	jimin := person(idJimin, nameJimin)
	selfie := testenv.Photo(t, "jimin2.jpg")
	first := e.post(form{jimin, selfie})
	if first.Status != "OK" || first.Selfie == nil || first.Confidence == nil {
		t.Fatalf("file: %s", first.raw)
	}

	files := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/jimin2.jpg":
			w.Write(selfie)
		case "/slow.jpg":
			select {
			case <-r.Context().Done():
			case <-time.After(3 * time.Second):
			}
		default:
			http.NotFound(w, r)
		}
	}))
	defer files.Close()

	t.Run("Base64", func(t *testing.T) {
		r := e.post(form{with(jimin, "selfie_image_base64", base64.StdEncoding.EncodeToString(selfie)), nil})
		if r.Status != "OK" || r.Confidence == nil || *r.Confidence != *first.Confidence {
			t.Fatalf("base64: %s (file gave %v)", r.raw, *first.Confidence)
		}
	})
	t.Run("URL", func(t *testing.T) {
		r := e.post(form{with(jimin, "selfie_url", files.URL+"/jimin2.jpg"), nil})
		if r.Status != "OK" || r.Confidence == nil || *r.Confidence != *first.Confidence {
			t.Fatalf("url: %s", r.raw)
		}
	})
	t.Run("ImageID", func(t *testing.T) {
		r := e.post(form{with(jimin, "selfie_image_id", first.Selfie.ImageID), nil})
		if r.Status != "OK" || r.Confidence == nil || *r.Confidence != *first.Confidence || r.Selfie != nil {
			t.Fatalf("image_id: %s", r.raw)
		}
	})
	t.Run("ImageIDBeatsFile", func(t *testing.T) {
		// The documented order: selfie_image_id first, then the file.
		r := e.post(form{with(jimin, "selfie_image_id", first.Selfie.ImageID), testenv.BlankPNG(t, 100, 100)})
		if r.Status != "OK" {
			t.Fatalf("image_id with a faceless file: %s", r.raw)
		}
	})
	t.Run("FileBeatsBase64", func(t *testing.T) {
		r := e.post(form{with(jimin, "selfie_image_base64", "not base64 at all!"), selfie})
		if r.Status != "OK" {
			t.Fatalf("file with bad base64: %s", r.raw)
		}
	})
	t.Run("Base64BeatsURL", func(t *testing.T) {
		f := with(jimin, "selfie_image_base64", base64.StdEncoding.EncodeToString(selfie))
		r := e.post(form{with(f, "selfie_url", files.URL+"/missing.jpg"), nil})
		if r.Status != "OK" {
			t.Fatalf("base64 with a broken URL: %s", r.raw)
		}
	})
	t.Run("DownloadError", func(t *testing.T) {
		r := e.post(form{with(jimin, "selfie_url", files.URL+"/missing.jpg"), nil})
		if r.HTTP != 400 || r.Status != "DOWNLOAD_ERROR" || r.Image != "selfie" {
			t.Fatalf("missing URL: %s", r.raw)
		}
	})
	t.Run("CorruptBase64", func(t *testing.T) {
		r := e.post(form{with(jimin, "selfie_image_base64", "%%%%"), nil})
		if r.HTTP != 400 || r.Status != "CORRUPT_IMAGE" {
			t.Fatalf("bad base64: %s", r.raw)
		}
	})
	t.Run("URLEncodedForm", func(t *testing.T) {
		v := url.Values{"api_id": {e.apiID}, "api_secret": {e.secret}, "id_number": {idJimin}, "name": {nameJimin},
			"selfie_image_base64": {base64.StdEncoding.EncodeToString(selfie)}}
		resp, err := http.PostForm(e.base+linkface.Path, v)
		if err != nil {
			t.Fatal(err)
		}
		if r := decode(t, resp); r.Status != "OK" || r.Confidence == nil {
			t.Fatalf("urlencoded: %s", r.raw)
		}
	})
}

func TestDownloadTimeout(t *testing.T) {
	e := mustStart(t, func(_ *service.Config, _ *service.Deps, l *linkface.Config) {
		l.DownloadTimeout = 200 * time.Millisecond
	})
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer slow.Close()
	defer close(release)
	r := e.post(form{with(person(idJimin, nameJimin), "selfie_url", slow.URL+"/x.jpg"), nil})
	if r.HTTP != 400 || r.Status != "DOWNLOAD_TIMEOUT" || r.Image != "selfie" {
		t.Fatalf("slow URL: %s", r.raw)
	}
}

func TestAutoRotate(t *testing.T) {
	e := mustStart(t)
	// The matching selfie turned on its side, with no EXIF to say so.
	src, err := os.ReadFile(testenv.Face(t, matchSelfie))
	if err != nil {
		t.Fatal(err)
	}
	turned := rotatedJPEG(t, src)
	f := person(idJimin, nameJimin)
	if r := e.post(form{f, turned}); r.Status != "NO_FACE_DETECTED" {
		t.Fatalf("sideways selfie without auto-rotate: %s", r.raw)
	}
	r := e.post(form{with(f, "selfie_auto_rotate", "true"), turned})
	if r.Status != "OK" || r.Confidence == nil || *r.Confidence < 0.7 {
		t.Fatalf("sideways selfie with auto-rotate: %s", r.raw)
	}
}

func TestAccountErrors(t *testing.T) {
	t.Run("Unauthorized", func(t *testing.T) {
		e := mustStart(t)
		for _, path := range []string{
			linkface.Path + "?api_id=" + e.apiID + "&api_secret=wrong",
			linkface.Path + "?api_id=nobody&api_secret=" + e.secret,
			linkface.Path,
		} {
			r := e.postTo(path, form{person(idJimin, nameJimin), testenv.Photo(t, "jimin2.jpg")})
			if r.HTTP != 401 || r.Status != "UNAUTHORIZED" {
				t.Errorf("%s: %s", path, r.raw)
			}
		}
	})
	t.Run("CredentialsInForm", func(t *testing.T) {
		e := mustStart(t)
		f := with(with(person(idJimin, nameJimin), "api_id", e.apiID), "api_secret", e.secret)
		if r := e.postTo(linkface.Path, form{f, testenv.Photo(t, "jimin2.jpg")}); r.Status != "OK" {
			t.Fatalf("credentials in the form: %s", r.raw)
		}
	})
	t.Run("KeyExpired", func(t *testing.T) {
		e := mustStart(t, func(_ *service.Config, _ *service.Deps, l *linkface.Config) {
			l.KeyLifetime = time.Hour
			l.Now = func() time.Time { return time.Now().Add(2 * time.Hour) }
		})
		r := e.post(form{person(idJimin, nameJimin), testenv.Photo(t, "jimin2.jpg")})
		if r.HTTP != 403 || r.Status != "KEY_EXPIRED" || !strings.Contains(r.Reason, "expired") {
			t.Fatalf("%s", r.raw)
		}
	})
	t.Run("RateLimitExceeded", func(t *testing.T) {
		e := mustStart(t)
		if err := e.db.SetAppLimits(context.Background(), e.appID, 1, 0); err != nil {
			t.Fatal(err)
		}
		// A request that fails validation right after admission is cheap,
		// so the calls land within one second even on a loaded machine.
		f := form{person("123", nameJimin), nil}
		limited := false
		for i := 0; i < 5 && !limited; i++ {
			r := e.post(f)
			limited = r.HTTP == 403 && r.Status == "RATE_LIMIT_EXCEEDED"
		}
		if !limited {
			t.Fatal("5 calls in a row at 1 QPS were all admitted")
		}
	})
	t.Run("OutOfQuota", func(t *testing.T) {
		e := mustStart(t)
		if err := e.db.SetAppLimits(context.Background(), e.appID, 0, 1); err != nil {
			t.Fatal(err)
		}
		f := form{person(idUnknown, nameJimin), testenv.Photo(t, "jimin2.jpg")}
		if r := e.post(f); r.Status != "OK" {
			t.Fatalf("first call: %s", r.raw)
		}
		if r := e.post(f); r.HTTP != 403 || r.Status != "OUT_OF_QUOTA" {
			t.Fatalf("second call over a quota of 1: %s", r.raw)
		}
	})
	t.Run("NoPermissionWithoutRegistry", func(t *testing.T) {
		e := mustStart(t, withRegistry(nil))
		r := e.post(form{person(idJimin, nameJimin), testenv.Photo(t, "jimin2.jpg")})
		if r.HTTP != 403 || r.Status != "NO_PERMISSION" {
			t.Fatalf("%s", r.raw)
		}
	})
	t.Run("NotFound", func(t *testing.T) {
		e := mustStart(t)
		r := e.postTo("/identity/no_such_call?api_id="+e.apiID, form{})
		if r.HTTP != 404 || r.Status != "NOT_FOUND" {
			t.Fatalf("%s", r.raw)
		}
		resp, err := http.Get(e.base + linkface.Path)
		if err != nil {
			t.Fatal(err)
		}
		if r := decode(t, resp); r.HTTP != 404 || r.Status != "NOT_FOUND" {
			t.Fatalf("GET: %s", r.raw)
		}
	})
}

func TestPhotoServiceErrors(t *testing.T) {
	release := make(chan struct{})
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Query().Get("id") {
		case idJimin: // slow
			select {
			case <-r.Context().Done():
			case <-release:
			}
		default:
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer upstream.Close()
	defer close(release)
	src, err := httpsrc.New(httpsrc.Config{URL: upstream.URL + "/photo?id={id}&name={name}",
		Timeout: 100 * time.Millisecond, Retries: -1})
	if err != nil {
		t.Fatal(err)
	}
	gone := httptest.NewServer(http.NotFoundHandler())
	gone.Close()
	down, err := httpsrc.New(httpsrc.Config{URL: gone.URL + "/photo?id={id}", Retries: -1})
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name   string
		src    registry.Source
		id     string
		reason string
	}{
		{"Timeout", src, idJimin, "Gongan service timeout"},
		{"Unavailable", src, idNoPhoto, "Gongan service is unavailable temporarily"},
		{"NetworkError", down, idJimin, "Network error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := mustStart(t, withRegistry(tt.src))
			r := e.post(form{person(tt.id, nameJimin), testenv.Photo(t, "jimin2.jpg")})
			if r.HTTP != 400 || r.Status != "PHOTO_SERVICE_ERROR" || r.Reason != tt.reason {
				t.Fatalf("%s", r.raw)
			}
		})
	}
}

// TestCurlExample runs the documented cURL example verbatim, with only the
// host, credentials, path and values filled in.
func TestCurlExample(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl not installed")
	}
	e := mustStart(t)
	img := testenv.Face(t, matchSelfie)
	cmd := exec.Command(curl, "-s", "-X", "POST",
		e.base+"/identity/selfie_idnumber_verification?api_id="+e.apiID+"&api_secret="+e.secret,
		"-F", "selfie_file=@"+img, "-F", "id_number="+idJimin, "-F", "name="+nameJimin)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("curl: %v", err)
	}
	var r reply
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("not JSON: %s", out)
	}
	if r.Status != "OK" || r.Confidence == nil || *r.Confidence < 0.7 || r.Identity == nil || !r.Identity.Validity {
		t.Fatalf("curl example: %s", out)
	}
}

// rotatedJPEG returns src turned 90 degrees clockwise, re-encoded without
// EXIF.
func rotatedJPEG(tb testing.TB, src []byte) []byte {
	tb.Helper()
	img, err := imageio.Decode(src, imageio.DefaultLimits())
	if err != nil {
		tb.Fatal(err)
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, imageio.Rotate(img, 90), &jpeg.Options{Quality: 92}); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}
