package main

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/facekit/facekit/descriptor"
	"github.com/facekit/facekit/store"
)

// TestFollowLibraryModel checks the model a server or enroll settles on,
// on real SQLite libraries: with no model configured it follows a library
// of one model (an operator upgrading past the change of default keeps
// serving the old library) and gives a new or empty one the default; a
// configured model is kept, and checkLibraryModel then refuses another
// model's library with the exact reembed command.
func TestFollowLibraryModel(t *testing.T) {
	ctx := context.Background()
	vec := func(model string, x float32) store.Embedding {
		info, err := descriptor.Lookup(model)
		if err != nil {
			t.Fatal(err)
		}
		v := make([]float32, info.Dim)
		for i := range v {
			v[i] = x + float32(i)/1000
		}
		return store.Embedding{Model: model, Vector: v}
	}
	tests := []struct {
		name       string
		faces      map[string][]string // group → models of its faces
		configured string
		wantModel  string
		wantNote   []string
		wantRefuse []string // checkLibraryModel's error; nil = accepted
	}{
		{name: "NewLibrary", wantModel: descriptor.Default},
		{name: "OldDefaultLibrary", faces: map[string][]string{"staff": {descriptor.ResNet, descriptor.ResNet}},
			wantModel: descriptor.ResNet,
			wantNote: []string{"describing faces with dlib_resnet_v1, the model of the 2 faces in the library",
				"new libraries use " + descriptor.Default, "`facekit reembed --data DATA --to " + descriptor.Default + "`", `descriptor = "dlib_resnet_v1"`}},
		{name: "DefaultModelLibrary", faces: map[string][]string{"staff": {descriptor.Default}}, wantModel: descriptor.Default},
		{name: "ConfiguredModelKept", faces: map[string][]string{"staff": {descriptor.ResNet}}, configured: descriptor.Default,
			wantModel:  descriptor.Default,
			wantRefuse: []string{"holds 1 faces of descriptor model dlib_resnet_v1", "described with " + descriptor.Default, "run `facekit reembed --data DATA --to " + descriptor.Default + "`", "--descriptor dlib_resnet_v1"}},
		{name: "SeveralModels", faces: map[string][]string{"staff": {descriptor.ResNet}, "visitors": {"frfeature"}},
			wantModel:  descriptor.Default,
			wantRefuse: []string{"descriptor model dlib_resnet_v1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, _, app := mustLibrary(t)
			n := 0
			for group, models := range tt.faces {
				for _, m := range models {
					n++
					u := store.User{GroupID: group, UserID: fmt.Sprintf("u%d", n)}
					if _, err := db.AddFace(ctx, app, u, store.Face{Token: fmt.Sprintf("t%d", n), Embedding: vec(m, float32(n))}, store.ActionAppend); err != nil {
						t.Fatal(err)
					}
				}
			}
			cfg := defaultConfig()
			cfg.Data, cfg.Engine.Descriptor = "DATA", tt.configured
			note, err := followLibraryModel(ctx, db, &cfg)
			if err != nil {
				t.Fatal(err)
			}
			if got := cfg.Engine.DescriptorModel(); got != tt.wantModel {
				t.Errorf("model %q, want %q", got, tt.wantModel)
			}
			if (note != "") != (len(tt.wantNote) > 0) {
				t.Errorf("note %q, want one: %v", note, len(tt.wantNote) > 0)
			}
			for _, w := range tt.wantNote {
				if !strings.Contains(note, w) {
					t.Errorf("note lacks %q: %s", w, note)
				}
			}
			err = checkLibraryModel(ctx, db, cfg)
			if (err != nil) != (len(tt.wantRefuse) > 0) {
				t.Fatalf("checkLibraryModel: %v, want refusal %v", err, len(tt.wantRefuse) > 0)
			}
			for _, w := range tt.wantRefuse {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("refusal lacks %q: %v", w, err)
				}
			}
		})
	}
}
