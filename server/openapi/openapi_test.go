package openapi_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/facekit/facekit/descriptor"
	"github.com/facekit/facekit/engine"
	"github.com/facekit/facekit/internal/testenv"
	"github.com/facekit/facekit/server"
	"github.com/facekit/facekit/server/baidu"
	"github.com/facekit/facekit/server/console"
	"github.com/facekit/facekit/server/linkface"
	"github.com/facekit/facekit/server/openapi"
	"github.com/facekit/facekit/server/ops"
	"github.com/facekit/facekit/server/tencent"
	"github.com/facekit/facekit/service"
	"github.com/facekit/facekit/store/sqlite"
)

// undocumented are route prefixes deliberately left out of the document:
// the web console's pages and its private JSON API.
var undocumented = []string{"/console"}

var (
	engineOnce sync.Once
	sharedEng  *engine.Engine
	engineErr  error
)

// newServer builds the real server with every dialect facekit serves.
func newServer(t *testing.T) *server.Server {
	t.Helper()
	dir := testenv.ModelDir(t)
	engineOnce.Do(func() { sharedEng, engineErr = engine.New(engine.Config{ModelDir: dir, PoolSize: 1}) })
	if engineErr != nil {
		t.Fatal(engineErr)
	}
	eng := sharedEng
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "facekit.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	resnet, err := descriptor.Open(descriptor.ResNet, descriptor.Env{Engine: eng})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := service.New(service.Config{}, service.Deps{
		Engine: eng, Descriptor: resnet, Library: db, Searcher: db, Apps: db, FaceTokens: db, Sessions: db,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(server.Config{}, svc,
		ops.New(ops.Config{}),
		baidu.New(),
		linkface.New(linkface.Config{}),
		tencent.New(tencent.Config{}),
		openapi.NewDialect(),
		console.New(console.Config{}),
	)
	if err != nil {
		t.Fatal(err)
	}
	return srv
}

// ginPath turns /a/:id/*rest into the OpenAPI /a/{id}/{rest}.
func ginPath(p string) string {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		if strings.HasPrefix(s, ":") || strings.HasPrefix(s, "*") {
			parts[i] = "{" + s[1:] + "}"
		}
	}
	return strings.Join(parts, "/")
}

// Every route of the router is documented, and every documented operation
// is served.
func TestDocumentMatchesRouter(t *testing.T) {
	srv := newServer(t)
	routes := srv.Handler().(*gin.Engine).Routes()
	served := map[string]bool{}
	for _, r := range routes {
		skip := false
		for _, p := range undocumented {
			if r.Path == p || strings.HasPrefix(r.Path, p+"/") {
				skip = true
			}
		}
		if !skip {
			served[r.Method+" "+ginPath(r.Path)] = true
		}
	}
	documented := map[string]bool{}
	doc := openapi.New()
	for path, item := range doc.Paths {
		for method := range item.Operations() {
			documented[method+" "+path] = true
		}
	}
	var missing, extra []string
	for k := range served {
		if !documented[k] {
			missing = append(missing, k)
		}
	}
	for k := range documented {
		if !served[k] {
			extra = append(extra, k)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	if len(missing) > 0 {
		t.Errorf("served but not documented:\n  %s", strings.Join(missing, "\n  "))
	}
	if len(extra) > 0 {
		t.Errorf("documented but not served:\n  %s", strings.Join(extra, "\n  "))
	}
	if len(served) < 25 {
		t.Errorf("only %d routes served; the dialects did not register?", len(served))
	}
}

// The document is well formed: unique operation ids, a response for every
// operation, every $ref resolvable, a tag every operation names.
func TestDocumentIsConsistent(t *testing.T) {
	doc := openapi.New()
	raw, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{}
	tags := map[string]bool{}
	for _, tg := range doc.Tags {
		tags[tg.Name] = true
	}
	for path, item := range doc.Paths {
		for method, op := range item.Operations() {
			where := method + " " + path
			if prev, dup := ids[op.OperationID]; dup {
				t.Errorf("%s: operationId %q also used by %s", where, op.OperationID, prev)
			}
			ids[op.OperationID] = where
			if op.Summary == "" || len(op.Responses) == 0 {
				t.Errorf("%s: no summary or no responses", where)
			}
			for _, tg := range op.Tags {
				if !tags[tg] {
					t.Errorf("%s: undeclared tag %q", where, tg)
				}
			}
			for _, sec := range op.Security {
				for name := range sec {
					if doc.Components.SecuritySchemes[name] == nil {
						t.Errorf("%s: unknown security scheme %q", where, name)
					}
				}
			}
		}
	}
	// Walk the JSON for $ref values.
	var tree any
	if err := json.Unmarshal(raw, &tree); err != nil {
		t.Fatal(err)
	}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if r, ok := v["$ref"].(string); ok {
				name, found := strings.CutPrefix(r, "#/components/schemas/")
				if !found || doc.Components.Schemas[name] == nil {
					t.Errorf("unresolved $ref %q", r)
				}
			}
			for _, x := range v {
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(tree)
}

func TestServedDocument(t *testing.T) {
	srv := newServer(t)
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	resp, err := http.Get(hs.URL + openapi.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("%d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var doc openapi.Document
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.OpenAPI != "3.0.3" || doc.Paths["/rest/2.0/face/v3/detect"] == nil || doc.Paths["/face/idcardcompare"] == nil ||
		doc.Paths["/identity/selfie_idnumber_verification"] == nil {
		t.Errorf("served document lacks endpoints: %v", doc.Paths)
	}
}
