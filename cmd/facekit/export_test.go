package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/facekit/facekit/internal/testenv"
	"github.com/facekit/facekit/store"
)

// A library exported and imported into another database has the same
// groups, users, infos, face tokens and descriptors; thumbnails travel
// only when asked for.
func TestExportImport(t *testing.T) {
	ctx := context.Background()
	src, _, app := mustLibrary(t)
	vec := func(x float32) store.Embedding {
		v := make([]float32, 128)
		for i := range v {
			v[i] = x + float32(i)/1000
		}
		return store.Embedding{Model: "dlib_resnet_v1", Vector: v}
	}
	thumb := []byte{0xff, 0xd8, 0xff, 0xd9}
	crop := &store.SourceCrop{JPEG: []byte{0xff, 0xd8, 1, 0xff, 0xd9}, Landmarks: [][2]float32{{10.5, 20.25}, {30, 40}}}
	adds := []struct {
		user store.User
		face store.Face
	}{
		{store.User{GroupID: "staff", UserID: "ann", Info: "Ann, reception"}, store.Face{Token: "t1", Embedding: vec(0.1), Thumbnail: thumb, Source: crop}},
		{store.User{GroupID: "staff", UserID: "ann"}, store.Face{Token: "t2", Embedding: vec(0.2)}},
		{store.User{GroupID: "visitors", UserID: "bob"}, store.Face{Token: "t3", Embedding: vec(0.3), Thumbnail: thumb}},
	}
	for _, a := range adds {
		if _, err := src.AddFace(ctx, app, a.user, a.face, store.ActionAppend); err != nil {
			t.Fatal(err)
		}
	}
	if err := src.CreateGroup(ctx, app, "empty"); err != nil {
		t.Fatal(err)
	}

	for _, photos := range []bool{false, true} {
		name := "WithoutPhotos"
		if photos {
			name = "WithPhotos"
		}
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			n, err := exportLibrary(ctx, src, app, exportOptions{photos: photos}, &buf)
			if err != nil {
				t.Fatal(err)
			}
			if n != (libraryCounts{groups: 3, users: 2, faces: 3}) {
				t.Errorf("exported %+v", n)
			}
			if got := strings.Contains(buf.String(), `"thumbnail"`); got != photos {
				t.Errorf("export has thumbnails = %v, want %v", got, photos)
			}
			if got := strings.Contains(buf.String(), `"source_crop"`); got != photos {
				t.Errorf("export has source crops = %v, want %v", got, photos)
			}
			dst, _, app2 := mustLibrary(t)
			n, err = importLibrary(ctx, dst, app2, bytes.NewReader(buf.Bytes()))
			if err != nil {
				t.Fatal(err)
			}
			if n != (libraryCounts{groups: 3, users: 2, faces: 3}) {
				t.Errorf("imported %+v", n)
			}
			if a, b := dumpLibrary(t, src, app, photos), dumpLibrary(t, dst, app2, photos); !reflect.DeepEqual(a, b) {
				t.Errorf("imported library differs:\n%v\n%v", a, b)
			}
			// A second import finds everything present.
			n, err = importLibrary(ctx, dst, app2, bytes.NewReader(buf.Bytes()))
			if err != nil || n.faces != 0 || n.existing != 3 {
				t.Errorf("re-import: %+v, %v", n, err)
			}
		})
	}
}

// dumpLibrary lists a library as comparable lines.
func dumpLibrary(tb testing.TB, lib Library, app string, thumbs bool) []string {
	tb.Helper()
	ctx := context.Background()
	var out []string
	groups, _ := lib.ListGroups(ctx, app, 0, 1000)
	for _, g := range groups {
		out = append(out, "group "+g)
		users, _ := lib.ListUsers(ctx, app, g, 0, 1000)
		for _, u := range users {
			us, _ := lib.GetUser(ctx, app, g, u)
			out = append(out, "user "+g+"/"+u+" "+us[0].Info)
			faces, _ := lib.ListFaces(ctx, app, g, u)
			for _, f := range faces {
				b, _ := json.Marshal(f.Embedding)
				line := "face " + f.Token + " " + string(b)
				if thumbs {
					th, _ := lib.Thumbnail(ctx, app, g, u, f.Token)
					line += " thumb=" + string(th)
					if src, _ := lib.SourceCrop(ctx, app, g, u, f.Token); src != nil {
						line += fmt.Sprintf(" crop=%x %v", src.JPEG, src.Landmarks)
					}
				}
				out = append(out, line)
			}
		}
	}
	return out
}

func TestImportRejectsBadInput(t *testing.T) {
	tests := []struct {
		name, input, want string
	}{
		{"Empty", "", "empty input"},
		{"NoHeader", `{"type":"group","group_id":"g"}`, "not a facekit export"},
		{"NotJSON", "hello", "record 1"},
		{"UnknownType", `{"type":"header","version":1}` + "\n" + `{"type":"person"}`, "unknown type"},
		{"NoApp", `{"type":"header","version":1}` + "\n", "give --app"},
		{"BadEmbedding", `{"type":"header","version":1}` + "\n" + `{"type":"face","group_id":"g","user_id":"u","face_token":"t","model":"m","vector":[]}`, "invalid embedding"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, _, app := mustLibrary(t)
			if tt.name == "NoApp" {
				app = ""
			}
			_, err := importLibrary(context.Background(), db, app, bufio.NewReader(strings.NewReader(tt.input)))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

// The commands end to end: app create, enroll, export, import.
func TestEnrollExportImportCommands(t *testing.T) {
	models := testenv.ModelDir(t)
	mustEngine(t) // skip early without photos
	data := t.TempDir()
	photos := photoTree(t, map[string]string{"bona_1.jpg": "bona.jpg", "jimin_1.jpg": "jimin.jpg"})
	code, out, errOut := runCLI(t, "app", "create", "--data", data, "--name", "kiosk", "--json")
	if code != 0 {
		t.Fatalf("app create: %s", errOut)
	}
	var app struct {
		ID string `json:"app_id"`
	}
	if err := json.Unmarshal([]byte(out), &app); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if err := runEnroll([]string{"--data", data, "--models", models, "--app", app.ID, "--group", "lobby", photos}, &stdout, &stderr); err != nil {
		t.Fatalf("enroll: %v\n%s", err, stderr.String())
	}
	if !strings.Contains(stdout.String(), "faces added: 2") {
		t.Errorf("enroll summary:\n%s", stdout.String())
	}
	export := filepath.Join(t.TempDir(), "lib.jsonl")
	stdout.Reset()
	if err := runExport([]string{"--data", data, "--app", app.ID, "--out", export}, &stdout, &stderr); err != nil {
		t.Fatalf("export: %v", err)
	}
	data2 := t.TempDir()
	code, out, _ = runCLI(t, "app", "create", "--data", data2, "--name", "copy", "--json")
	if code != 0 || json.Unmarshal([]byte(out), &app) != nil {
		t.Fatalf("app create: %s", out)
	}
	stdout.Reset()
	if err := runImport([]string{"--data", data2, "--app", app.ID, export}, &stdout, &stderr); err != nil {
		t.Fatalf("import: %v", err)
	}
	if want := "imported 1 groups, 2 users, 2 faces (0 faces already present)"; !strings.Contains(stdout.String(), want) {
		t.Errorf("import said %q, want %q", stdout.String(), want)
	}
}
