package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/facekit/facekit/calibration"
	"github.com/facekit/facekit/descriptor"
	"github.com/facekit/facekit/engine"
	"github.com/facekit/facekit/internal/testenv"
)

// runCLI runs facekit in-process and returns its exit code and output.
func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestDetectPrintsFacesAsJSON(t *testing.T) {
	models := testenv.ModelDir(t)
	// --descriptor prints the configured model's vectors, named: the
	// default model's, or the one --descriptor-model names.
	for _, model := range []string{"", descriptor.ResNet} {
		t.Run("Model="+model, func(t *testing.T) {
			args := []string{"detect", "--models", models, "--json", "--descriptor"}
			want := descriptor.Default
			if model != "" {
				args, want = append(args, "--descriptor-model", model), model
			}
			code, out, errOut := runCLI(t, append(args, testenv.Face(t, "pristin.jpg"), testenv.Face(t, "bona.jpg"))...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			var res []detectedImage
			if err := json.Unmarshal([]byte(out), &res); err != nil {
				t.Fatalf("output is not JSON: %v\n%s", err, out)
			}
			if len(res) != 2 || len(res[0].Faces) != 10 || len(res[1].Faces) != 1 {
				t.Fatalf("got %d images with %v faces", len(res), res)
			}
			info, err := descriptor.Lookup(want)
			if err != nil {
				t.Fatal(err)
			}
			for _, im := range res {
				for i, f := range im.Faces {
					if len(f.Descriptor) != info.Dim || f.DescriptorModel != want {
						t.Errorf("%s face %d: %d values of model %q, want %d of %q", im.File, i, len(f.Descriptor), f.DescriptorModel, info.Dim, want)
					}
				}
			}
		})
	}
}

// compare answers with the configured model and that model's curve: the
// default threshold is its calibrated 1-in-1000 point, so a model's verdict
// does not depend on another model's distance scale.
func TestCompare(t *testing.T) {
	models := testenv.ModelDir(t)
	tests := []struct {
		name  string
		model string
		a, b  string
		same  bool
	}{
		{"SamePerson", "", "jimin.jpg", "jimin2.jpg", true},
		{"DifferentPeople", "", "jimin.jpg", "bona.jpg", false},
		{"ResNetSamePerson", descriptor.ResNet, "jimin.jpg", "jimin2.jpg", true},
		{"ResNetDifferentPeople", descriptor.ResNet, "jimin.jpg", "bona.jpg", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := []string{"compare", "--models", models, "--json"}
			want := descriptor.Default
			if tt.model != "" {
				args, want = append(args, "--descriptor", tt.model), tt.model
			}
			code, out, errOut := runCLI(t, append(args, testenv.Face(t, tt.a), testenv.Face(t, tt.b))...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			var res struct {
				Model     string  `json:"model"`
				Distance  float64 `json:"distance"`
				Threshold float64 `json:"threshold"`
				Same      bool    `json:"same"`
				FAR       float64 `json:"false_accept_rate"`
			}
			if err := json.Unmarshal([]byte(out), &res); err != nil {
				t.Fatal(err)
			}
			if res.Same != tt.same {
				t.Errorf("same = %v at distance %.3f, want %v", res.Same, res.Distance, tt.same)
			}
			curve, err := calibration.ForModel(want)
			if err != nil {
				t.Fatal(err)
			}
			if res.Model != want || math.Abs(res.Threshold-curve.DistanceAtFAR(defaultCompareFAR)) > 1e-4 ||
				math.Abs(res.FAR-curve.FAR(res.Distance)) > 1e-3*res.FAR+1e-12 {
				t.Errorf("model %q threshold %.4f FAR %g, want %q's curve: threshold %.4f, FAR %g",
					res.Model, res.Threshold, res.FAR, want, curve.DistanceAtFAR(defaultCompareFAR), curve.FAR(res.Distance))
			}
		})
	}
	t.Run("CurveOfAnotherModel", func(t *testing.T) {
		code, _, errOut := runCLI(t, "compare", "--models", models, "--calibration", "../../calibration/frfeature.json",
			testenv.Face(t, "jimin.jpg"), testenv.Face(t, "bona.jpg"))
		if code == 0 || !strings.Contains(errOut, `curve of model "frfeature"`) {
			t.Errorf("exit %d, stderr %q: want the curve refused", code, errOut)
		}
	})
}

// Errors are one line on stderr and a non-zero exit.
func TestErrorsAreOneLine(t *testing.T) {
	dir := t.TempDir()
	text := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(text, []byte("not an image\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"UnknownCommand", []string{"frobnicate"}, "unknown command"},
		{"MissingModels", []string{"detect", "--models", dir, text}, "make models"},
		{"NotAnImage", []string{"detect", "--models", "MODELS", text}, "notes.txt"},
		{"MissingFile", []string{"compare", "--models", "MODELS", text + ".none", text}, "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for i, a := range tt.args {
				if a == "MODELS" {
					tt.args[i] = testenv.ModelDir(t)
				}
			}
			code, _, errOut := runCLI(t, tt.args...)
			if code == 0 {
				t.Fatalf("exit 0, want failure")
			}
			if lines := strings.Count(strings.TrimSpace(errOut), "\n"); lines != 0 {
				t.Errorf("stderr has %d lines: %q", lines+1, errOut)
			}
			if !strings.Contains(errOut, tt.want) {
				t.Errorf("stderr %q does not mention %q", errOut, tt.want)
			}
		})
	}
}

func TestConfigLayers(t *testing.T) {
	file := filepath.Join(t.TempDir(), "facekit.toml")
	content := "addr = \"0.0.0.0:9000\"\ndata = \"/var/lib/facekit\"\n[engine]\npool = 3\n[server]\nqps = 5.5\ntoken_ttl = \"2h\"\n[registry]\nkind = \"dir\"\npath = \"/srv/photos\"\n"
	if err := os.WriteFile(file, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"FACEKIT_POOL": "4", "FACEKIT_DETECTOR": "cnn"}
	cfg, err := loadConfig(file, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	fs := newFlagSet("serve", &bytes.Buffer{})
	registerConfigFlags(fs, &cfg)
	if err := fs.Parse([]string{"--addr", "127.0.0.1:1"}); err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"FlagBeatsFile", cfg.Addr, "127.0.0.1:1"},
		{"FileBeatsDefault", cfg.Data, "/var/lib/facekit"},
		{"EnvBeatsFile", cfg.Engine.Pool, 4},
		{"EnvBeatsDefault", cfg.Engine.Detector, "cnn"},
		{"DefaultKept", cfg.Engine.Models, "models/data"},
		{"Float", cfg.Server.QPS, 5.5},
		{"Duration", time.Duration(cfg.Server.TokenTTL), 2 * time.Hour},
		{"Registry", cfg.Registry.Path, "/srv/photos"},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			if c.got != c.want {
				t.Errorf("got %v, want %v", c.got, c.want)
			}
		})
	}
	t.Run("IndexPrecision", func(t *testing.T) {
		tests := []struct {
			name, file, env, want string
			ok                    bool
		}{
			{"Default", "", "", "float16", true},
			{"File", "[library]\nindex_precision = \"float32\"\n", "", "float32", true},
			{"EnvBeatsFile", "[library]\nindex_precision = \"float32\"\n", "float16", "float16", true},
			{"Unknown", "[library]\nindex_precision = \"int8\"\n", "", "", false},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				path := filepath.Join(t.TempDir(), "f.toml")
				os.WriteFile(path, []byte(tt.file), 0o600)
				cfg, err := loadConfig(path, func(k string) string {
					if k == "FACEKIT_INDEX_PRECISION" {
						return tt.env
					}
					return ""
				})
				if (err == nil) != tt.ok {
					t.Fatalf("err = %v, want ok %v", err, tt.ok)
				}
				if tt.ok && cfg.Library.IndexPrecision != tt.want {
					t.Errorf("precision %q, want %q", cfg.Library.IndexPrecision, tt.want)
				}
				if !tt.ok {
					return
				}
				// The library a command opens builds its index so.
				cfg.Data = t.TempDir()
				lib, err := openLibrary(context.Background(), cfg, libraryUse{create: true})
				if err != nil {
					t.Fatal(err)
				}
				defer lib.Close()
				if got := string(lib.Index().Precision()); got != tt.want {
					t.Errorf("opened library's index precision %q, want %q", got, tt.want)
				}
			})
		}
	})
	t.Run("Backend", func(t *testing.T) {
		tests := []struct {
			name, file         string
			env                map[string]string
			backend, dsn, errs string
			groups             []string
		}{
			{"Default", "", nil, "sqlite", "", "", nil},
			{"File", "[library]\nbackend = \"postgres\"\ndsn = \"postgres://db/facekit\"\ngroups = [\"a\", \"b\"]\n", nil,
				"postgres", "postgres://db/facekit", "", []string{"a", "b"}},
			{"EnvBeatsFile", "[library]\nbackend = \"sqlite\"\ndsn = \"postgres://file\"\n",
				map[string]string{"FACEKIT_LIBRARY_BACKEND": "postgres", "FACEKIT_DATABASE_URL": "postgres://env"}, "postgres", "postgres://env", "", nil},
			{"Unknown", "[library]\nbackend = \"mysql\"\n", nil, "", "", "mysql", nil},
			{"GroupsNeedPostgres", "[library]\ngroups = [\"a\"]\n", nil, "", "", "groups", nil},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				path := filepath.Join(t.TempDir(), "f.toml")
				os.WriteFile(path, []byte(tt.file), 0o600)
				cfg, err := loadConfig(path, func(k string) string { return tt.env[k] })
				if tt.errs != "" {
					if err == nil || !strings.Contains(err.Error(), tt.errs) {
						t.Fatalf("err = %v, want one naming %q", err, tt.errs)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if cfg.Library.Backend != tt.backend || cfg.Library.DSN != tt.dsn || fmt.Sprint(cfg.Library.Groups) != fmt.Sprint(tt.groups) {
					t.Errorf("library %+v, want backend %q dsn %q groups %v", cfg.Library, tt.backend, tt.dsn, tt.groups)
				}
			})
		}
		cfg := defaultConfig()
		cfg.Library.Backend = "postgres"
		if _, err := openLibrary(context.Background(), cfg, libraryUse{}); err == nil || !strings.Contains(err.Error(), "FACEKIT_DATABASE_URL") {
			t.Errorf("postgres without a dsn: %v", err)
		}
	})
	t.Run("UnknownKeyRejected", func(t *testing.T) {
		bad := filepath.Join(t.TempDir(), "bad.toml")
		os.WriteFile(bad, []byte("adress = \"x\"\n"), 0o600)
		if _, err := loadConfig(bad, func(string) string { return "" }); err == nil || !strings.Contains(err.Error(), "adress") {
			t.Errorf("err = %v, want an unknown-key error naming adress", err)
		}
	})
}

// The README documents every config key; the block must load and must
// name every key the Config struct has.
func TestREADMEConfigBlockLoads(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join(testenv.RepoRoot(t), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(readme)
	start := strings.Index(text, "```toml\naddr = ")
	if start < 0 {
		t.Fatal("README has no full config block")
	}
	block := text[start+len("```toml\n"):]
	block = block[:strings.Index(block, "```")]
	file := filepath.Join(t.TempDir(), "readme.toml")
	if err := os.WriteFile(file, []byte(block), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := loadConfig(file, func(string) string { return "" })
	if err != nil {
		t.Fatalf("README config block: %v", err)
	}
	if cfg.Addr != defaultConfig().Addr {
		t.Errorf("README default addr %q differs from the code's %q", cfg.Addr, defaultConfig().Addr)
	}
	// The descriptor line shows the default: unset, which follows the
	// library's model and is descriptor.Default for a new library.
	if cfg.Engine.Descriptor != defaultConfig().Engine.Descriptor || cfg.Engine.DescriptorModel() != descriptor.Default {
		t.Errorf("README descriptor %q (model %q) differs from the code's default %q (model %q)",
			cfg.Engine.Descriptor, cfg.Engine.DescriptorModel(), defaultConfig().Engine.Descriptor, descriptor.Default)
	}
	for _, line := range strings.Split(block, "\n") {
		if strings.HasPrefix(line, "descriptor =") && !strings.Contains(line, "else "+descriptor.Default) {
			t.Errorf("README descriptor line does not name the default model %s: %q", descriptor.Default, line)
		}
	}
	for _, key := range tomlKeys(reflect.TypeOf(Config{})) {
		if !strings.Contains(block, key+" =") {
			t.Errorf("README config block lacks key %q", key)
		}
	}
}

// tomlKeys lists the leaf keys of a config struct type.
func tomlKeys(t reflect.Type) []string {
	var keys []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name := strings.Split(f.Tag.Get("toml"), ",")[0]
		if f.Type.Kind() == reflect.Struct {
			keys = append(keys, tomlKeys(f.Type)...)
			continue
		}
		keys = append(keys, name)
	}
	return keys
}

// A server started with no configuration limits each application's rate
// (issue 13: qps=0, unlimited, was the default).
func TestDefaultRateLimit(t *testing.T) {
	cfg, err := loadConfig("", func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Server.QPS != DefaultQPS || cfg.Server.Burst != DefaultBurst || cfg.Server.QPS <= 0 {
		t.Fatalf("default qps %g burst %d, want %d and %d", cfg.Server.QPS, cfg.Server.Burst, DefaultQPS, DefaultBurst)
	}
	t.Run("ZeroStillMeansUnlimited", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "c.toml")
		if err := os.WriteFile(file, []byte("[server]\nqps = 0.0\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, err := loadConfig(file, func(string) string { return "" })
		if err != nil || cfg.Server.QPS != 0 {
			t.Fatalf("qps = 0 in the file gave %g, %v", cfg.Server.QPS, err)
		}
	})
}

// TestEngineCommandsReadConfig checks that the offline engine commands take
// the one config path serve takes: defaults, then the TOML file, then the
// environment, then flags (`facekit models` prints the paths it checks).
func TestEngineCommandsReadConfig(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "facekit.toml")
	if err := os.WriteFile(file, []byte("[engine]\nmodels = \"/from/file\"\nshape_model = \"/from/file/shape.dat\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// The default descriptor model's own file is listed as required.
	defaultModelFile, err := descriptor.File(descriptor.Default, descriptor.Env{HumanModels: "models/data/human-models"})
	if err != nil || defaultModelFile == "" {
		t.Fatalf("default model file %q, %v", defaultModelFile, err)
	}
	tests := []struct {
		name string
		env  string
		args []string
		want []string
	}{
		{"Defaults", "", nil, []string{"models/data/" + engine.ResNetFile, engine.DefaultShapeModel, "descriptor " + descriptor.Default + " " + defaultModelFile}},
		{"File", "", []string{"--config", file}, []string{"/from/file/" + engine.ResNetFile, "/from/file/shape.dat"}},
		{"EnvOverFile", "/from/env", []string{"--config", file}, []string{"/from/env/" + engine.ResNetFile, "/from/file/shape.dat"}},
		{"FlagOverEnv", "/from/env", []string{"--config", file, "--models", "/from/flag"}, []string{"/from/flag/" + engine.ResNetFile}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("FACEKIT_CONFIG", "")
			t.Setenv("FACEKIT_SHAPE_MODEL", "")
			t.Setenv("FACEKIT_DESCRIPTOR", "")
			t.Setenv("FACEKIT_MODEL_DIR", tt.env)
			_, out, errOut := runCLI(t, append([]string{"models"}, tt.args...)...)
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("models output lacks %q:\n%s%s", w, out, errOut)
				}
			}
		})
	}
}
