package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

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
	code, out, errOut := runCLI(t, "detect", "--models", models, "--json", "--descriptor", testenv.Face(t, "pristin.jpg"), testenv.Face(t, "bona.jpg"))
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
	if len(res[1].Faces[0].Descriptor) != 128 {
		t.Errorf("descriptor has %d values", len(res[1].Faces[0].Descriptor))
	}
}

func TestCompare(t *testing.T) {
	models := testenv.ModelDir(t)
	tests := []struct {
		name string
		a, b string
		same bool
	}{
		{"SamePerson", "jimin.jpg", "jimin2.jpg", true},
		{"DifferentPeople", "jimin.jpg", "bona.jpg", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, "compare", "--models", models, "--json", testenv.Face(t, tt.a), testenv.Face(t, tt.b))
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			var res struct {
				Distance float64 `json:"distance"`
				Same     bool    `json:"same"`
			}
			if err := json.Unmarshal([]byte(out), &res); err != nil {
				t.Fatal(err)
			}
			if res.Same != tt.same {
				t.Errorf("same = %v at distance %.3f, want %v", res.Same, res.Distance, tt.same)
			}
		})
	}
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
				if tt.ok && (cfg.Library.IndexPrecision != tt.want || string(libraryOptions(cfg).IndexPrecision) != tt.want) {
					t.Errorf("precision %q, want %q", cfg.Library.IndexPrecision, tt.want)
				}
			})
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

// TestEngineCommandsReadConfig checks that the offline engine commands take
// the one config path serve takes: defaults, then the TOML file, then the
// environment, then flags (`facekit models` prints the paths it checks).
func TestEngineCommandsReadConfig(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "facekit.toml")
	if err := os.WriteFile(file, []byte("[engine]\nmodels = \"/from/file\"\nshape_model = \"/from/file/shape.dat\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		env  string
		args []string
		want []string
	}{
		{"Defaults", "", nil, []string{"models/data/" + engine.ResNetFile, engine.DefaultShapeModel}},
		{"File", "", []string{"--config", file}, []string{"/from/file/" + engine.ResNetFile, "/from/file/shape.dat"}},
		{"EnvOverFile", "/from/env", []string{"--config", file}, []string{"/from/env/" + engine.ResNetFile, "/from/file/shape.dat"}},
		{"FlagOverEnv", "/from/env", []string{"--config", file, "--models", "/from/flag"}, []string{"/from/flag/" + engine.ResNetFile}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("FACEKIT_CONFIG", "")
			t.Setenv("FACEKIT_SHAPE_MODEL", "")
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
