package ops_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/facekit/facekit/descriptor"
	"github.com/facekit/facekit/engine"
	"github.com/facekit/facekit/internal/testenv"
	"github.com/facekit/facekit/server"
	"github.com/facekit/facekit/server/baidu"
	"github.com/facekit/facekit/server/ops"
	"github.com/facekit/facekit/service"
	"github.com/facekit/facekit/store/sqlite"
)

var (
	engineOnce sync.Once
	sharedEng  *engine.Engine
	engineErr  error
)

func mustEngine(tb testing.TB) *engine.Engine {
	tb.Helper()
	dir := testenv.ModelDir(tb)
	engineOnce.Do(func() { sharedEng, engineErr = engine.New(engine.Config{ModelDir: dir, PoolSize: 1}) })
	if engineErr != nil {
		tb.Fatal(engineErr)
	}
	return sharedEng
}

// The ops dialect mounted in the real server, first as it must be, sees
// the Baidu dialect's requests and the engine and search stages.
func TestMetricsThroughTheRealServer(t *testing.T) {
	eng := mustEngine(t)
	jpg, err := os.ReadFile(testenv.Face(t, "bona.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	dbPath := filepath.Join(t.TempDir(), "facekit.db")
	db, err := sqlite.Open(dbPath, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	app, secret, err := db.CreateApp(context.Background(), "ops")
	if err != nil {
		t.Fatal(err)
	}
	o := ops.New(ops.Config{
		Checks:       map[string]ops.Check{"engine": ops.EngineCheck(eng), "library": ops.WritableCheck(dbPath)},
		LibraryFaces: db.Index().Len,
	})
	resnet, err := descriptor.Open(descriptor.ResNet, descriptor.Env{Engine: eng})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := service.New(service.Config{}, service.Deps{
		Engine: o.Engine(eng), Descriptor: o.Describer(resnet), Library: o.Library(db), Searcher: o.Searcher(db), Apps: db, FaceTokens: db,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(server.Config{}, svc, o, baidu.New())
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()

	resp, err := http.PostForm(hs.URL+"/oauth/2.0/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {app.APIKey}, "client_secret": {secret}})
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || tok.AccessToken == "" {
		t.Fatalf("token: %v", err)
	}
	resp.Body.Close()
	call := func(path string, body map[string]any) {
		b, _ := json.Marshal(body)
		resp, err := http.Post(hs.URL+path+"?access_token="+tok.AccessToken, "application/json", strings.NewReader(string(b)))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	img := base64.StdEncoding.EncodeToString(jpg)
	call("/rest/2.0/face/v3/faceset/user/add", map[string]any{"image": img, "image_type": "BASE64", "group_id": "g", "user_id": "bona"})
	call("/rest/2.0/face/v3/search", map[string]any{"image": img, "image_type": "BASE64", "group_id_list": "g"})

	code, body := get(t, hs.URL+ops.PathMetrics)
	if code != http.StatusOK {
		t.Fatalf("metrics: %d", code)
	}
	fams := parseMetrics(t, body)
	for _, want := range []sample{
		{"facekit_http_requests_total", labels{"method": "POST", "endpoint": "/rest/2.0/face/v3/search", "code": "200"}, 1},
		{"facekit_http_requests_total", labels{"method": "POST", "endpoint": "/oauth/2.0/token", "code": "200"}, 1},
		{"facekit_stage_duration_seconds_count", labels{"stage": "analyze"}, 2},
		{"facekit_stage_duration_seconds_count", labels{"stage": "describe"}, 2},
		{"facekit_stage_duration_seconds_count", labels{"stage": "search"}, 1},
		{"facekit_stage_duration_seconds_count", labels{"stage": "enroll"}, 1},
		{"facekit_engine_slots", nil, 1},
		{"facekit_engine_slots_busy", nil, 0},
		{"facekit_library_faces", nil, 1},
	} {
		want.check(t, fams)
	}
	if fams["go_goroutines"] == nil || fams["process_resident_memory_bytes"] == nil {
		t.Error("metrics lack the Go and process collectors")
	}

	code, body = get(t, hs.URL+ops.PathReady)
	if code != http.StatusOK {
		t.Errorf("readyz: %d %s", code, body)
	}
}
