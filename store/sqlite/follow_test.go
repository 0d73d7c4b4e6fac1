package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/facekit/facekit/store"
	"github.com/facekit/facekit/store/sqlite"
)

// A server's DB sees faces that another process (here: a second handle on
// the same file, as `facekit enroll` would be) commits, without a restart.
func TestRefreshFollowsOtherWriters(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "lib.db")
	server, err := sqlite.Open(path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	app, _, err := server.CreateApp(ctx, "kiosk")
	if err != nil {
		t.Fatal(err)
	}
	if changed, err := server.Refresh(ctx); err != nil || changed {
		t.Fatalf("Refresh after own writes: changed=%v err=%v, want false, nil", changed, err)
	}

	enroller, err := sqlite.Open(path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	vec := make([]float32, 128)
	vec[0] = 1
	face := store.Face{Embedding: store.Embedding{Model: "m", Vector: vec}}
	if _, err := enroller.AddFace(ctx, app.ID, store.User{GroupID: "g", UserID: "alice"}, face, store.ActionAppend); err != nil {
		t.Fatal(err)
	}
	enroller.Close()

	probe := store.Embedding{Model: "m", Vector: vec}
	if _, err := server.Search(ctx, app.ID, []string{"g"}, probe, "", 1); err == nil {
		t.Fatal("the server found the group before refreshing; the test proves nothing")
	}
	changed, err := server.Refresh(ctx)
	if err != nil || !changed {
		t.Fatalf("Refresh: changed=%v err=%v, want true, nil", changed, err)
	}
	got, err := server.Search(ctx, app.ID, []string{"g"}, probe, "", 1)
	if err != nil || len(got) != 1 || got[0].UserID != "alice" {
		t.Fatalf("search after refresh: %v, %v", got, err)
	}
	if changed, _ := server.Refresh(ctx); changed {
		t.Error("a second Refresh with no new commits reloaded again")
	}
}

func TestFollowIntervalReloadsInBackground(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "lib.db")
	server, err := sqlite.Open(path, sqlite.Options{FollowInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	app, _, _ := server.CreateApp(ctx, "kiosk")
	enroller, err := sqlite.Open(path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer enroller.Close()
	vec := make([]float32, 128)
	vec[1] = 1
	if _, err := enroller.AddFace(ctx, app.ID, store.User{GroupID: "g", UserID: "bob"}, store.Face{Embedding: store.Embedding{Model: "m", Vector: vec}}, store.ActionAppend); err != nil {
		t.Fatal(err)
	}
	// Poll (bounded) until the follower has reloaded; this waits for an
	// event, it asserts nothing about speed.
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if got, err := server.Search(ctx, app.ID, []string{"g"}, store.Embedding{Model: "m", Vector: vec}, "", 1); err == nil && len(got) == 1 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("the following DB never saw the other process's face")
}
