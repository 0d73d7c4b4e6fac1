package main

import (
	"context"
	"encoding/base64"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/facekit/facekit/descriptor"
	"github.com/facekit/facekit/internal/testenv"
	"github.com/facekit/facekit/quality"
	"github.com/facekit/facekit/store/sqlite"
)

// TestUpgradeResNetLibrary walks an operator past the change of default
// model with the real server and Baidu /search: a library enrolled with
// the dlib ResNet (the default before mobilefacenet) keeps being served
// by a server with no model configured, `facekit reembed --to` the
// default migrates it, and the restarted server, still unconfigured, then
// describes with the default model and finds the same people.
func TestUpgradeResNetLibrary(t *testing.T) {
	if testing.Short() {
		t.Skip("enrolls and serves with two descriptor models")
	}
	eng := mustEngine(t)
	models := testenv.ModelDir(t)
	ctx := context.Background()
	data := t.TempDir()
	db, err := sqlite.Open(filepath.Join(data, "facekit.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	app, secret, err := db.CreateApp(ctx, "upgrade")
	if err != nil {
		t.Fatal(err)
	}
	opts := enrollOptions{dbPath: filepath.Join(data, "facekit.db"), app: app.ID, group: "staff", minFace: 40, maxPose: 50,
		quality: quality.LevelLow, sourceCrops: true} // describer nil: the ResNet
	opts.photos = photoTree(t, map[string]string{"jimin/a.jpg": "jimin.jpg", "bona/a.jpg": "bona.jpg", "seulgi/a.jpg": "seulgi.jpg"})
	_, err = enroll(ctx, eng, db, opts, io.Discard)
	db.Close()
	if err != nil {
		t.Fatal(err)
	}

	cfg := defaultConfig() // no descriptor configured, as in an old config file
	cfg.Data, cfg.Engine.Models, cfg.Addr = data, models, "127.0.0.1:0"
	// search asks the server for the best user of each probe photo (at
	// any score: the ResNet scores these East Asian pairs low) and checks
	// it is the photo's person.
	search := func(t *testing.T, srv testServer) map[string]float64 {
		t.Helper()
		call := srv.baidu(t, app.APIKey, secret)
		scores := map[string]float64{}
		for probe, want := range map[string]string{"jimin2.jpg": "jimin", "bona3.jpg": "bona"} {
			img, err := os.ReadFile(testenv.Face(t, probe))
			if err != nil {
				t.Fatal(err)
			}
			var res struct {
				UserList []struct {
					UserID string  `json:"user_id"`
					Score  float64 `json:"score"`
				} `json:"user_list"`
			}
			if err := call("/search", map[string]any{"image": base64.StdEncoding.EncodeToString(img), "image_type": "BASE64", "group_id_list": "staff", "match_threshold": 0}, &res); err != nil {
				t.Fatalf("%s: %v", probe, err)
			}
			if len(res.UserList) == 0 || res.UserList[0].UserID != want {
				t.Errorf("%s: best users %+v, want %s", probe, res.UserList, want)
				continue
			}
			scores[probe] = res.UserList[0].Score
		}
		return scores
	}

	var before map[string]float64
	t.Run("ServesResNetLibrary", func(t *testing.T) {
		srv := startServer(t, cfg)
		for _, want := range []string{"describing faces with " + descriptor.ResNet + ", the model of the 3 faces in the library",
			"facekit reembed --data " + data + " --to " + descriptor.Default, "descriptor=" + descriptor.ResNet} {
			if !strings.Contains(srv.logs.String(), want) {
				t.Errorf("log lacks %q:\n%s", want, srv.logs.String())
			}
		}
		before = search(t, srv)
	})

	code, stdout, stderr := runCLI(t, "reembed", "--data", data, "--models", models, "--to", descriptor.Default)
	if code != 0 || !strings.Contains(stdout, "switched to "+descriptor.Default+": 3 faces") {
		t.Fatalf("reembed --to %s exit %d:\n%s\n%s", descriptor.Default, code, stdout, stderr)
	}
	if db, err = sqlite.Open(filepath.Join(data, "facekit.db"), sqlite.Options{}); err != nil {
		t.Fatal(err)
	}
	counts, err := db.ModelCounts(ctx, "")
	db.Close()
	if err != nil || len(counts) != 1 || counts[descriptor.Default] != 3 {
		t.Fatalf("library after reembed: %v %v, want 3 %s faces", counts, err, descriptor.Default)
	}

	t.Run("ServesDefaultModelAfterReembed", func(t *testing.T) {
		srv := startServer(t, cfg)
		logs := srv.logs.String()
		if !strings.Contains(logs, "descriptor="+descriptor.Default) || strings.Contains(logs, "no descriptor model configured") {
			t.Errorf("after reembed the unconfigured server does not simply describe with %s:\n%s", descriptor.Default, logs)
		}
		after := search(t, srv)
		if len(after) != 2 {
			t.Errorf("found %d of 2 probes' people", len(after))
		}
		t.Logf("best-user scores, %s: %v; %s: %v", descriptor.ResNet, before, descriptor.Default, after)
	})
}
