package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadCalibration(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	resnet, err := os.ReadFile("../../calibration/dlib_resnet_v1.json")
	if err != nil {
		t.Fatal(err)
	}
	mfn, err := os.ReadFile("../../calibration/mobilefacenet.json")
	if err != nil {
		t.Fatal(err)
	}
	own := write("own.json", string(resnet))
	ownMFN := write("mfn.json", string(mfn))
	broken := write("broken.json", `{"model":"dlib_resnet_v1","points":[{"distance":0.5,"far":0.1},{"distance":0.4,"far":0.2}]}`)

	tests := []struct {
		name       string
		file       string
		descriptor string
		wantModel  string // "" = no curve
		wantErr    string
	}{
		{name: "NoneConfigured"},
		{name: "OwnCurveOfDefaultModel", file: own, wantModel: "dlib_resnet_v1"},
		{name: "OwnCurveOfConfiguredModel", file: ownMFN, descriptor: "mobilefacenet", wantModel: "mobilefacenet"},
		{name: "CurveOfAnotherModel", file: ownMFN, wantErr: `curve of model "mobilefacenet", but faces are described with "dlib_resnet_v1"`},
		{name: "NotMonotone", file: broken, wantErr: "not strictly increasing"},
		{name: "Missing", file: filepath.Join(dir, "absent.json"), wantErr: "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := defaultConfig()
			cfg.Engine.Calibration = tt.file
			if tt.descriptor != "" {
				cfg.Engine.Descriptor = tt.descriptor
			}
			c, err := loadCalibration(cfg)
			switch {
			case tt.wantErr != "":
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
			case err != nil:
				t.Fatal(err)
			case tt.wantModel == "" && c != nil:
				t.Fatalf("curve %q loaded with none configured", c.Model)
			case tt.wantModel != "" && (c == nil || c.Model != tt.wantModel):
				t.Fatalf("curve = %+v, want model %q", c, tt.wantModel)
			}
		})
	}
}
