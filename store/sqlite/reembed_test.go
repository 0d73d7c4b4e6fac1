package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"

	"github.com/facekit/facekit/store"
	"github.com/facekit/facekit/store/internal/blob"
)

// TestMigrateFrom0002 builds a library as migrations 0001 and 0002 left it,
// with a face and a cached face token, and checks that Open migrates it:
// the face keeps its descriptor, has no source crop (so a reembed reports
// it) and new faces keep theirs.
func TestMigrateFrom0002(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	raw, err := sql.Open("sqlite3", "file:"+path+"?_foreign_keys=on")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied INTEGER NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	// In order: 0002 alters a table 0001 creates.
	for i, name := range []string{"0001_library.sql", "0002_face_token_box.sql"} {
		v := i + 1
		body, err := migrationFiles.ReadFile("migrations/" + name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := raw.Exec(string(body)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if _, err := raw.Exec(`INSERT INTO schema_migrations VALUES (?, ?, 0)`, v, name); err != nil {
			t.Fatal(err)
		}
	}
	for _, q := range []string{
		`INSERT INTO apps (id, name, api_key, secret_hash, created) VALUES ('app1', 'old', 'key1', x'00', 0)`,
		`INSERT INTO groups (id, app_id, group_id, created) VALUES (1, 'app1', 'g', 0)`,
		`INSERT INTO users (id, group_ref, user_id, info, created) VALUES (1, 1, 'u', 'info', 0)`,
		`INSERT INTO apps (id, name, api_key, secret_hash, created) VALUES ('app2', 'other', 'key2', x'00', 0)`,
		`INSERT INTO face_tokens (app_id, face_token, model, vector, created) VALUES ('app1', 'tok1', 'm', x'00', 0)`,
		`INSERT INTO face_tokens (app_id, face_token, model, vector, created) VALUES ('app1', 'tok2', 'm', x'00', 0)`,
		`INSERT INTO face_tokens (app_id, face_token, model, vector, created) VALUES ('app2', 'tok1', 'm', x'00', 0)`,
	} {
		if _, err := raw.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := raw.Exec(`INSERT INTO faces (user_ref, face_token, model, vector, created) VALUES (1, 'old_face', ?, ?, 0)`,
		model, blob.EncodeVector([]float32{1, 2, 3})); err != nil {
		t.Fatal(err)
	}
	raw.Close()

	db, err := Open(path, Options{})
	if err != nil {
		t.Fatalf("open a 0002 library: %v", err)
	}
	defer db.Close()
	files, err := migrationFiles.ReadDir("migrations")
	if err != nil {
		t.Fatal(err)
	}
	var version int
	if err := db.w.QueryRow(`SELECT max(version) FROM schema_migrations`).Scan(&version); err != nil || version != len(files) {
		t.Fatalf("schema version %d (%v), want %d", version, err, len(files))
	}
	// Migration 0004 counts the cached tokens per application.
	for app, want := range map[string]int{"app1": 2, "app2": 1} {
		var n int
		if err := db.r.QueryRow(`SELECT n FROM face_token_counts WHERE app_id = ?`, app).Scan(&n); err != nil || n != want {
			t.Errorf("%s: %d cached tokens counted (%v), want %d", app, n, err, want)
		}
	}
	c, err := db.Search(ctx, "app1", []string{"g"}, emb(1, 2, 3), "", 1)
	if err != nil || len(c) != 1 || c[0].Token != "old_face" || c[0].Distance != 0 {
		t.Fatalf("search the migrated face: %v %v", c, err)
	}
	if src, err := db.SourceCrop(ctx, "app1", "g", "u", "old_face"); err != nil || src != nil {
		t.Errorf("migrated face's source crop: %v %v, want none", src, err)
	}
	pending, err := db.PendingFaces(ctx, "", "other_model", 0, 10)
	if err != nil || len(pending) != 1 || pending[0].Source != nil || pending[0].UserID != "u" {
		t.Fatalf("pending after migration: %+v %v", pending, err)
	}

	// A face enrolled after the migration keeps its crop and landmarks.
	crop := &store.SourceCrop{JPEG: []byte("jpeg bytes"), Landmarks: [][2]float32{{1.5, 2.25}, {3, 4}}}
	if _, err := db.AddFace(ctx, "app1", store.User{GroupID: "g", UserID: "u2"}, store.Face{Token: "new_face", Embedding: emb(3, 2, 1), Source: crop}, store.ActionAppend); err != nil {
		t.Fatal(err)
	}
	got, err := db.SourceCrop(ctx, "app1", "g", "u2", "new_face")
	if err != nil || got == nil || string(got.JPEG) != "jpeg bytes" || got.Landmarks[0] != [2]float32{1.5, 2.25} || len(got.Landmarks) != 2 {
		t.Fatalf("new face's source crop: %+v %v", got, err)
	}
	// CopyUser copies the crop with the face.
	if err := db.CreateGroup(ctx, "app1", "g2"); err != nil {
		t.Fatal(err)
	}
	if err := db.CopyUser(ctx, "app1", "u2", "g", "g2"); err != nil {
		t.Fatal(err)
	}
	if got, err := db.SourceCrop(ctx, "app1", "g2", "u2", "new_face"); err != nil || got == nil {
		t.Errorf("copied face's source crop: %v %v", got, err)
	}
}

// TestSwapModel checks the staging protocol on the store alone: a swap is
// refused while a face is unstaged, a vector staged for a face that was
// deleted and whose row id was reused is not applied, and the swap
// replaces model and vector and rebuilds the index.
func TestSwapModel(t *testing.T) {
	ctx := context.Background()
	db, _ := MustOpenDB(t, Options{})
	app := MustCreateApp(t, db)
	MustAddFace(t, db, app, "g", "a", "tok_a", emb(1, 0, 0))
	MustAddFace(t, db, app, "g", "b", "tok_b", emb(0, 1, 0))
	const next = "next_model"
	pending, err := db.PendingFaces(ctx, app, next, 0, 10)
	if err != nil || len(pending) != 2 {
		t.Fatalf("pending: %v %v", pending, err)
	}
	n, err := db.StageEmbeddings(ctx, next, []store.StagedEmbedding{
		{ID: pending[0].ID, Token: pending[0].Token, Vector: []float32{0, 0, 1, 0}},
		{ID: pending[1].ID, Token: "not_this_face", Vector: []float32{0, 0, 0, 1}},
	})
	if err != nil || n != 1 {
		t.Fatalf("stage: %d %v, want 1 face staged", n, err)
	}
	if _, err := db.SwapModel(ctx, app, next); !errors.Is(err, store.ErrNotStaged) {
		t.Fatalf("swap with a face unstaged: %v, want ErrNotStaged", err)
	}
	if c, err := db.Search(ctx, app, []string{"g"}, emb(1, 0, 0), "", 1); err != nil || c[0].Token != "tok_a" {
		t.Fatalf("refused swap changed the index: %v %v", c, err)
	}
	pending, err = db.PendingFaces(ctx, app, next, 0, 10)
	if err != nil || len(pending) != 1 || pending[0].Token != "tok_b" {
		t.Fatalf("pending after one staged: %+v %v", pending, err)
	}
	if _, err := db.StageEmbeddings(ctx, next, []store.StagedEmbedding{{ID: pending[0].ID, Token: "tok_b", Vector: []float32{0, 0, 0, 1}}}); err != nil {
		t.Fatal(err)
	}
	r, err := db.SwapModel(ctx, app, next)
	if err != nil || r.Faces != 2 {
		t.Fatalf("swap: %+v %v", r, err)
	}
	c, err := db.Search(ctx, app, []string{"g"}, store.Embedding{Model: next, Vector: []float32{0, 0, 0, 1}}, "", 1)
	if err != nil || c[0].Token != "tok_b" || c[0].Distance != 0 {
		t.Fatalf("search after the swap: %v %v", c, err)
	}
	counts, err := db.ModelCounts(ctx, app)
	if err != nil || counts[next] != 2 || len(counts) != 1 {
		t.Fatalf("model counts: %v %v", counts, err)
	}
	other := MustCreateApp(t, db)
	MustAddFace(t, db, other, "g", "c", "tok_c", emb(1, 0, 0))
	if models, err := db.Models(ctx); err != nil || len(models) != 2 || models[0] != next || models[1] != model {
		t.Errorf("models: %v %v, want [%s %s]", models, err, next, model)
	}
}
