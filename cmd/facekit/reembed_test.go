package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/facekit/facekit/descriptor"
	"github.com/facekit/facekit/internal/testenv"
	"github.com/facekit/facekit/quality"
)

// TestReembedCommand enrolls photos with the dlib ResNet (the default
// before mobilefacenet), migrates the library with `facekit reembed`, and
// checks what follows: serve refuses the library under an explicitly
// configured other model and names the way out, serve with no model
// configured follows the library, enroll adds faces of the new model, and
// a face enrolled without a source crop blocks the next migration by name.
func TestReembedCommand(t *testing.T) {
	eng := mustEngine(t)
	models := testenv.ModelDir(t)
	db, path, app := mustLibrary(t)
	data := filepath.Dir(path)
	ctx := context.Background()
	base := enrollOptions{dbPath: path, app: app, group: "staff", minFace: 40, maxPose: 50, quality: quality.LevelLow}

	opts := base
	opts.photos, opts.sourceCrops = photoTree(t, map[string]string{"jimin/a.jpg": "jimin.jpg", "bona/a.jpg": "bona.jpg", "bona/b.jpg": "bona3.jpg"}), true
	if _, err := enroll(ctx, eng, db, opts, io.Discard); err != nil {
		t.Fatal(err)
	}

	code, stdout, stderr := runCLI(t, "reembed", "--data", data, "--models", models, "--to", "mobileface", "--batch", "2")
	if code != 0 {
		t.Fatalf("reembed exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	for _, want := range []string{"faces in scope: 3 (0 already mobileface)", "described in this run: 3", "switched to mobileface: 3 faces", "serve with --descriptor mobileface"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("summary lacks %q:\n%s", want, stdout)
		}
	}
	if !strings.Contains(stderr, "reembed: 2/3 faces described with mobileface") {
		t.Errorf("progress:\n%s", stderr)
	}

	// The test's own connection follows the other writer as a running
	// server does (Options.FollowInterval): the switch reloads its index.
	if reloaded, err := db.Refresh(ctx); err != nil || !reloaded {
		t.Fatalf("refresh after the switch: %v %v", reloaded, err)
	}

	t.Run("ServeRefusesOtherModel", func(t *testing.T) {
		// A model configured explicitly is a promise: a library of another
		// model is refused, naming the exact way out.
		cfg := defaultConfig()
		cfg.Data, cfg.Engine.Models, cfg.Addr, cfg.Engine.Descriptor = data, models, "127.0.0.1:0", descriptor.Default
		err := serve(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), func(string) { t.Error("server started") })
		if err == nil {
			t.Fatal("serve accepted a mobileface library while describing with " + descriptor.Default)
		}
		for _, want := range []string{"holds 3 faces of descriptor model mobileface", "described with " + descriptor.Default,
			"run `facekit reembed --data " + data + " --to " + descriptor.Default + "`", "--descriptor mobileface"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error lacks %q: %v", want, err)
			}
		}
	})

	t.Run("UnsetDescriptorFollowsLibrary", func(t *testing.T) {
		// No model configured (an operator upgrading with the old
		// config): the server serves the library's model and says how to
		// migrate.
		cfg := defaultConfig()
		cfg.Data, cfg.Engine.Models, cfg.Addr = data, models, "127.0.0.1:0"
		var logs strings.Builder
		sctx, cancel := context.WithCancel(ctx)
		defer cancel()
		started := false
		if err := serve(sctx, cfg, slog.New(slog.NewTextHandler(&logs, nil)), func(string) { started = true; cancel() }); err != nil || !started {
			t.Fatalf("serve on a mobileface library with no descriptor configured: started %v, %v", started, err)
		}
		for _, want := range []string{"describing faces with mobileface, the model of the 3 faces in the library",
			"facekit reembed --data " + data + " --to " + descriptor.Default, "descriptor=mobileface"} {
			if !strings.Contains(logs.String(), want) {
				t.Errorf("log lacks %q:\n%s", want, logs.String())
			}
		}
	})

	t.Run("EnrollWithNewModel", func(t *testing.T) {
		// A face enrolled without a source crop, described with the
		// library's new model.
		mobile, err := descriptor.Open("mobileface", descriptor.Env{HumanModels: filepath.Join(models, "human-models")})
		if err != nil {
			t.Fatal(err)
		}
		opts := base
		opts.photos, opts.describer = photoTree(t, map[string]string{"luda/a.jpg": "luda.jpg"}), mobile
		sum, err := enroll(ctx, eng, db, opts, io.Discard)
		if err != nil || sum.outcomes[outcomeAdded] != 1 {
			t.Fatalf("enroll with mobileface: %v %v %v", sum.outcomes, sum.examples, err)
		}
		faces, err := db.ListFaces(ctx, app, "staff", "luda")
		if err != nil || faces[0].Embedding.Model != "mobileface" {
			t.Fatalf("luda: %+v %v", faces, err)
		}

		code, stdout, _ := runCLI(t, "reembed", "--data", data, "--models", models, "--to", descriptor.ResNet)
		if code == 0 {
			t.Fatalf("reembed switched with a face lacking its source crop:\n%s", stdout)
		}
		for _, want := range []string{"cannot be described (no usable source crop): 1", "group staff user luda face " + faces[0].Token + ": no source crop", "library not switched"} {
			if !strings.Contains(stdout, want) {
				t.Errorf("summary lacks %q:\n%s", want, stdout)
			}
		}
		counts, err := db.ModelCounts(ctx, "")
		if err != nil || counts["mobileface"] != 4 {
			t.Errorf("library after the refused run: %v %v", counts, err)
		}
		// Resumed with --delete-missing: the three faces staged by the
		// refused run are not described again.
		code, stdout, _ = runCLI(t, "reembed", "--data", data, "--models", models, "--to", descriptor.ResNet, "--delete-missing")
		if code != 0 || !strings.Contains(stdout, "described in this run: 0") || !strings.Contains(stdout, "switched to dlib_resnet_v1: 3 faces") {
			t.Errorf("reembed --delete-missing exit %d:\n%s", code, stdout)
		}
		// The mirrored ResNet runs in the native engine too.
		code, stdout, stderr := runCLI(t, "reembed", "--data", data, "--models", models, "--to", descriptor.ResNet+descriptor.MirrorSuffix)
		if code != 0 || !strings.Contains(stdout, "switched to dlib_resnet_v1_flip: 3 faces") {
			t.Errorf("reembed --to dlib_resnet_v1_flip exit %d:\n%s\n%s", code, stdout, stderr)
		}
	})
}

// TestReembedBesideRunningServer switches the library while a server
// serves it: the server follows the file and reloads its index, and its
// readiness check then fails naming the model to restart with (its probes
// are still described with the old model, so searches would be refused).
func TestReembedBesideRunningServer(t *testing.T) {
	eng := mustEngine(t)
	models := testenv.ModelDir(t)
	db, path, app := mustLibrary(t)
	data := filepath.Dir(path)
	opts := enrollOptions{dbPath: path, app: app, group: "staff", minFace: 40, maxPose: 50, quality: quality.LevelLow, sourceCrops: true,
		photos: photoTree(t, map[string]string{"jimin/a.jpg": "jimin.jpg", "bona/a.jpg": "bona.jpg"})}
	if _, err := enroll(context.Background(), eng, db, opts, io.Discard); err != nil {
		t.Fatal(err)
	}

	cfg := defaultConfig()
	cfg.Data, cfg.Engine.Models, cfg.Addr = data, models, "127.0.0.1:0"
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- serve(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), func(a string) { addrc <- a })
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	}()
	var addr string
	select {
	case addr = <-addrc:
	case err := <-done:
		t.Fatalf("serve: %v", err)
	}
	ready := func() (int, string) {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := ready(); code != http.StatusOK {
		t.Fatalf("ready before the switch: %d %s", code, body)
	}
	if code, stdout, stderr := runCLI(t, "reembed", "--data", data, "--models", models, "--to", "mobileface"); code != 0 {
		t.Fatalf("reembed: %d\n%s\n%s", code, stdout, stderr)
	}
	// The server checks for other writers every 2 s.
	var code int
	var body string
	for i := 0; i < 50; i++ {
		if code, body = ready(); code != http.StatusOK {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "library_model") || !strings.Contains(body, "restart it with --descriptor mobileface") {
		t.Fatalf("ready after the switch: %d %s", code, body)
	}
}
