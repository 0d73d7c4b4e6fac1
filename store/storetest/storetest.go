// Package storetest is the conformance suite of the library backends: one
// set of tests that store/sqlite and store/postgres both run (each from its
// own test files, with a Backend saying how to open it), so the two keep
// the same behaviour, errors included.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"image"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/facekit/facekit/store"
	"github.com/facekit/facekit/store/index"
)

// Store is what a backend implements.
type Store interface {
	store.Library
	store.Searcher
	store.Apps
	store.FaceTokens
	store.SessionCodes
	store.Reembedder
	SourceCrop(ctx context.Context, app, group, user, token string) (*store.SourceCrop, error)
	RestoreApp(ctx context.Context, a store.App) (bool, error)
	Index() *index.Index
	Close() error
}

// Options are the backend options the suite varies.
type Options struct {
	Now           func() time.Time
	MaxFaceTokens int
}

// Backend tells the suite how to reach one backend.
type Backend struct {
	// New creates an empty database and returns its location (a file
	// path, a DSN).
	New func(tb testing.TB) string
	// Open opens the library at loc; it is closed when tb ends. Two
	// Opens of one loc are two nodes (or processes) sharing a library.
	Open func(tb testing.TB, loc string, o Options) Store
	// Sync makes s see what other handles committed (a follower's
	// catch-up), returning when it has.
	Sync func(tb testing.TB, s Store)
	// Count runs a query returning one integer on s's database; the
	// suite writes placeholders as $1, $2, ...
	Count func(tb testing.TB, s Store, query string, args ...any) int
}

func (b Backend) open(tb testing.TB, o Options) Store {
	s, _ := b.openAt(tb, o)
	return s
}

func (b Backend) openAt(tb testing.TB, o Options) (Store, string) {
	tb.Helper()
	loc := b.New(tb)
	return b.Open(tb, loc, o), loc
}

// Run runs the whole suite against b.
func Run(t *testing.T, b Backend) {
	for _, c := range []struct {
		name string
		fn   func(*testing.T, Backend)
	}{
		{"CreateGroup", testCreateGroup},
		{"DeleteGroup", testDeleteGroup},
		{"ListGroups", testListGroups},
		{"AddFace", testAddFace},
		{"AddFaceLimitsAndModels", testAddFaceLimitsAndModels},
		{"DeleteFace", testDeleteFace},
		{"GetUserAndLists", testGetUserAndLists},
		{"CopyUser", testCopyUser},
		{"DeleteUser", testDeleteUser},
		{"AppIsolation", testAppIsolation},
		{"IndexConsistency", testIndexConsistency},
		{"Apps", testApps},
		{"FaceTokens", testFaceTokens},
		{"FaceTokensPerApp", testFaceTokensPerApp},
		{"FaceTokensBatch", testFaceTokensBatch},
		{"SessionCodes", testSessionCodes},
		{"ConcurrentUse", testConcurrentUse},
		{"SourceCrops", testSourceCrops},
		{"RestoreApp", testRestoreApp},
		{"FaceLimitAcrossHandles", testFaceLimitAcrossHandles},
		{"ReplaceAtomicAcrossHandles", testReplaceAtomicAcrossHandles},
		{"HandlesFollowEachOther", testHandlesFollowEachOther},
	} {
		t.Run(c.name, func(t *testing.T) { c.fn(t, b) })
	}
}

const model = "test_model"

func emb(v ...float32) store.Embedding { return store.Embedding{Model: model, Vector: v} }

func mustCreateApp(tb testing.TB, db Store) string {
	tb.Helper()
	a, _, err := db.CreateApp(context.Background(), "test")
	if err != nil {
		tb.Fatal(err)
	}
	return a.ID
}

// mustAddFace enrolls a face with ActionAppend.
func mustAddFace(tb testing.TB, db Store, app, group, user, token string, e store.Embedding) {
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

// testSourceCrops: a source crop and thumbnail come back byte for byte,
// and a face without one answers nil.
func testSourceCrops(t *testing.T, b Backend) {
	ctx := context.Background()
	db := b.open(t, Options{})
	app := mustCreateApp(t, db)
	src := &store.SourceCrop{JPEG: []byte{0xff, 0xd8, 1, 2, 3}, Landmarks: [][2]float32{{1.5, 2}, {3, -4.25}}}
	if _, err := db.AddFace(ctx, app, store.User{GroupID: "g", UserID: "u"},
		store.Face{Token: "t1", Embedding: emb(1, 2), Thumbnail: []byte("thumb"), Source: src}, store.ActionAppend); err != nil {
		t.Fatal(err)
	}
	mustAddFace(t, db, app, "g", "u", "t2", emb(2, 2))
	got, err := db.SourceCrop(ctx, app, "g", "u", "t1")
	if err != nil || fmt.Sprint(got) != fmt.Sprint(src) {
		t.Fatalf("SourceCrop = %v, %v; want %v", got, err, src)
	}
	if got, err := db.SourceCrop(ctx, app, "g", "u", "t2"); err != nil || got != nil {
		t.Fatalf("SourceCrop without one = %v, %v", got, err)
	}
	if th, err := db.Thumbnail(ctx, app, "g", "u", "t1"); err != nil || string(th) != "thumb" {
		t.Fatalf("Thumbnail = %q, %v", th, err)
	}
	if _, err := db.SourceCrop(ctx, app, "g", "u", "t3"); !errors.Is(err, store.ErrFaceNotFound) {
		t.Fatalf("SourceCrop of unknown face: %v", err)
	}
}

// testRestoreApp: an application restored from another library keeps its
// id, key, secret, limits and calls; restoring it again changes nothing.
func testRestoreApp(t *testing.T, b Backend) {
	ctx := context.Background()
	src, dst := b.open(t, Options{}), b.open(t, Options{})
	a, secret, err := src.CreateApp(ctx, "moved")
	if err != nil {
		t.Fatal(err)
	}
	if err := src.SetAppLimits(ctx, a.ID, 7, 100); err != nil {
		t.Fatal(err)
	}
	if err := src.CountCall(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	a, _ = src.AppByID(ctx, a.ID)
	for i, want := range []bool{true, false} {
		if created, err := dst.RestoreApp(ctx, a); err != nil || created != want {
			t.Fatalf("restore %d: created %v, %v; want %v", i, created, err, want)
		}
	}
	got, err := dst.AppByKey(ctx, a.APIKey)
	if err != nil || fmt.Sprint(got) != fmt.Sprint(a) || !dst.VerifySecret(got, secret) {
		t.Fatalf("restored app %+v, %v; want %+v with a working secret", got, err, a)
	}
}

// testFaceLimitAcrossHandles: writers on two handles (two nodes, or two
// processes on one file) race to add faces to one user; together they
// never exceed store.MaxFacesPerUser.
func testFaceLimitAcrossHandles(t *testing.T, b Backend) {
	ctx := context.Background()
	a, loc := b.openAt(t, Options{})
	c := b.Open(t, loc, Options{})
	app := mustCreateApp(t, a)
	mustAddFace(t, a, app, "g", "u", "seed", emb(0, 0))
	const perHandle = 16
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		ok, full int
		other    []error
	)
	for h, db := range []Store{a, c} {
		for i := range perHandle {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := db.AddFace(ctx, app, store.User{GroupID: "g", UserID: "u"},
					store.Face{Token: fmt.Sprintf("h%d_%d", h, i), Embedding: emb(float32(h), float32(i))}, store.ActionAppend)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					ok++
				case errors.Is(err, store.ErrTooManyFaces):
					full++
				default:
					other = append(other, err)
				}
			}()
		}
	}
	wg.Wait()
	if len(other) > 0 {
		t.Fatalf("unexpected errors: %v", other)
	}
	faces, err := a.ListFaces(ctx, app, "g", "u")
	if err != nil || len(faces) != store.MaxFacesPerUser || ok != store.MaxFacesPerUser-1 || full != 2*perHandle-ok {
		t.Fatalf("%d faces stored (%v), %d adds succeeded, %d refused; want %d stored", len(faces), err, ok, full, store.MaxFacesPerUser)
	}
	for _, db := range []Store{a, c} {
		b.Sync(t, db)
		if n, _, _ := db.Index().GroupLen(app, "g"); n != store.MaxFacesPerUser {
			t.Fatalf("index holds %d faces, want %d", n, store.MaxFacesPerUser)
		}
	}
}

// testReplaceAtomicAcrossHandles: concurrent REPLACEs of one user from two
// handles leave exactly one face, never a mix.
func testReplaceAtomicAcrossHandles(t *testing.T, b Backend) {
	ctx := context.Background()
	a, loc := b.openAt(t, Options{})
	c := b.Open(t, loc, Options{})
	app := mustCreateApp(t, a)
	for i := range 5 {
		mustAddFace(t, a, app, "g", "u", fmt.Sprintf("old%d", i), emb(0, float32(i)))
	}
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for h, db := range []Store{a, c} {
		for i := range 10 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := db.AddFace(ctx, app, store.User{GroupID: "g", UserID: "u"},
					store.Face{Token: fmt.Sprintf("r%d_%d", h, i), Embedding: emb(1, float32(i))}, store.ActionReplace)
				errs <- err
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	faces, err := a.ListFaces(ctx, app, "g", "u")
	if err != nil || len(faces) != 1 || !strings.HasPrefix(faces[0].Token, "r") {
		t.Fatalf("after concurrent replaces: %v, %v; want one r* face", tokens(faces), err)
	}
	for _, db := range []Store{a, c} {
		b.Sync(t, db)
		got, err := db.Search(ctx, app, []string{"g"}, faces[0].Embedding, "", 5)
		if err != nil || len(got) != 1 || got[0].Token != faces[0].Token || got[0].Distance != 0 {
			t.Fatalf("index after replaces: %v, %v; want %s", got, err, faces[0].Token)
		}
	}
}

// testHandlesFollowEachOther: what one handle writes, another finds after
// it synced, and deletes propagate the same way.
func testHandlesFollowEachOther(t *testing.T, b Backend) {
	ctx := context.Background()
	a, loc := b.openAt(t, Options{})
	c := b.Open(t, loc, Options{})
	app := mustCreateApp(t, a)
	mustAddFace(t, a, app, "g", "u1", "t1", emb(1, 0))
	b.Sync(t, c)
	got, err := c.Search(ctx, app, []string{"g"}, emb(1, 0), "", 1)
	if err != nil || len(got) != 1 || got[0].UserID != "u1" {
		t.Fatalf("B after A enrolled: %v, %v", got, err)
	}
	if err := c.DeleteUser(ctx, app, "g", "u1"); err != nil {
		t.Fatal(err)
	}
	mustAddFace(t, c, app, "g2", "u2", "t2", emb(0, 1))
	b.Sync(t, a)
	if got, err := a.Search(ctx, app, []string{"g"}, emb(1, 0), "", 1); err != nil || len(got) != 0 {
		t.Fatalf("A after B deleted: %v, %v", got, err)
	}
	if got, err := a.Search(ctx, app, []string{"g2"}, emb(0, 1), "", 1); err != nil || len(got) != 1 {
		t.Fatalf("A after B enrolled in a new group: %v, %v", got, err)
	}
	if err := a.DeleteGroup(ctx, app, "g2"); err != nil {
		t.Fatal(err)
	}
	b.Sync(t, c)
	if _, err := c.Search(ctx, app, []string{"g2"}, emb(0, 1), "", 1); !errors.Is(err, store.ErrGroupNotFound) {
		t.Fatalf("B after A deleted the group: %v", err)
	}
}

func testCreateGroup(t *testing.T, b Backend) {
	db := b.open(t, Options{})
	ctx := context.Background()
	app := mustCreateApp(t, db)
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

func testDeleteGroup(t *testing.T, b Backend) {
	db := b.open(t, Options{})
	ctx := context.Background()
	app := mustCreateApp(t, db)
	mustAddFace(t, db, app, "g", "u", "t1", emb(1, 2))
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
	if n := b.Count(t, db, `SELECT count(*) FROM faces`); n != 0 {
		t.Fatalf("%d face rows left after cascade", n)
	}
}

func testListGroups(t *testing.T, b Backend) {
	db := b.open(t, Options{})
	ctx := context.Background()
	app, other := mustCreateApp(t, db), mustCreateApp(t, db)
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

func testAddFace(t *testing.T, b Backend) {
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
			db := b.open(t, Options{})
			app := mustCreateApp(t, db)
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

func testAddFaceLimitsAndModels(t *testing.T, b Backend) {
	ctx := context.Background()
	db := b.open(t, Options{})
	app := mustCreateApp(t, db)
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

func testDeleteFace(t *testing.T, b Backend) {
	ctx := context.Background()
	db := b.open(t, Options{})
	app := mustCreateApp(t, db)
	mustAddFace(t, db, app, "g", "u", "t1", emb(1))
	mustAddFace(t, db, app, "g", "u", "t2", emb(2))
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

func testGetUserAndLists(t *testing.T, b Backend) {
	ctx := context.Background()
	db := b.open(t, Options{})
	app := mustCreateApp(t, db)
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

func testCopyUser(t *testing.T, b Backend) {
	ctx := context.Background()
	db := b.open(t, Options{})
	app := mustCreateApp(t, db)
	db.AddFace(ctx, app, store.User{GroupID: "src", UserID: "u", Info: "info"}, store.Face{Token: "t1", Embedding: emb(1, 0), Thumbnail: []byte("j")}, store.ActionAppend)
	mustAddFace(t, db, app, "src", "u", "t2", emb(0, 1))
	db.CreateGroup(ctx, app, "dst")
	mustAddFace(t, db, app, "taken", "u", "x", emb(3, 3))
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

func testDeleteUser(t *testing.T, b Backend) {
	ctx := context.Background()
	setup := func(t *testing.T) (Store, string) {
		db := b.open(t, Options{})
		app := mustCreateApp(t, db)
		for _, g := range []string{"g1", "g2"} {
			mustAddFace(t, db, app, g, "u", "t", emb(1))
			mustAddFace(t, db, app, g, "v", "t", emb(2))
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

func testAppIsolation(t *testing.T, b Backend) {
	ctx := context.Background()
	db := b.open(t, Options{})
	a, b2 := mustCreateApp(t, db), mustCreateApp(t, db)
	mustAddFace(t, db, a, "g", "u", "t", emb(1))
	checks := []struct {
		name string
		err  error
		want error
	}{
		{"GetUser", func() error { _, err := db.GetUser(ctx, b2, "", "u"); return err }(), store.ErrUserNotFound},
		{"ListFaces", func() error { _, err := db.ListFaces(ctx, b2, "g", "u"); return err }(), store.ErrUserNotFound},
		{"ListUsers", func() error { _, err := db.ListUsers(ctx, b2, "g", 0, 10); return err }(), store.ErrGroupNotFound},
		{"Search", func() error { _, err := db.Search(ctx, b2, []string{"g"}, emb(1), "", 1); return err }(), store.ErrGroupNotFound},
		{"DeleteGroup", db.DeleteGroup(ctx, b2, "g"), store.ErrGroupNotFound},
		{"DeleteUser", db.DeleteUser(ctx, b2, "", "u"), store.ErrUserNotFound},
		{"DeleteFace", db.DeleteFace(ctx, b2, "g", "u", "t"), store.ErrUserNotFound},
		{"Thumbnail", func() error { _, err := db.Thumbnail(ctx, b2, "g", "u", "t"); return err }(), store.ErrFaceNotFound},
		{"CopyUser", db.CopyUser(ctx, b2, "u", "g", "g"), store.ErrGroupNotFound},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			if !errors.Is(c.err, c.want) {
				t.Fatalf("app b2 sees app a's data: %v, want %v", c.err, c.want)
			}
		})
	}
	if groups, _ := db.ListGroups(ctx, b2, 0, 10); len(groups) != 0 {
		t.Fatalf("ListGroups for b2: %v", groups)
	}
	// The same names in b2 are a separate library.
	mustAddFace(t, db, b2, "g", "u", "t", emb(9))
	got, err := db.Search(ctx, a, []string{"g"}, emb(1), "", 5)
	if err != nil || len(got) != 1 || got[0].Distance != 0 {
		t.Fatalf("a's search after b2 enrolled the same names: %v, %v", got, err)
	}
}

// TestIndexConsistency applies random writes, then checks that the live
// index, an index rebuilt by reopening, and the library contents agree.
func testIndexConsistency(t *testing.T, b Backend) {
	ctx := context.Background()
	db, loc := b.openAt(t, Options{})
	apps := []string{mustCreateApp(t, db), mustCreateApp(t, db)}
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
	db2 := b.Open(t, loc, Options{})
	if db.Index().Len() != db2.Index().Len() {
		t.Fatalf("live index %d faces, rebuilt %d", db.Index().Len(), db2.Index().Len())
	}
	rows := b.Count(t, db, `SELECT count(*) FROM faces`)
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

func testApps(t *testing.T, b Backend) {
	ctx := context.Background()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	db := b.open(t, Options{Now: func() time.Time { return now }})
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
		if n := b.Count(t, db, `SELECT count(*) FROM access_tokens WHERE token_hash = $1`, []byte(tok)); n != 0 {
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

func testFaceTokens(t *testing.T, b Backend) {
	ctx := context.Background()
	db := b.open(t, Options{MaxFaceTokens: 3})
	a, b2 := mustCreateApp(t, db), mustCreateApp(t, db)
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
	put(a, "t1")  // t1 is now the newest
	put(b2, "t4") // another app's token: the bound is per app, evicts nothing
	put(a, "t6")  // evicts t2, a's oldest
	tests := []struct {
		name, app, token string
		want             error
	}{
		{"Refreshed", a, "t1", nil},
		{"Evicted", a, "t2", store.ErrFaceNotFound},
		{"Kept", a, "t3", nil},
		{"Newest", a, "t6", nil},
		{"OtherApp", b2, "t4", nil},
		{"OtherAppsToken", b2, "t3", store.ErrFaceNotFound},
		{"Unknown", a, "zz", store.ErrFaceNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := db.GetFaceToken(ctx, tt.app, tt.token); !errors.Is(err, tt.want) {
				t.Fatalf("GetFaceToken = %v, want %v", err, tt.want)
			}
		})
	}
	if n := b.Count(t, db, `SELECT count(*) FROM face_tokens`); n != 4 {
		t.Fatalf("%d cached faces, want 4 (3 of app a, 1 of app b)", n)
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

func testSessionCodes(t *testing.T, b Backend) {
	ctx := context.Background()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	db := b.open(t, Options{Now: func() time.Time { return now }})
	a, b2 := mustCreateApp(t, db), mustCreateApp(t, db)
	if err := db.PutSessionCode(ctx, a, store.SessionCode{SessionID: "S1", Code: "1234", Expires: now.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	got, err := db.GetSessionCode(ctx, a, "S1")
	if err != nil || got.Code != "1234" || !got.Expires.Equal(now.Add(time.Minute)) {
		t.Fatalf("GetSessionCode = %+v, %v", got, err)
	}
	if _, err := db.GetSessionCode(ctx, b2, "S1"); !errors.Is(err, store.ErrSessionNotFound) {
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
func testConcurrentUse(t *testing.T, b Backend) {
	ctx := context.Background()
	db := b.open(t, Options{})
	app := mustCreateApp(t, db)
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

// testFaceTokensPerApp: the cache bound is per application, so one
// application's detects cannot flush another's tokens (issue 13: with
// max_face_tokens=10, app B's token answered 222209 after 12 detects by
// app A).
func testFaceTokensPerApp(t *testing.T, b Backend) {
	ctx := context.Background()
	db := b.open(t, Options{MaxFaceTokens: 10})
	appA, appB := mustCreateApp(t, db), mustCreateApp(t, db)
	if err := db.PutFaceToken(ctx, appB, store.DetectedFace{Token: "b0", Embedding: emb(1, 2)}); err != nil {
		t.Fatal(err)
	}
	for i := range 12 {
		if err := db.PutFaceToken(ctx, appA, store.DetectedFace{Token: fmt.Sprintf("a%d", i), Embedding: emb(1, 2)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.GetFaceToken(ctx, appB, "b0"); err != nil {
		t.Fatalf("app B's token after 12 puts by app A: %v", err)
	}
	for i, want := range map[int]error{0: store.ErrFaceNotFound, 1: store.ErrFaceNotFound, 2: nil, 11: nil} {
		if _, err := db.GetFaceToken(ctx, appA, fmt.Sprintf("a%d", i)); !errors.Is(err, want) {
			t.Errorf("app A's token a%d: %v, want %v", i, err, want)
		}
	}
	if n := b.Count(t, db, `SELECT count(*) FROM face_tokens WHERE app_id = $1`, appA); n != 10 {
		t.Errorf("app A has %d cached faces, want 10", n)
	}
}

// testFaceTokensBatch: PutFaceTokens stores a batch across applications
// in one call, bounds each application, skips (and reports) the entries it
// cannot store, and keeps the last entry of a repeated token.
func testFaceTokensBatch(t *testing.T, b Backend) {
	ctx := context.Background()
	db := b.open(t, Options{MaxFaceTokens: 3})
	appA, appB := mustCreateApp(t, db), mustCreateApp(t, db)
	box := image.Rect(1, 2, 30, 40)
	var batch []store.FaceTokenEntry
	for i := range 5 {
		batch = append(batch, store.FaceTokenEntry{App: appA, Face: store.DetectedFace{Token: fmt.Sprintf("a%d", i), Embedding: emb(1, 2)}})
	}
	batch = append(batch,
		store.FaceTokenEntry{App: appB, Face: store.DetectedFace{Token: "b0", Embedding: emb(3, 4)}},
		store.FaceTokenEntry{App: "nope", Face: store.DetectedFace{Token: "n0", Embedding: emb(1, 2)}},
		store.FaceTokenEntry{App: appB, Face: store.DetectedFace{Token: "b-1", Embedding: emb(1, 2)}},
		store.FaceTokenEntry{App: appB, Face: store.DetectedFace{Token: "b1"}},
		store.FaceTokenEntry{App: appB, Face: store.DetectedFace{Token: "b0", Embedding: emb(5, 6), Box: box}},
	)
	err := db.PutFaceTokens(ctx, batch)
	for _, want := range []error{store.ErrAppNotFound, store.ErrInvalidID, store.ErrInvalidEmbedding} {
		if !errors.Is(err, want) {
			t.Errorf("PutFaceTokens = %v, want it to report %v", err, want)
		}
	}
	for _, tt := range []struct {
		app, token string
		want       error
	}{
		{appA, "a0", store.ErrFaceNotFound}, {appA, "a1", store.ErrFaceNotFound},
		{appA, "a2", nil}, {appA, "a4", nil}, {appB, "b1", store.ErrFaceNotFound},
	} {
		if _, err := db.GetFaceToken(ctx, tt.app, tt.token); !errors.Is(err, tt.want) {
			t.Errorf("GetFaceToken(%s) = %v, want %v", tt.token, err, tt.want)
		}
	}
	got, err := db.GetFaceToken(ctx, appB, "b0")
	if err != nil || fmt.Sprint(got.Embedding.Vector) != "[5 6]" || got.Box != box {
		t.Errorf("GetFaceToken(b0) = %+v, %v; want the batch's last entry for b0", got, err)
	}
	if err := db.PutFaceTokens(ctx, nil); err != nil {
		t.Errorf("empty batch: %v", err)
	}
}
