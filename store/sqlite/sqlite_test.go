package sqlite

import (
	"context"
	"errors"
	"fmt"
	"image"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/facekit/facekit/store"
	"github.com/facekit/facekit/store/index"
)

const model = "test_model"

// MustOpenDB opens a database in a temporary directory and closes it when
// the test ends.
func MustOpenDB(tb testing.TB, opts Options) (*DB, string) {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "facekit.db")
	db, err := Open(path, opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db, path
}

// MustCreateApp creates an application and returns its id.
func MustCreateApp(tb testing.TB, db *DB) string {
	tb.Helper()
	a, _, err := db.CreateApp(context.Background(), "test")
	if err != nil {
		tb.Fatal(err)
	}
	return a.ID
}

func emb(v ...float32) store.Embedding { return store.Embedding{Model: model, Vector: v} }

// MustAddFace enrolls a face with ActionAppend.
func MustAddFace(tb testing.TB, db *DB, app, group, user, token string, e store.Embedding) {
	tb.Helper()
	if _, err := db.AddFace(context.Background(), app, store.User{GroupID: group, UserID: user}, store.Face{Token: token, Embedding: e}, store.ActionAppend); err != nil {
		tb.Fatalf("AddFace(%s/%s/%s): %v", group, user, token, err)
	}
}

func tokens(faces []store.Face) []string {
	var out []string
	for _, f := range faces {
		out = append(out, f.Token)
	}
	return out
}

func TestOpenSetsPragmas(t *testing.T) {
	db, path := MustOpenDB(t, Options{})
	ctx := context.Background()
	for _, c := range []struct {
		name, pragma, want string
		pool               string
	}{
		{"WriterWAL", "journal_mode", "wal", "w"},
		{"WriterForeignKeys", "foreign_keys", "1", "w"},
		{"WriterSynchronousFull", "synchronous", "2", "w"},
		{"WriterBusyTimeout", "busy_timeout", "5000", "w"},
		{"ReaderForeignKeys", "foreign_keys", "1", "r"},
		{"ReaderBusyTimeout", "busy_timeout", "5000", "r"},
		{"ReaderQueryOnly", "query_only", "1", "r"},
	} {
		t.Run(c.name, func(t *testing.T) {
			pool := db.w
			if c.pool == "r" {
				pool = db.r
			}
			var got string
			if err := pool.QueryRowContext(ctx, "PRAGMA "+c.pragma).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != c.want {
				t.Fatalf("PRAGMA %s = %s, want %s", c.pragma, got, c.want)
			}
		})
	}
	t.Run("MigrationsRecordedOnce", func(t *testing.T) {
		db.Close()
		db2, err := Open(path, Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer db2.Close()
		var n int
		if err := db2.r.QueryRow(`SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		files, err := fs.Glob(migrationFiles, "migrations/*.sql")
		if err != nil {
			t.Fatal(err)
		}
		if n != len(files) {
			t.Fatalf("%d migrations recorded, want %d", n, len(files))
		}
	})
}

func TestOpenOddPath(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a#b?c%20d")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "x.db")
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	MustCreateApp(t, db)
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("database not at %s: %v", path, err)
	}
}

func TestCreateGroup(t *testing.T) {
	db, _ := MustOpenDB(t, Options{})
	ctx := context.Background()
	app := MustCreateApp(t, db)
	if err := db.CreateGroup(ctx, app, "taken"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, app, group string
		want             error
	}{
		{"Created", app, "g1", nil},
		{"Exists", app, "taken", store.ErrGroupExists},
		{"InvalidID", app, "bad-id", store.ErrInvalidID},
		{"EmptyID", app, "", store.ErrInvalidID},
		{"TooLongID", app, strings.Repeat("a", 129), store.ErrInvalidID},
		{"MaxLengthID", app, strings.Repeat("a", 128), nil},
		{"UnknownApp", "nope", "g1", store.ErrAppNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := db.CreateGroup(ctx, tt.app, tt.group); !errors.Is(err, tt.want) {
				t.Fatalf("CreateGroup = %v, want %v", err, tt.want)
			}
		})
	}
	// An empty group is searchable and finds no one.
	got, err := db.Search(ctx, app, []string{"g1"}, emb(1, 2), "", 5)
	if err != nil || len(got) != 0 {
		t.Fatalf("search of empty group: %v, %v", got, err)
	}
}

func TestDeleteGroup(t *testing.T) {
	db, _ := MustOpenDB(t, Options{})
	ctx := context.Background()
	app := MustCreateApp(t, db)
	MustAddFace(t, db, app, "g", "u", "t1", emb(1, 2))
	tests := []struct {
		name, group string
		want        error
	}{
		{"Deleted", "g", nil},
		{"AlreadyGone", "g", store.ErrGroupNotFound},
		{"Missing", "never", store.ErrGroupNotFound},
		{"InvalidID", "a b", store.ErrInvalidID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := db.DeleteGroup(ctx, app, tt.group); !errors.Is(err, tt.want) {
				t.Fatalf("DeleteGroup = %v, want %v", err, tt.want)
			}
		})
	}
	if _, err := db.ListFaces(ctx, app, "g", "u"); !errors.Is(err, store.ErrUserNotFound) {
		t.Fatalf("faces survive their group: %v", err)
	}
	if _, err := db.Search(ctx, app, []string{"g"}, emb(1, 2), "", 1); !errors.Is(err, store.ErrGroupNotFound) {
		t.Fatalf("index still has the group: %v", err)
	}
	var n int
	db.r.QueryRow(`SELECT count(*) FROM faces`).Scan(&n)
	if n != 0 {
		t.Fatalf("%d face rows left after cascade", n)
	}
}

func TestListGroups(t *testing.T) {
	db, _ := MustOpenDB(t, Options{})
	ctx := context.Background()
	app, other := MustCreateApp(t, db), MustCreateApp(t, db)
	for i := 0; i < 5; i++ {
		if err := db.CreateGroup(ctx, app, fmt.Sprintf("g%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	db.CreateGroup(ctx, other, "x")
	tests := []struct {
		name          string
		start, length int
		want          string
		err           error
	}{
		{"All", 0, 100, "[g0 g1 g2 g3 g4]", nil},
		{"Page", 1, 2, "[g2 g3]" /* placeholder, fixed below */, nil},
		{"PastEnd", 10, 5, "[]", nil},
		{"MaxLength", 0, 1000, "[g0 g1 g2 g3 g4]", nil},
		{"LengthTooBig", 0, 1001, "", store.ErrInvalidPage},
		{"LengthZero", 0, 0, "", store.ErrInvalidPage},
		{"NegativeStart", -1, 10, "", store.ErrInvalidPage},
	}
	tests[1].want = "[g1 g2]"
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := db.ListGroups(ctx, app, tt.start, tt.length)
			if !errors.Is(err, tt.err) {
				t.Fatalf("error %v, want %v", err, tt.err)
			}
			if err == nil && fmt.Sprint(got) != tt.want {
				t.Fatalf("got %v, want %s", got, tt.want)
			}
		})
	}
}

func TestAddFace(t *testing.T) {
	ctx := context.Background()
	type step struct {
		user, info, token string
		action            store.AddAction
		want              error
	}
	tests := []struct {
		name      string
		steps     []step
		wantFaces string // faces of user u after all steps
		wantInfo  string
	}{
		{"AppendCreates", []step{{"u", "i1", "t1", store.ActionAppend, nil}}, "[t1]", "i1"},
		{"AppendAppends", []step{
			{"u", "i1", "t1", store.ActionAppend, nil},
			{"u", "", "t2", store.ActionAppend, nil},
		}, "[t1 t2]", "i1"},
		{"AppendSameTokenFails", []step{
			{"u", "", "t1", store.ActionAppend, nil},
			{"u", "", "t1", store.ActionAppend, store.ErrFaceExists},
		}, "[t1]", ""},
		{"ReplaceCreates", []step{{"u", "i", "t1", store.ActionReplace, nil}}, "[t1]", "i"},
		{"ReplaceReplaces", []step{
			{"u", "i1", "t1", store.ActionAppend, nil},
			{"u", "", "t2", store.ActionAppend, nil},
			{"u", "i2", "t3", store.ActionReplace, nil},
		}, "[t3]", "i2"},
		{"ReplaceWithSameToken", []step{
			{"u", "", "t1", store.ActionAppend, nil},
			{"u", "", "t1", store.ActionReplace, nil},
		}, "[t1]", ""},
		{"UpdateNeedsUser", []step{{"u", "", "t1", store.ActionUpdate, store.ErrUserNotFound}}, "", ""},
		{"UpdateAppendsAndSetsInfo", []step{
			{"u", "old", "t1", store.ActionAppend, nil},
			{"u", "new", "t2", store.ActionUpdate, nil},
		}, "[t1 t2]", "new"},
		{"UpdateReplaceCreates", []step{{"u", "i", "t1", store.ActionUpdateReplace, nil}}, "[t1]", "i"},
		{"UpdateReplaceReplaces", []step{
			{"u", "", "t1", store.ActionAppend, nil},
			{"u", "", "t2", store.ActionUpdateReplace, nil},
		}, "[t2]", ""},
		{"InvalidUserID", []step{{"u!", "", "t1", store.ActionAppend, store.ErrInvalidID}}, "", ""},
		{"InvalidToken", []step{{"u", "", "t-1", store.ActionAppend, store.ErrInvalidID}}, "", ""},
		{"InfoTooLong", []step{{"u", strings.Repeat("x", 257), "t1", store.ActionAppend, store.ErrUserInfoLength}}, "", ""},
		{"InfoAtLimit", []step{{"u", strings.Repeat("x", 256), "t1", store.ActionAppend, nil}}, "[t1]", strings.Repeat("x", 256)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, _ := MustOpenDB(t, Options{})
			app := MustCreateApp(t, db)
			for i, s := range tt.steps {
				_, err := db.AddFace(ctx, app, store.User{GroupID: "g", UserID: s.user, Info: s.info},
					store.Face{Token: s.token, Embedding: emb(float32(i), 0)}, s.action)
				if !errors.Is(err, s.want) {
					t.Fatalf("step %d: AddFace = %v, want %v", i, err, s.want)
				}
			}
			faces, err := db.ListFaces(ctx, app, "g", "u")
			if tt.wantFaces == "" {
				if !errors.Is(err, store.ErrUserNotFound) {
					t.Fatalf("ListFaces = %v, %v; want ErrUserNotFound", faces, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := fmt.Sprint(tokens(faces)); got != tt.wantFaces {
				t.Fatalf("faces %s, want %s", got, tt.wantFaces)
			}
			users, err := db.GetUser(ctx, app, "g", "u")
			if err != nil || users[0].Info != tt.wantInfo {
				t.Fatalf("GetUser = %v, %v; want info %q", users, err, tt.wantInfo)
			}
			// The index holds exactly the listed faces, with the same info.
			nFaces, _, _ := db.Index().GroupLen(app, "g")
			if nFaces != len(faces) {
				t.Fatalf("index holds %d faces, library %d", nFaces, len(faces))
			}
			for _, f := range faces {
				got, err := db.Search(ctx, app, []string{"g"}, f.Embedding, "u", 1)
				if err != nil || len(got) != 1 || got[0].Distance != 0 || got[0].Info != tt.wantInfo {
					t.Fatalf("search for face %s: %v, %v", f.Token, got, err)
				}
			}
		})
	}
}

func TestAddFaceLimitsAndModels(t *testing.T) {
	ctx := context.Background()
	db, _ := MustOpenDB(t, Options{})
	app := MustCreateApp(t, db)
	add := func(group, user, token string, e store.Embedding, action store.AddAction) error {
		_, err := db.AddFace(ctx, app, store.User{GroupID: group, UserID: user}, store.Face{Token: token, Embedding: e}, action)
		return err
	}
	t.Run("TooManyFaces", func(t *testing.T) {
		for i := 0; i < store.MaxFacesPerUser; i++ {
			if err := add("many", "u", fmt.Sprintf("t%d", i), emb(float32(i)), store.ActionAppend); err != nil {
				t.Fatal(err)
			}
		}
		if err := add("many", "u", "t20", emb(20), store.ActionAppend); !errors.Is(err, store.ErrTooManyFaces) {
			t.Fatalf("21st face: %v, want ErrTooManyFaces", err)
		}
		// Replacing is always possible.
		if err := add("many", "u", "t21", emb(21), store.ActionReplace); err != nil {
			t.Fatalf("replace at the limit: %v", err)
		}
	})
	t.Run("ModelMismatch", func(t *testing.T) {
		if err := add("m", "u1", "t1", emb(1, 2), store.ActionAppend); err != nil {
			t.Fatal(err)
		}
		other := store.Embedding{Model: "other", Vector: []float32{1, 2}}
		if err := add("m", "u2", "t2", other, store.ActionAppend); !errors.Is(err, store.ErrModelMismatch) {
			t.Fatalf("other model: %v, want ErrModelMismatch", err)
		}
		if _, err := db.Search(ctx, app, []string{"m"}, other, "", 1); !errors.Is(err, store.ErrModelMismatch) {
			t.Fatalf("search with other model: %v, want ErrModelMismatch", err)
		}
		// The only user of a group may switch model by replacing its faces.
		if err := add("m", "u1", "t3", other, store.ActionReplace); err != nil {
			t.Fatalf("replace with other model: %v", err)
		}
		// Other groups of the same app keep their own model.
		if err := add("m2", "u1", "t1", emb(1, 2), store.ActionAppend); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("OtherLength", func(t *testing.T) {
		add("len", "u1", "t1", emb(1, 2), store.ActionAppend)
		if err := add("len", "u1", "t2", emb(1, 2, 3), store.ActionAppend); !errors.Is(err, store.ErrInvalidEmbedding) {
			t.Fatalf("3-d into 2-d group: %v", err)
		}
	})
	t.Run("InvalidEmbedding", func(t *testing.T) {
		for _, e := range []store.Embedding{{Model: model}, {Vector: []float32{1}}} {
			if err := add("bad", "u", "t", e, store.ActionAppend); !errors.Is(err, store.ErrInvalidEmbedding) {
				t.Fatalf("%v: %v, want ErrInvalidEmbedding", e, err)
			}
		}
	})
	t.Run("UnknownApp", func(t *testing.T) {
		_, err := db.AddFace(ctx, "nope", store.User{GroupID: "g", UserID: "u"}, store.Face{Embedding: emb(1)}, store.ActionAppend)
		if !errors.Is(err, store.ErrAppNotFound) {
			t.Fatalf("AddFace for unknown app: %v", err)
		}
	})
	t.Run("GeneratedTokenAndThumbnail", func(t *testing.T) {
		f, err := db.AddFace(ctx, app, store.User{GroupID: "th", UserID: "u"}, store.Face{Embedding: emb(1), Thumbnail: []byte("jpeg")}, store.ActionAppend)
		if err != nil || len(f.Token) != 32 || f.GroupID != "th" || f.UserID != "u" || f.Created.IsZero() {
			t.Fatalf("AddFace = %+v, %v", f, err)
		}
		thumb, err := db.Thumbnail(ctx, app, "th", "u", f.Token)
		if err != nil || string(thumb) != "jpeg" {
			t.Fatalf("Thumbnail = %q, %v", thumb, err)
		}
		if _, err := db.Thumbnail(ctx, app, "th", "u", "nope"); !errors.Is(err, store.ErrFaceNotFound) {
			t.Fatalf("Thumbnail of unknown face: %v", err)
		}
	})
	t.Run("CallerSliceNotAliased", func(t *testing.T) {
		v := []float32{5, 5}
		add("alias", "u", "t", store.Embedding{Model: model, Vector: v}, store.ActionAppend)
		v[0] = 100
		got, _ := db.Search(ctx, app, []string{"alias"}, emb(5, 5), "", 1)
		if len(got) != 1 || got[0].Distance != 0 {
			t.Fatalf("index changed with the caller's slice: %v", got)
		}
	})
}

func TestDeleteFace(t *testing.T) {
	ctx := context.Background()
	db, _ := MustOpenDB(t, Options{})
	app := MustCreateApp(t, db)
	MustAddFace(t, db, app, "g", "u", "t1", emb(1))
	MustAddFace(t, db, app, "g", "u", "t2", emb(2))
	tests := []struct {
		name, group, user, token string
		want                     error
	}{
		{"Deleted", "g", "u", "t1", nil},
		{"FaceGone", "g", "u", "t1", store.ErrFaceNotFound},
		{"UnknownUser", "g", "x", "t2", store.ErrUserNotFound},
		{"UnknownGroup", "x", "u", "t2", store.ErrUserNotFound},
		{"InvalidToken", "g", "u", "t 2", store.ErrInvalidID},
		{"LastFaceDeleted", "g", "u", "t2", nil},
		{"UserGoneWithLastFace", "g", "u", "t2", store.ErrUserNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := db.DeleteFace(ctx, app, tt.group, tt.user, tt.token); !errors.Is(err, tt.want) {
				t.Fatalf("DeleteFace = %v, want %v", err, tt.want)
			}
		})
	}
	if _, err := db.GetUser(ctx, app, "g", "u"); !errors.Is(err, store.ErrUserNotFound) {
		t.Fatalf("user without faces still exists: %v", err)
	}
	if n, users, ok := db.Index().GroupLen(app, "g"); n != 0 || users != 0 || !ok {
		t.Fatalf("index group: %d faces %d users exists %v", n, users, ok)
	}
}

func TestGetUserAndLists(t *testing.T) {
	ctx := context.Background()
	db, _ := MustOpenDB(t, Options{})
	app := MustCreateApp(t, db)
	for _, g := range []string{"g1", "g2", "g3"} {
		db.CreateGroup(ctx, app, g)
	}
	db.AddFace(ctx, app, store.User{GroupID: "g2", UserID: "u", Info: "two"}, store.Face{Token: "a", Embedding: emb(1)}, store.ActionAppend)
	db.AddFace(ctx, app, store.User{GroupID: "g1", UserID: "u", Info: "one"}, store.Face{Token: "b", Embedding: emb(1)}, store.ActionAppend)
	db.AddFace(ctx, app, store.User{GroupID: "g1", UserID: "v"}, store.Face{Token: "c", Embedding: emb(1)}, store.ActionAppend)

	t.Run("GetUser", func(t *testing.T) {
		tests := []struct {
			name, group, user, want string
			err                     error
		}{
			{"AllGroupsInCreationOrder", "", "u", "[{g1 u one} {g2 u two}]", nil},
			{"OneGroup", "g2", "u", "[{g2 u two}]", nil},
			{"NotInGroup", "g3", "u", "", store.ErrUserNotFound},
			{"Unknown", "", "w", "", store.ErrUserNotFound},
			{"InvalidUser", "", "", "", store.ErrInvalidID},
			{"InvalidGroup", "g-1", "u", "", store.ErrInvalidID},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got, err := db.GetUser(ctx, app, tt.group, tt.user)
				if !errors.Is(err, tt.err) {
					t.Fatalf("error %v, want %v", err, tt.err)
				}
				if err == nil && fmt.Sprint(got) != tt.want {
					t.Fatalf("got %v, want %s", got, tt.want)
				}
			})
		}
	})
	t.Run("ListUsers", func(t *testing.T) {
		tests := []struct {
			name, group   string
			start, length int
			want          string
			err           error
		}{
			{"EnrollmentOrder", "g1", 0, 100, "[u v]", nil},
			{"Paged", "g1", 1, 1, "[v]", nil},
			{"EmptyGroup", "g3", 0, 100, "[]", nil},
			{"UnknownGroup", "gx", 0, 100, "", store.ErrGroupNotFound},
			{"BadPage", "g1", 0, 1001, "", store.ErrInvalidPage},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got, err := db.ListUsers(ctx, app, tt.group, tt.start, tt.length)
				if !errors.Is(err, tt.err) {
					t.Fatalf("error %v, want %v", err, tt.err)
				}
				if err == nil && fmt.Sprint(got) != tt.want {
					t.Fatalf("got %v, want %s", got, tt.want)
				}
			})
		}
	})
	t.Run("ListFaces", func(t *testing.T) {
		faces, err := db.ListFaces(ctx, app, "g1", "u")
		if err != nil || len(faces) != 1 || faces[0].Token != "b" || faces[0].Embedding.Model != model ||
			fmt.Sprint(faces[0].Embedding.Vector) != "[1]" || faces[0].Created.IsZero() || faces[0].Thumbnail != nil {
			t.Fatalf("ListFaces = %+v, %v", faces, err)
		}
		if _, err := db.ListFaces(ctx, app, "g3", "u"); !errors.Is(err, store.ErrUserNotFound) {
			t.Fatalf("ListFaces in other group: %v", err)
		}
	})
}

func TestCopyUser(t *testing.T) {
	ctx := context.Background()
	db, _ := MustOpenDB(t, Options{})
	app := MustCreateApp(t, db)
	db.AddFace(ctx, app, store.User{GroupID: "src", UserID: "u", Info: "info"}, store.Face{Token: "t1", Embedding: emb(1, 0), Thumbnail: []byte("j")}, store.ActionAppend)
	MustAddFace(t, db, app, "src", "u", "t2", emb(0, 1))
	db.CreateGroup(ctx, app, "dst")
	MustAddFace(t, db, app, "taken", "u", "x", emb(3, 3))
	db.AddFace(ctx, app, store.User{GroupID: "othermodel", UserID: "w"}, store.Face{Token: "y", Embedding: store.Embedding{Model: "other", Vector: []float32{1, 1}}}, store.ActionAppend)
	tests := []struct {
		name, user, src, dst string
		want                 error
	}{
		{"Copied", "u", "src", "dst", nil},
		{"AlreadyInDst", "u", "src", "dst", store.ErrUserExists},
		{"ExistsInTaken", "u", "src", "taken", store.ErrUserExists},
		{"SrcMissing", "u", "nosrc", "dst", store.ErrGroupNotFound},
		{"DstMissing", "u", "src", "nodst", store.ErrGroupNotFound},
		{"UserMissing", "nobody", "src", "dst", store.ErrUserNotFound},
		{"ModelMismatch", "u", "src", "othermodel", store.ErrModelMismatch},
		{"InvalidID", "u", "src", "d st", store.ErrInvalidID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := db.CopyUser(ctx, app, tt.user, tt.src, tt.dst); !errors.Is(err, tt.want) {
				t.Fatalf("CopyUser = %v, want %v", err, tt.want)
			}
		})
	}
	faces, err := db.ListFaces(ctx, app, "dst", "u")
	if err != nil || fmt.Sprint(tokens(faces)) != "[t1 t2]" {
		t.Fatalf("copied faces %v, %v", faces, err)
	}
	if th, _ := db.Thumbnail(ctx, app, "dst", "u", "t1"); string(th) != "j" {
		t.Fatalf("thumbnail not copied: %q", th)
	}
	got, err := db.Search(ctx, app, []string{"dst"}, emb(0, 1), "", 5)
	if err != nil || len(got) != 1 || got[0].Token != "t2" || got[0].Info != "info" || got[0].Distance != 0 {
		t.Fatalf("search of copy: %v, %v", got, err)
	}
	// The copy is independent of the original.
	if err := db.DeleteUser(ctx, app, "src", "u"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ListFaces(ctx, app, "dst", "u"); err != nil {
		t.Fatalf("copy deleted with the original: %v", err)
	}
}

func TestDeleteUser(t *testing.T) {
	ctx := context.Background()
	setup := func(t *testing.T) (*DB, string) {
		db, _ := MustOpenDB(t, Options{})
		app := MustCreateApp(t, db)
		for _, g := range []string{"g1", "g2"} {
			MustAddFace(t, db, app, g, "u", "t", emb(1))
			MustAddFace(t, db, app, g, "v", "t", emb(2))
		}
		return db, app
	}
	tests := []struct {
		name, group, user string
		want              error
		left              string // users left in g1 and g2
	}{
		{"OneGroup", "g1", "u", nil, "[v] [u v]"},
		{"AllGroups", "", "u", nil, "[v] [v]"},
		{"Unknown", "", "w", store.ErrUserNotFound, "[u v] [u v]"},
		{"NotInGroup", "g3", "u", store.ErrUserNotFound, "[u v] [u v]"},
		{"InvalidID", "", "u.", store.ErrInvalidID, "[u v] [u v]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, app := setup(t)
			if err := db.DeleteUser(ctx, app, tt.group, tt.user); !errors.Is(err, tt.want) {
				t.Fatalf("DeleteUser = %v, want %v", err, tt.want)
			}
			g1, _ := db.ListUsers(ctx, app, "g1", 0, 10)
			g2, _ := db.ListUsers(ctx, app, "g2", 0, 10)
			if got := fmt.Sprint(g1, " ", g2); got != tt.left {
				t.Fatalf("users left %s, want %s", got, tt.left)
			}
			got, _ := db.Search(ctx, app, []string{"g1", "g2"}, emb(1), "", 10)
			if len(got) != strings.Count(tt.left, "u")+strings.Count(tt.left, "v") {
				t.Fatalf("index has %v, library %s", got, tt.left)
			}
		})
	}
}

func TestAppIsolation(t *testing.T) {
	ctx := context.Background()
	db, _ := MustOpenDB(t, Options{})
	a, b := MustCreateApp(t, db), MustCreateApp(t, db)
	MustAddFace(t, db, a, "g", "u", "t", emb(1))
	checks := []struct {
		name string
		err  error
		want error
	}{
		{"GetUser", func() error { _, err := db.GetUser(ctx, b, "", "u"); return err }(), store.ErrUserNotFound},
		{"ListFaces", func() error { _, err := db.ListFaces(ctx, b, "g", "u"); return err }(), store.ErrUserNotFound},
		{"ListUsers", func() error { _, err := db.ListUsers(ctx, b, "g", 0, 10); return err }(), store.ErrGroupNotFound},
		{"Search", func() error { _, err := db.Search(ctx, b, []string{"g"}, emb(1), "", 1); return err }(), store.ErrGroupNotFound},
		{"DeleteGroup", db.DeleteGroup(ctx, b, "g"), store.ErrGroupNotFound},
		{"DeleteUser", db.DeleteUser(ctx, b, "", "u"), store.ErrUserNotFound},
		{"DeleteFace", db.DeleteFace(ctx, b, "g", "u", "t"), store.ErrUserNotFound},
		{"Thumbnail", func() error { _, err := db.Thumbnail(ctx, b, "g", "u", "t"); return err }(), store.ErrFaceNotFound},
		{"CopyUser", db.CopyUser(ctx, b, "u", "g", "g"), store.ErrGroupNotFound},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			if !errors.Is(c.err, c.want) {
				t.Fatalf("app b sees app a's data: %v, want %v", c.err, c.want)
			}
		})
	}
	if groups, _ := db.ListGroups(ctx, b, 0, 10); len(groups) != 0 {
		t.Fatalf("ListGroups for b: %v", groups)
	}
	// The same names in b are a separate library.
	MustAddFace(t, db, b, "g", "u", "t", emb(9))
	got, err := db.Search(ctx, a, []string{"g"}, emb(1), "", 5)
	if err != nil || len(got) != 1 || got[0].Distance != 0 {
		t.Fatalf("a's search after b enrolled the same names: %v, %v", got, err)
	}
}

// TestIndexConsistency applies random writes, then checks that the live
// index, an index rebuilt by reopening, and the library contents agree.
func TestIndexConsistency(t *testing.T) {
	ctx := context.Background()
	db, path := MustOpenDB(t, Options{})
	apps := []string{MustCreateApp(t, db), MustCreateApp(t, db)}
	r := rand.New(rand.NewPCG(1, 2))
	groups := []string{"g0", "g1", "g2"}
	vec := func() store.Embedding {
		v := make([]float32, 8)
		for i := range v {
			v[i] = float32(r.IntN(5))
		}
		return emb(v...)
	}
	steps := 600
	if testing.Short() {
		steps = 150
	}
	for i := 0; i < steps; i++ {
		app, g, u := apps[r.IntN(2)], groups[r.IntN(3)], fmt.Sprintf("u%d", r.IntN(8))
		var err error
		switch op := r.IntN(100); {
		case op < 55:
			_, err = db.AddFace(ctx, app, store.User{GroupID: g, UserID: u, Info: fmt.Sprint(i)},
				store.Face{Token: fmt.Sprintf("t%d", r.IntN(6)), Embedding: vec()}, store.AddAction(r.IntN(4)))
		case op < 70:
			err = db.DeleteFace(ctx, app, g, u, fmt.Sprintf("t%d", r.IntN(6)))
		case op < 80:
			err = db.DeleteUser(ctx, app, []string{"", g}[r.IntN(2)], u)
		case op < 90:
			err = db.CopyUser(ctx, app, u, g, groups[r.IntN(3)])
		case op < 94:
			err = db.DeleteGroup(ctx, app, g)
		default:
			err = db.CreateGroup(ctx, app, g)
		}
		// Domain errors are expected in a random walk; anything else is not.
		if err != nil && !isDomainError(err) {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	db2, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	if db.Index().Len() != db2.Index().Len() {
		t.Fatalf("live index %d faces, rebuilt %d", db.Index().Len(), db2.Index().Len())
	}
	var rows int
	db.r.QueryRow(`SELECT count(*) FROM faces`).Scan(&rows)
	if rows != db.Index().Len() {
		t.Fatalf("index %d faces, table %d", db.Index().Len(), rows)
	}
	for _, app := range apps {
		existing, _ := db.ListGroups(ctx, app, 0, 1000)
		for _, g := range existing {
			users, _ := db.ListUsers(ctx, app, g, 0, 1000)
			n, nu, ok := db.Index().GroupLen(app, g)
			if !ok || nu != len(users) {
				t.Fatalf("group %s: index %d users (exists %v), library %d", g, nu, ok, len(users))
			}
			var faces int
			for _, u := range users {
				fs, err := db.ListFaces(ctx, app, g, u)
				if err != nil {
					t.Fatal(err)
				}
				faces += len(fs)
			}
			if n != faces {
				t.Fatalf("group %s: index %d faces, library %d", g, n, faces)
			}
		}
		for q := 0; q < 20; q++ {
			probe := vec()
			got1, err1 := db.Search(ctx, app, existing, probe, "", 10)
			got2, err2 := db2.Search(ctx, app, existing, probe, "", 10)
			if fmt.Sprint(got1, err1) != fmt.Sprint(got2, err2) {
				t.Fatalf("live and rebuilt index differ:\n%v %v\n%v %v", got1, err1, got2, err2)
			}
		}
	}
}

func isDomainError(err error) bool {
	for _, e := range []error{store.ErrGroupNotFound, store.ErrGroupExists, store.ErrUserNotFound, store.ErrUserExists,
		store.ErrFaceNotFound, store.ErrFaceExists, store.ErrTooManyFaces} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

func TestApps(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	db, _ := MustOpenDB(t, Options{Now: func() time.Time { return now }})
	a, secret, err := db.CreateApp(ctx, "demo")
	if err != nil {
		t.Fatal(err)
	}
	if a.ID == "" || a.APIKey == "" || secret == "" || strings.Contains(string(a.SecretHash), secret) {
		t.Fatalf("CreateApp = %+v, %q", a, secret)
	}
	t.Run("ByKeyAndID", func(t *testing.T) {
		byKey, err := db.AppByKey(ctx, a.APIKey)
		if err != nil || byKey.ID != a.ID || byKey.Name != "demo" || !byKey.Created.Equal(now) {
			t.Fatalf("AppByKey = %+v, %v", byKey, err)
		}
		if byID, err := db.AppByID(ctx, a.ID); err != nil || byID.APIKey != a.APIKey {
			t.Fatalf("AppByID = %+v, %v", byID, err)
		}
		if _, err := db.AppByKey(ctx, "nope"); !errors.Is(err, store.ErrAppNotFound) {
			t.Fatalf("unknown key: %v", err)
		}
		if _, err := db.AppByID(ctx, "nope"); !errors.Is(err, store.ErrAppNotFound) {
			t.Fatalf("unknown id: %v", err)
		}
	})
	t.Run("VerifySecret", func(t *testing.T) {
		stored, _ := db.AppByKey(ctx, a.APIKey)
		tests := []struct {
			name, secret string
			want         bool
		}{
			{"Right", secret, true},
			{"Wrong", secret + "x", false},
			{"Empty", "", false},
			{"OtherAppsSecret", func() string { _, s, _ := db.CreateApp(ctx, "b"); return s }(), false},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				if got := db.VerifySecret(stored, tt.secret); got != tt.want {
					t.Fatalf("VerifySecret = %v, want %v", got, tt.want)
				}
			})
		}
		if db.VerifySecret(store.App{}, secret) {
			t.Fatal("VerifySecret accepts an app without hash")
		}
	})
	t.Run("Tokens", func(t *testing.T) {
		tok, exp, err := db.IssueToken(ctx, a.ID, time.Hour)
		if err != nil || !exp.Equal(now.Add(time.Hour)) {
			t.Fatalf("IssueToken = %q, %v, %v", tok, exp, err)
		}
		var n int
		db.r.QueryRow(`SELECT count(*) FROM access_tokens WHERE token_hash = ?`, []byte(tok)).Scan(&n)
		if n != 0 {
			t.Fatal("token stored in plain text")
		}
		if got, err := db.AppByToken(ctx, tok); err != nil || got.ID != a.ID {
			t.Fatalf("AppByToken = %+v, %v", got, err)
		}
		if _, err := db.AppByToken(ctx, tok+"x"); !errors.Is(err, store.ErrTokenNotFound) {
			t.Fatalf("unknown token: %v", err)
		}
		if _, _, err := db.IssueToken(ctx, "nope", time.Hour); !errors.Is(err, store.ErrAppNotFound) {
			t.Fatalf("token for unknown app: %v", err)
		}
		now = now.Add(time.Hour)
		if _, err := db.AppByToken(ctx, tok); !errors.Is(err, store.ErrTokenExpired) {
			t.Fatalf("expired token: %v", err)
		}
		// Issuing purges expired tokens.
		db.IssueToken(ctx, a.ID, time.Hour)
		if _, err := db.AppByToken(ctx, tok); !errors.Is(err, store.ErrTokenNotFound) {
			t.Fatalf("purged token: %v", err)
		}
	})
	t.Run("Quota", func(t *testing.T) {
		if err := db.SetAppLimits(ctx, a.ID, 10, 2); err != nil {
			t.Fatal(err)
		}
		for i, want := range []error{nil, nil, store.ErrQuotaExceeded, store.ErrQuotaExceeded} {
			if err := db.CountCall(ctx, a.ID); !errors.Is(err, want) {
				t.Fatalf("call %d: %v, want %v", i, err, want)
			}
		}
		got, _ := db.AppByID(ctx, a.ID)
		if got.QPS != 10 || got.Quota != 2 || got.CallsUsed != 2 {
			t.Fatalf("app after calls: %+v", got)
		}
		if err := db.CountCall(ctx, "nope"); !errors.Is(err, store.ErrAppNotFound) {
			t.Fatalf("CountCall unknown app: %v", err)
		}
		if err := db.SetAppLimits(ctx, "nope", 1, 1); !errors.Is(err, store.ErrAppNotFound) {
			t.Fatalf("SetAppLimits unknown app: %v", err)
		}
	})
}

func TestFaceTokens(t *testing.T) {
	ctx := context.Background()
	db, _ := MustOpenDB(t, Options{MaxFaceTokens: 3})
	a, b := MustCreateApp(t, db), MustCreateApp(t, db)
	put := func(app, token string) error {
		return db.PutFaceToken(ctx, app, store.DetectedFace{Token: token, Embedding: emb(1, 2)})
	}
	for _, tok := range []string{"t1", "t2", "t3"} {
		if err := put(a, tok); err != nil {
			t.Fatal(err)
		}
	}
	got, err := db.GetFaceToken(ctx, a, "t1")
	if err != nil || got.Embedding.Model != model || fmt.Sprint(got.Embedding.Vector) != "[1 2]" || got.Created.IsZero() {
		t.Fatalf("GetFaceToken = %+v, %v", got, err)
	}
	put(a, "t1") // t1 is now the newest
	put(b, "t4") // the bound is per database: evicts t2, the oldest
	tests := []struct {
		name, app, token string
		want             error
	}{
		{"Refreshed", a, "t1", nil},
		{"Evicted", a, "t2", store.ErrFaceNotFound},
		{"Kept", a, "t3", nil},
		{"OtherApp", b, "t4", nil},
		{"OtherAppsToken", b, "t3", store.ErrFaceNotFound},
		{"Unknown", a, "zz", store.ErrFaceNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := db.GetFaceToken(ctx, tt.app, tt.token); !errors.Is(err, tt.want) {
				t.Fatalf("GetFaceToken = %v, want %v", err, tt.want)
			}
		})
	}
	var n, counted int
	db.r.QueryRow(`SELECT count(*) FROM face_tokens`).Scan(&n)
	db.r.QueryRow(`SELECT n FROM face_token_count`).Scan(&counted)
	if n != 3 || counted != 3 {
		t.Fatalf("%d cached faces (counter %d), want 3", n, counted)
	}
	t.Run("BoxKept", func(t *testing.T) {
		box := image.Rect(-3, 4, 120, 130)
		if err := db.PutFaceToken(ctx, a, store.DetectedFace{Token: "tb", Embedding: emb(1, 2), Box: box, Roll: -7.5}); err != nil {
			t.Fatal(err)
		}
		got, err := db.GetFaceToken(ctx, a, "tb")
		if err != nil || got.Box != box || got.Roll != -7.5 {
			t.Fatalf("GetFaceToken = %+v, %v; want box %v roll -7.5", got, err, box)
		}
	})
	t.Run("NoBoxStaysEmpty", func(t *testing.T) {
		if err := put(a, "tn"); err != nil {
			t.Fatal(err)
		}
		got, err := db.GetFaceToken(ctx, a, "tn")
		if err != nil || !got.Box.Empty() || got.Roll != 0 {
			t.Fatalf("GetFaceToken = %+v, %v; want no box", got, err)
		}
	})
	t.Run("Invalid", func(t *testing.T) {
		if err := put(a, "t-5"); !errors.Is(err, store.ErrInvalidID) {
			t.Fatalf("invalid token: %v", err)
		}
		if err := db.PutFaceToken(ctx, a, store.DetectedFace{Token: "t5"}); !errors.Is(err, store.ErrInvalidEmbedding) {
			t.Fatalf("no embedding: %v", err)
		}
		if err := put("nope", "t5"); !errors.Is(err, store.ErrAppNotFound) {
			t.Fatalf("unknown app: %v", err)
		}
	})
}

func TestSessionCodes(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	db, _ := MustOpenDB(t, Options{Now: func() time.Time { return now }})
	a, b := MustCreateApp(t, db), MustCreateApp(t, db)
	if err := db.PutSessionCode(ctx, a, store.SessionCode{SessionID: "S1", Code: "1234", Expires: now.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	got, err := db.GetSessionCode(ctx, a, "S1")
	if err != nil || got.Code != "1234" || !got.Expires.Equal(now.Add(time.Minute)) {
		t.Fatalf("GetSessionCode = %+v, %v", got, err)
	}
	if _, err := db.GetSessionCode(ctx, b, "S1"); !errors.Is(err, store.ErrSessionNotFound) {
		t.Fatalf("other app: %v", err)
	}
	if _, err := db.GetSessionCode(ctx, a, "S2"); !errors.Is(err, store.ErrSessionNotFound) {
		t.Fatalf("unknown: %v", err)
	}
	if err := db.PutSessionCode(ctx, a, store.SessionCode{SessionID: "S 1", Code: "1", Expires: now}); !errors.Is(err, store.ErrInvalidID) {
		t.Fatalf("invalid id: %v", err)
	}
	now = now.Add(time.Minute)
	if _, err := db.GetSessionCode(ctx, a, "S1"); !errors.Is(err, store.ErrSessionExpired) {
		t.Fatalf("expired: %v", err)
	}
}

// TestConcurrentUse runs writers, readers and searches at once (meant for
// -race): every acknowledged face must be found afterwards.
func TestConcurrentUse(t *testing.T) {
	ctx := context.Background()
	db, _ := MustOpenDB(t, Options{})
	app := MustCreateApp(t, db)
	db.CreateGroup(ctx, app, "g")
	const writers, perWriter = 4, 25
	errc := make(chan error, writers+2)
	done := make(chan struct{})
	for w := 0; w < writers; w++ {
		go func() {
			for i := 0; i < perWriter; i++ {
				_, err := db.AddFace(ctx, app, store.User{GroupID: "g", UserID: fmt.Sprintf("w%d_%d", w, i)},
					store.Face{Token: "t", Embedding: emb(float32(w), float32(i))}, store.ActionAppend)
				if err != nil {
					errc <- err
					return
				}
			}
			errc <- nil
		}()
	}
	for range 2 {
		go func() {
			for {
				select {
				case <-done:
					errc <- nil
					return
				default:
				}
				if _, err := db.Search(ctx, app, []string{"g"}, emb(1, 1), "", 5); err != nil {
					errc <- err
					return
				}
				if _, err := db.ListUsers(ctx, app, "g", 0, 1000); err != nil {
					errc <- err
					return
				}
			}
		}()
	}
	for range writers {
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
	}
	close(done)
	for range 2 {
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
	}
	users, _ := db.ListUsers(ctx, app, "g", 0, 1000)
	got, err := db.Search(ctx, app, []string{"g"}, emb(0, 0), "", 1000)
	if err != nil || len(users) != writers*perWriter || len(got) != writers*perWriter {
		t.Fatalf("%d users listed, %d found (%v), want %d", len(users), len(got), err, writers*perWriter)
	}
}

// TestIndexPrecision: the option reaches the index, which a reopen rebuilds
// with the same precision, and an unknown precision fails Open.
func TestIndexPrecision(t *testing.T) {
	for _, p := range []index.Precision{"", index.Float16, index.Float32} {
		t.Run("Precision"+string(p), func(t *testing.T) {
			db, path := MustOpenDB(t, Options{IndexPrecision: p})
			app := MustCreateApp(t, db)
			e := crashVector(3)
			MustAddFace(t, db, app, "g", "u", "t", e)
			db.Close()
			db, err := Open(path, Options{IndexPrecision: p})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			want := p
			if want == "" {
				want = index.Float16
			}
			if got := db.Index().Precision(); got != want {
				t.Fatalf("index precision %q, want %q", got, want)
			}
			c, err := db.Search(context.Background(), app, []string{"g"}, e, "", 1)
			if err != nil || len(c) != 1 || c[0].Distance > 1e-3 {
				t.Fatalf("search of the enrolled vector after reopen: %v, %v", c, err)
			}
		})
	}
	t.Run("Unknown", func(t *testing.T) {
		if db, err := Open(filepath.Join(t.TempDir(), "x.db"), Options{IndexPrecision: "int8"}); err == nil {
			db.Close()
			t.Fatal("Open accepted index precision int8")
		}
	})
}
