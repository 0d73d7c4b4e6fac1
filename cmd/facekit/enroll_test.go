package main

import (
	"bytes"
	"context"
	"image/jpeg"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/facekit/facekit/engine"
	"github.com/facekit/facekit/internal/testenv"
	"github.com/facekit/facekit/quality"
	"github.com/facekit/facekit/service"
	"github.com/facekit/facekit/store"
	"github.com/facekit/facekit/store/sqlite"
)

var (
	sharedEngineOnce sync.Once
	sharedEngine     *engine.Engine
	sharedEngineErr  error
)

// mustEngine loads one engine per test binary (loading takes ~1 s).
func mustEngine(tb testing.TB) *engine.Engine {
	tb.Helper()
	models := testenv.ModelDir(tb)
	sharedEngineOnce.Do(func() {
		sharedEngine, sharedEngineErr = engine.New(engine.Config{ModelDir: models})
	})
	if sharedEngineErr != nil {
		tb.Fatalf("engine: %v", sharedEngineErr)
	}
	return sharedEngine
}

// mustLibrary opens a fresh library with one application.
func mustLibrary(tb testing.TB) (*sqlite.DB, string, string) {
	tb.Helper()
	dir := tb.TempDir()
	path := filepath.Join(dir, "facekit.db")
	db, err := sqlite.Open(path, sqlite.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	app, _, err := db.CreateApp(context.Background(), "test")
	if err != nil {
		tb.Fatal(err)
	}
	return db, path, app.ID
}

// photoTree links real test photos into a per-user directory tree:
// layout maps "user/file.jpg" to a photo of the shared test set ("" for an
// unreadable file).
func photoTree(tb testing.TB, layout map[string]string) string {
	tb.Helper()
	dir := tb.TempDir()
	for rel, src := range layout {
		dst := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			tb.Fatal(err)
		}
		var err error
		if src == "" {
			err = os.WriteFile(dst, []byte("this is not a JPEG"), 0o600)
		} else {
			err = os.Symlink(testenv.Face(tb, src), dst)
		}
		if err != nil {
			tb.Fatal(err)
		}
	}
	return dir
}

// enrollLayout has one photo of each outcome the summary reports.
var enrollLayout = map[string]string{
	"jimin/a.jpg":    "jimin.jpg",
	"jimin/b.jpg":    "jimin2.jpg",
	"bona/a.jpg":     "bona.jpg",
	"bona/b.jpg":     "bona2.jpg",
	"crowd/a.jpg":    "pristin.jpg", // 10 faces
	"eunseo/a.jpg":   "eunseo.jpg",  // a profile HOG does not find
	"broken/bad.jpg": "",
}

func TestEnroll(t *testing.T) {
	eng := mustEngine(t)
	photos := photoTree(t, enrollLayout)
	db, path, app := mustLibrary(t)
	opts := enrollOptions{dbPath: path, app: app, group: "staff", photos: photos, thumbnails: true, minFace: 40, maxPose: 50, quality: quality.LevelLow}
	var progress bytes.Buffer
	sum, err := enroll(context.Background(), eng, db, opts, &progress)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{outcomeAdded: 4, outcomeSeveral: 1, outcomeNoFace: 1, outcomeUnreadable: 1}
	if !reflect.DeepEqual(sum.outcomes, want) {
		t.Errorf("outcomes = %v, want %v", sum.outcomes, want)
	}
	var out bytes.Buffer
	sum.print(&out)
	for _, s := range []string{"faces added: 4", "skipped: 3", "several faces: 1", "crowd/a.jpg (10 faces)", "broken/bad.jpg"} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("summary lacks %q:\n%s", s, out.String())
		}
	}
	ctx := context.Background()
	for _, user := range []string{"jimin", "bona"} {
		faces, err := db.ListFaces(ctx, app, "staff", user)
		if err != nil || len(faces) != 2 {
			t.Fatalf("%s: %d faces, %v", user, len(faces), err)
		}
		thumb, err := db.Thumbnail(ctx, app, "staff", user, faces[0].Token)
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := jpeg.DecodeConfig(bytes.NewReader(thumb))
		if err != nil || cfg.Width != service.ThumbnailSize || cfg.Height != service.ThumbnailSize {
			t.Errorf("%s thumbnail: %dx%d, %v", user, cfg.Width, cfg.Height, err)
		}
	}
	// The enrolled faces are searchable: another photo of jimin finds jimin.
	img, err := loadImage(testenv.Face(t, "jimin4.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	probe, err := eng.Analyze(ctx, img, engine.Options{Upsample: -1, Descriptors: true, MaxFaces: 1})
	if err != nil || len(probe) != 1 {
		t.Fatalf("jimin4.jpg: %d faces, %v", len(probe), err)
	}
	cands, err := db.Search(ctx, app, []string{"staff"}, store.Embedding{Model: engine.ModelName, Vector: probe[0].Descriptor[:]}, "", 1)
	if err != nil || len(cands) != 1 || cands[0].UserID != "jimin" {
		t.Errorf("search for jimin4.jpg: %v, %v", cands, err)
	}
}

func TestEnrollNoThumbnails(t *testing.T) {
	eng := mustEngine(t)
	photos := photoTree(t, map[string]string{"bona/a.jpg": "bona.jpg"})
	db, path, app := mustLibrary(t)
	opts := enrollOptions{dbPath: path, app: app, group: "g", photos: photos, minFace: 40, maxPose: 50}
	if _, err := enroll(context.Background(), eng, db, opts, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	faces, err := db.ListFaces(context.Background(), app, "g", "bona")
	if err != nil || len(faces) != 1 {
		t.Fatalf("%d faces, %v", len(faces), err)
	}
	thumb, err := db.Thumbnail(context.Background(), app, "g", "bona", faces[0].Token)
	if err != nil || thumb != nil {
		t.Errorf("thumbnail = %d bytes, %v; want none", len(thumb), err)
	}
}

func TestEnrollQualityGates(t *testing.T) {
	eng := mustEngine(t)
	tests := []struct {
		name    string
		opts    func(*enrollOptions)
		outcome string
	}{
		{"FaceTooSmall", func(o *enrollOptions) { o.minFace = 5000 }, outcomeSmallFace},
		{"HeadTurned", func(o *enrollOptions) { o.maxPose = -1 }, outcomeTurned},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			photos := photoTree(t, map[string]string{"bona/a.jpg": "bona.jpg"})
			db, path, app := mustLibrary(t)
			opts := enrollOptions{dbPath: path, app: app, group: "g", photos: photos, minFace: 40, maxPose: 50}
			tt.opts(&opts)
			sum, err := enroll(context.Background(), eng, db, opts, &bytes.Buffer{})
			if err != nil {
				t.Fatal(err)
			}
			if sum.outcomes[tt.outcome] != 1 || sum.outcomes[outcomeAdded] != 0 {
				t.Errorf("outcomes = %v, want one %q", sum.outcomes, tt.outcome)
			}
		})
	}
}

// blurredPhotos writes a box-blurred copy of a test photo as user/a.jpg
// of a new photo directory.
func blurredPhotos(tb testing.TB, name, user string, radius int) string {
	tb.Helper()
	img, err := loadImage(testenv.Face(tb, name))
	if err != nil {
		tb.Fatal(err)
	}
	w, h := img.Width, img.Height
	src := append([]byte(nil), img.Pix...)
	tmp := make([]byte, len(src))
	// Three passes of a separable box filter approximate a Gaussian.
	for pass := 0; pass < 3; pass++ {
		for _, horizontal := range []bool{true, false} {
			for y := 0; y < h; y++ {
				for x := 0; x < w; x++ {
					var sum [3]int
					n := 0
					for k := -radius; k <= radius; k++ {
						xx, yy := x, y
						if horizontal {
							xx = min(max(x+k, 0), w-1)
						} else {
							yy = min(max(y+k, 0), h-1)
						}
						o := yy*img.Stride + 3*xx
						sum[0] += int(src[o])
						sum[1] += int(src[o+1])
						sum[2] += int(src[o+2])
						n++
					}
					o := y*img.Stride + 3*x
					tmp[o], tmp[o+1], tmp[o+2] = byte(sum[0]/n), byte(sum[1]/n), byte(sum[2]/n)
				}
			}
			src, tmp = tmp, src
		}
	}
	img.Pix = src
	dir := tb.TempDir()
	if err := os.Mkdir(filepath.Join(dir, user), 0o755); err != nil {
		tb.Fatal(err)
	}
	f, err := os.Create(filepath.Join(dir, user, "a.jpg"))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	if err := jpeg.Encode(f, img, &jpeg.Options{Quality: 92}); err != nil {
		tb.Fatal(err)
	}
	return dir
}

// A blurred photo of a face that enrolls when sharp is refused by the
// quality gate, with the criterion named in the summary.
func TestEnrollRejectsBlurredPhoto(t *testing.T) {
	eng := mustEngine(t)
	photos := blurredPhotos(t, "bona.jpg", "bona", 10)
	db, path, app := mustLibrary(t)
	opts := enrollOptions{dbPath: path, app: app, group: "g", photos: photos, minFace: 40, maxPose: 50, quality: quality.LevelLow}
	sum, err := enroll(context.Background(), eng, db, opts, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if want := outcomePoorQuality + "face is blurred"; sum.outcomes[want] != 1 {
		t.Errorf("outcomes = %v, want one %q", sum.outcomes, want)
	}
	var out bytes.Buffer
	sum.print(&out)
	if !strings.Contains(out.String(), "quality control LOW failed") {
		t.Errorf("summary does not say why:\n%s", out.String())
	}
}

// An interrupted run resumes where it stopped: photos journaled as done
// are not analysed again, and a photo whose face committed after the last
// journal line is recognised as already enrolled instead of added twice.
func TestEnrollResume(t *testing.T) {
	eng := mustEngine(t)
	photos := photoTree(t, enrollLayout)
	db, path, app := mustLibrary(t)
	journal := filepath.Join(filepath.Dir(path), "enroll-"+app+"-staff.journal")
	base := enrollOptions{dbPath: path, app: app, group: "staff", photos: photos, thumbnails: true, minFace: 40, maxPose: 50, workers: 2}

	t.Run("Interrupted", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		opts := base
		opts.afterPhoto = func(done int) {
			if done == 3 {
				cancel()
			}
		}
		sum, err := enroll(ctx, eng, db, opts, &bytes.Buffer{})
		if err != nil {
			t.Fatal(err)
		}
		if n := countOutcomes(sum); n != 3 {
			t.Fatalf("handled %d photos before stopping, want 3 (%v)", n, sum.outcomes)
		}
	})
	t.Run("ResumedSkipsDone", func(t *testing.T) {
		sum, err := enroll(context.Background(), eng, db, base, &bytes.Buffer{})
		if err != nil {
			t.Fatal(err)
		}
		if sum.resumed != 3 || countOutcomes(sum) != 4 {
			t.Errorf("resumed %d, handled %d (%v); want 3 and 4", sum.resumed, countOutcomes(sum), sum.outcomes)
		}
		if n := libraryFaces(t, db, app, "staff"); n != 4 {
			t.Errorf("library has %d faces, want 4", n)
		}
	})
	t.Run("LostJournalLinesDoNotDuplicate", func(t *testing.T) {
		// Keep only the first journal line, as if the process died right
		// after committing the other faces.
		data, err := os.ReadFile(journal)
		if err != nil {
			t.Fatal(err)
		}
		first, _, _ := strings.Cut(string(data), "\n")
		if err := os.WriteFile(journal, []byte(first+"\n{\"file\":\"torn"), 0o600); err != nil {
			t.Fatal(err)
		}
		sum, err := enroll(context.Background(), eng, db, base, &bytes.Buffer{})
		if err != nil {
			t.Fatal(err)
		}
		if sum.outcomes[outcomeAdded] != 0 || sum.outcomes[outcomeAlready]+sum.resumed < 4 {
			t.Errorf("outcomes %v, resumed %d: want no face added again", sum.outcomes, sum.resumed)
		}
		if n := libraryFaces(t, db, app, "staff"); n != 4 {
			t.Errorf("library has %d faces, want 4", n)
		}
	})
}

func countOutcomes(s *enrollSummary) int {
	n := 0
	for _, c := range s.outcomes {
		n += c
	}
	return n
}

func libraryFaces(tb testing.TB, lib store.Library, app, group string) int {
	tb.Helper()
	ctx := context.Background()
	users, err := lib.ListUsers(ctx, app, group, 0, store.MaxPageLength)
	if err != nil {
		tb.Fatal(err)
	}
	n := 0
	for _, u := range users {
		faces, err := lib.ListFaces(ctx, app, group, u)
		if err != nil {
			tb.Fatal(err)
		}
		n += len(faces)
	}
	return n
}

func TestListPhotos(t *testing.T) {
	touch := func(t *testing.T, dir string, names ...string) {
		for _, n := range names {
			p := filepath.Join(dir, filepath.FromSlash(n))
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, nil, 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	tests := []struct {
		name  string
		files []string
		want  []string // rel=user
	}{
		{"FlatByPrefix", []string{"ann_1.jpg", "ann_2.PNG", "bob.jpeg", "notes.txt", ".hidden_1.jpg"},
			[]string{"ann_1.jpg=ann", "ann_2.PNG=ann", "bob.jpeg=bob"}},
		{"OneDirectoryPerUser", []string{"ann/x.jpg", "ann/y.txt", "bob/z_1.jpg", "stray.jpg", ".git/a.jpg"},
			[]string{"ann/x.jpg=ann", "bob/z_1.jpg=bob"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			touch(t, dir, tt.files...)
			photos, err := listPhotos(dir)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range photos {
				got = append(got, p.rel+"="+p.user)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestEnrollCommandErrors(t *testing.T) {
	data := t.TempDir()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"MissingApp", []string{"--data", data, "--group", "g", data}, "--app and --group are required"},
		{"BadGroup", []string{"--data", data, "--app", "x", "--group", "no-dash", data}, "must match"},
		{"NoLibrary", []string{"--data", data, "--app", "x", "--group", "g", data}, "no library"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := runEnroll(tt.args, &out, &errOut)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want one containing %q", err, tt.want)
			}
		})
	}
}
