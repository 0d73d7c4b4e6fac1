package postgres

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/facekit/facekit/internal/pgtest"
	"github.com/facekit/facekit/store"
)

func emb(v ...float32) store.Embedding { return store.Embedding{Model: "test_model", Vector: v} }

func mustApp(tb testing.TB, db *DB) string {
	tb.Helper()
	a, _, err := db.CreateApp(context.Background(), "test")
	if err != nil {
		tb.Fatal(err)
	}
	return a.ID
}

func addFace(db *DB, app, group, user, token string, e store.Embedding) error {
	_, err := db.AddFace(context.Background(), app, store.User{GroupID: group, UserID: user}, store.Face{Token: token, Embedding: e}, store.ActionAppend)
	return err
}

// waitFor polls cond until it holds or the (generous) timeout passes.
func waitFor(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// found reports whether db's index finds token for probe in group.
func found(db *DB, app, group, token string, probe store.Embedding) bool {
	got, err := db.Search(context.Background(), app, []string{group}, probe, "", 1)
	return err == nil && len(got) == 1 && got[0].Token == token
}

// TestFollowPaths: a node follows another through NOTIFY alone (no poll)
// and through the poll alone (no LISTEN), without anyone calling CatchUp.
func TestFollowPaths(t *testing.T) {
	for _, c := range []struct {
		name string
		opts Options
	}{
		{"NotifyOnly", Options{PollInterval: -1}},
		{"PollOnly", Options{NoListen: true, PollInterval: 50 * time.Millisecond}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dsn := pgtest.NewDatabase(t)
			a := mustOpen(t, dsn, Options{PollInterval: -1, NoListen: true})
			b := mustOpen(t, dsn, c.opts)
			app := mustApp(t, a)
			for i := range 5 {
				tok := fmt.Sprintf("t%d", i)
				if err := addFace(a, app, "g", fmt.Sprintf("u%d", i), tok, emb(float32(i), 1)); err != nil {
					t.Fatal(err)
				}
				t0 := time.Now()
				waitFor(t, "B to see "+tok, func() bool { return found(b, app, "g", tok, emb(float32(i), 1)) })
				t.Logf("%s seen after %v", tok, time.Since(t0))
			}
			if err := a.DeleteUser(context.Background(), app, "g", "u0"); err != nil {
				t.Fatal(err)
			}
			waitFor(t, "B to drop u0", func() bool { return !found(b, app, "g", "t0", emb(0, 1)) })
			if a.Seq() != b.Seq() {
				t.Fatalf("A at change %d, B at %d", a.Seq(), b.Seq())
			}
		})
	}
}

// TestCatchUpAfterLongAbsence: a node whose change numbers were pruned
// from the log reloads its index instead of replaying.
func TestCatchUpAfterLongAbsence(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.NewDatabase(t)
	a := mustOpen(t, dsn, Options{PollInterval: -1, NoListen: true})
	b := mustOpen(t, dsn, Options{PollInterval: -1, NoListen: true})
	app := mustApp(t, a)
	for i := range 10 {
		if err := addFace(a, app, "g", fmt.Sprintf("u%d", i), "t", emb(float32(i), 2)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := a.pool.Exec(ctx, `DELETE FROM changes`); err != nil {
		t.Fatal(err)
	}
	if err := b.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	if n := b.Index().Len(); n != 10 || b.Seq() != a.Seq() {
		t.Fatalf("B holds %d faces at change %d, want 10 at %d", n, b.Seq(), a.Seq())
	}
}

// TestOutage stops PostgreSQL under two nodes: searches keep answering
// from the index, writes fail with store.ErrUnavailable, Check reports it;
// after the restart writes succeed again and the other node catches up.
func TestOutage(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.NewDatabase(t)
	a := mustOpen(t, dsn, Options{ConnectTimeout: time.Second})
	b := mustOpen(t, dsn, Options{ConnectTimeout: time.Second})
	app := mustApp(t, a)
	if err := addFace(a, app, "g", "u1", "t1", emb(1, 1)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "B to see t1", func() bool { return found(b, app, "g", "t1", emb(1, 1)) })
	tok, _, err := a.IssueToken(ctx, app, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.AppByToken(ctx, tok); err != nil {
		t.Fatal(err)
	}

	srv := pgtest.Shared(t)
	if err := srv.StopServer(); err != nil {
		t.Fatal(err)
	}
	restarted := false
	defer func() {
		if !restarted {
			srv.StartServer()
		}
	}()
	for _, db := range []*DB{a, b} {
		if !found(db, app, "g", "t1", emb(1, 1)) {
			t.Fatal("search failed while the database is down")
		}
	}
	if err := addFace(a, app, "g", "u2", "t2", emb(2, 2)); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("write while down: %v, want ErrUnavailable", err)
	}
	if err := a.Check(ctx); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("Check while down: %v", err)
	}
	if got, err := a.AppByToken(ctx, tok); err != nil || got.ID != app {
		t.Fatalf("known token while down: %v, %v", got, err)
	}
	if err := a.PutFaceToken(ctx, app, store.DetectedFace{Token: "ft", Embedding: emb(1, 1)}); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("face token while down: %v", err)
	}

	if err := srv.StartServer(); err != nil {
		t.Fatal(err)
	}
	restarted = true
	// The pool drops its dead connections as they fail; a write may need
	// a retry or two right after the restart, as a client would do.
	waitFor(t, "a write to succeed after the restart", func() bool {
		return addFace(a, app, "g", "u2", "t2", emb(2, 2)) == nil
	})
	if err := a.Check(ctx); err != nil {
		t.Fatalf("Check after restart: %v", err)
	}
	waitFor(t, "B to see t2 after the restart", func() bool { return found(b, app, "g", "t2", emb(2, 2)) })
}

// TestGroupsSubset: a node limited to some groups loads and follows only
// those; searches of other groups answer store.ErrGroupNotFound, while
// its writes still reach the whole library.
func TestGroupsSubset(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.NewDatabase(t)
	all := mustOpen(t, dsn, Options{PollInterval: -1, NoListen: true})
	app := mustApp(t, all)
	for i, g := range []string{"a", "b", "a", "b"} {
		if err := addFace(all, app, g, fmt.Sprintf("u%d", i), "t", emb(float32(i), 3)); err != nil {
			t.Fatal(err)
		}
	}
	part := mustOpen(t, dsn, Options{PollInterval: -1, NoListen: true, Groups: []string{"a"}})
	check := func(when string, faces int) {
		t.Helper()
		if n := part.Index().Len(); n != faces {
			t.Fatalf("%s: node holds %d faces, want %d (group a only)", when, n, faces)
		}
		if _, err := part.Search(ctx, app, []string{"b"}, emb(1, 3), "", 1); !errors.Is(err, store.ErrGroupNotFound) {
			t.Fatalf("%s: search of a group the node does not hold: %v", when, err)
		}
	}
	check("after load", 2)
	if err := addFace(all, app, "a", "u9", "t", emb(9, 3)); err != nil {
		t.Fatal(err)
	}
	if err := addFace(all, app, "b", "u8", "t", emb(8, 3)); err != nil {
		t.Fatal(err)
	}
	if err := part.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	check("after following", 3)
	// Its own write to a group it does not hold lands in the library only.
	if err := addFace(part, app, "b", "u7", "t", emb(7, 3)); err != nil {
		t.Fatal(err)
	}
	check("after its own write to b", 3)
	if err := all.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	if n := all.Index().Len(); n != 7 {
		t.Fatalf("full node holds %d faces, want 7", n)
	}
}
