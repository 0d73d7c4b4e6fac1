package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/facekit/facekit/calibration"
	"github.com/facekit/facekit/descriptor"
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
	// A model other than the default, with its own embedded curve.
	other, err := os.ReadFile("../../calibration/frfeature.json")
	if err != nil {
		t.Fatal(err)
	}
	def, err := os.ReadFile("../../calibration/" + descriptor.Default + ".json")
	if err != nil {
		t.Fatal(err)
	}
	own := write("own.json", string(def))
	ownResNet := write("resnet.json", string(resnet))
	ownOther := write("frfeature.json", string(other))
	broken := write("broken.json", `{"model":"dlib_resnet_v1","points":[{"distance":0.5,"far":0.1},{"distance":0.4,"far":0.2}]}`)

	tests := []struct {
		name       string
		file       string
		descriptor string
		wantModel  string // "" = no curve
		wantErr    string
	}{
		{name: "NoneConfigured"},
		{name: "OwnCurveOfDefaultModel", file: own, wantModel: descriptor.Default},
		{name: "OwnCurveOfConfiguredModel", file: ownOther, descriptor: "frfeature", wantModel: "frfeature"},
		{name: "CurveOfAnotherModel", file: ownOther, wantErr: `curve of model "frfeature", but faces are described with "` + descriptor.Default + `"`},
		// A ResNet curve kept from before the change of default needs the
		// ResNet named with it.
		{name: "ResNetCurveWithoutModel", file: ownResNet, wantErr: `curve of model "dlib_resnet_v1", but faces are described with "` + descriptor.Default + `"`},
		{name: "ResNetCurveWithModel", file: ownResNet, descriptor: descriptor.ResNet, wantModel: "dlib_resnet_v1"},
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

// The default descriptor model, the curve a server falls back to and the
// one the calibration package calls its default are one model: scores of
// a default server mean what the vendors say only with that model's curve.
func TestDefaultModelAndCurveAgree(t *testing.T) {
	cfg, err := loadConfig("", func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Engine.DescriptorModel(); got != descriptor.Default {
		t.Errorf("default config describes with %q, want %q", got, descriptor.Default)
	}
	if calibration.DefaultModel != descriptor.Default {
		t.Errorf("calibration.DefaultModel = %q, descriptor.Default = %q", calibration.DefaultModel, descriptor.Default)
	}
	c, err := curveFor(cfg)
	if err != nil || c.Model != descriptor.Default {
		t.Errorf("curve of the default config: %+v, %v", c, err)
	}
}
