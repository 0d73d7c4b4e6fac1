package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/pelletier/go-toml/v2"

	"github.com/facekit/facekit/descriptor"
	"github.com/facekit/facekit/engine"
	"github.com/facekit/facekit/store/index"
)

// Config is everything `facekit serve` can be told. It flows one way:
// defaults, then the TOML file (--config or $FACEKIT_CONFIG), then
// environment variables, then flags.
type Config struct {
	// Addr is the HTTP listen address (env FACEKIT_ADDR).
	Addr string `toml:"addr"`
	// Data is the directory holding the SQLite library facekit.db (env FACEKIT_DATA).
	Data string `toml:"data"`

	Engine   EngineConfig   `toml:"engine"`
	Server   ServerConfig   `toml:"server"`
	Registry RegistryConfig `toml:"registry"`
	Library  LibraryConfig  `toml:"library"`
	Linkface LinkfaceConfig `toml:"linkface"`
	Tencent  TencentConfig  `toml:"tencent"`
}

// LibraryConfig configures what the face library keeps.
type LibraryConfig struct {
	// Thumbnails keeps a small face crop with each enrolled face so that
	// operators can recognise people in the console; turn off for privacy
	// (env FACEKIT_THUMBNAILS).
	Thumbnails bool `toml:"thumbnails"`
	// SourceCrops keeps a 320 px aligned face crop with each enrolled face,
	// from which `facekit reembed` can describe it under another model;
	// turn off for privacy, at the price of re-enrolling from photos to
	// change models (env FACEKIT_SOURCE_CROPS).
	SourceCrops bool `toml:"source_crops"`

	// IndexPrecision is how the in-memory search index stores 128-d
	// descriptors: "float16" (default: less memory and a third of
	// float32's scan time; distances move by ~1e-4, so the nearest user
	// changes only on near ties) or "float32" (exact) (env
	// FACEKIT_INDEX_PRECISION).
	IndexPrecision string `toml:"index_precision"`

	// Backend is where the library lives: "sqlite" (default: the file
	// DATA/facekit.db, one node) or "postgres" (a database shared by
	// several nodes, see docs/scale-out.md) (env FACEKIT_LIBRARY_BACKEND).
	Backend string `toml:"backend"`
	// DSN is the PostgreSQL connection string, e.g.
	// postgres://facekit@db1:5432/facekit (env FACEKIT_DATABASE_URL; the
	// environment keeps a password out of the config file).
	DSN string `toml:"dsn"`
	// Groups, when set, limits this node's search index to these groups
	// (postgres only): a node then holds part of a library too large for
	// one machine's memory, and the load balancer routes each request to
	// a node holding its groups. Searches of other groups answer "group
	// not found".
	Groups []string `toml:"groups"`
}

// LinkfaceConfig configures the Linkface dialect (api_id/api_secret are
// facekit applications' API key and secret key).
type LinkfaceConfig struct {
	// KeyLifetime, when set, expires an application's api_id this long
	// after its creation (403 KEY_EXPIRED).
	KeyLifetime Duration `toml:"key_lifetime"`
}

// TencentConfig configures the Tencent dialect. Its legacy signature is an
// HMAC keyed by the secret, so the secret must be known in plain text here,
// unlike the other dialects' secrets, which facekit stores only hashed.
type TencentConfig struct {
	Credentials []TencentCredential `toml:"credentials"`
}

// TencentCredential is one accepted Tencent key pair.
type TencentCredential struct {
	AppID     string `toml:"app_id"`
	SecretID  string `toml:"secret_id"`
	SecretKey string `toml:"secret_key"`
}

// EngineConfig configures the native engine.
type EngineConfig struct {
	Models     string `toml:"models"`      // model directory (env FACEKIT_MODEL_DIR)
	ShapeModel string `toml:"shape_model"` // 68-point landmark model (env FACEKIT_SHAPE_MODEL)
	Detector   string `toml:"detector"`    // auto, hog, cnn or ssd (env FACEKIT_DETECTOR)
	Pool       int    `toml:"pool"`        // native instances, 0 = CPU count (env FACEKIT_POOL)
	// Descriptor is the descriptor model faces are described with (env
	// FACEKIT_DESCRIPTOR). Unset, a server or enroll follows the model of
	// a library that already holds faces of one model, and describes a new
	// or empty library with descriptor.Default (see followLibraryModel).
	Descriptor string `toml:"descriptor"`
	// DetectMaxSide bounds the longer side of the image the detector sees,
	// upsampled copies included (landmarks and descriptors still read the
	// full photo); 0 = engine.DefaultDetectMaxSide (env
	// FACEKIT_DETECT_MAX_SIDE).
	DetectMaxSide int `toml:"detect_max_side"`
	// Calibration is a distance → FAR curve file measured on the operator's
	// own population (facekit calibrate --out, facekit eval pairs
	// --calibrate); empty uses the curve embedded for the descriptor model,
	// measured on LFW (env FACEKIT_CALIBRATION).
	Calibration string `toml:"calibration"`
}

// DescriptorModel is the descriptor model faces are described with: the
// configured one, else descriptor.Default.
func (c EngineConfig) DescriptorModel() string {
	if c.Descriptor == "" {
		return descriptor.Default
	}
	return c.Descriptor
}

// ServerConfig configures the HTTP server; zero values take the server's
// defaults.
type ServerConfig struct {
	MaxBodyBytes      int64    `toml:"max_body_bytes"`      // default 24 MiB
	QPS               float64  `toml:"qps"`                 // per-application requests/s, default DefaultQPS, 0 = unlimited (env FACEKIT_QPS)
	Burst             int      `toml:"burst"`               // token-bucket burst, default DefaultBurst
	AuthFailures      int      `toml:"auth_failures"`       // failed sign-ins per client address per auth_failure_window, default 10, -1 = off
	AuthFailureWindow Duration `toml:"auth_failure_window"` // default 1m
	TokenTTL          Duration `toml:"token_ttl"`           // access-token lifetime, default 720h
	ReadTimeout       Duration `toml:"read_timeout"`        // default 60s
	WriteTimeout      Duration `toml:"write_timeout"`       // default 120s
	QueueTimeout      Duration `toml:"queue_timeout"`       // wait for an engine slot, default 30s
	FetchTimeout      Duration `toml:"fetch_timeout"`       // image_type=URL downloads, default 10s
	AllowPrivateURLs  bool     `toml:"allow_private_urls"`  // let image URLs reach loopback/private networks (env FACEKIT_ALLOW_PRIVATE_URLS)
	MaxImageBytes     int64    `toml:"max_image_bytes"`     // default 10 MB
	MaxImageSide      int      `toml:"max_image_side"`      // default 10000 px
	MaxFaceTokens     int      `toml:"max_face_tokens"`     // detected-face cache size per application, default 100000
	ShutdownGraceTime Duration `toml:"shutdown_grace_time"` // default 30s
	// TrustedProxies are the reverse proxies (addresses or CIDR prefixes)
	// whose X-Forwarded-For names the client; default none (env
	// FACEKIT_TRUSTED_PROXIES, comma-separated).
	TrustedProxies []string `toml:"trusted_proxies"`
}

// RegistryConfig chooses the registry-photo source behind identity
// verification.
type RegistryConfig struct {
	// Kind is "dir", "sqlite", "http", "none", or "" (not configured:
	// DATA/registry.db when it exists, else none) (env FACEKIT_REGISTRY).
	Kind string `toml:"kind"`
	// Path is the directory (dir) or SQLite file (sqlite; default
	// DATA/registry.db) (env FACEKIT_REGISTRY_PATH).
	Path string `toml:"path"`
	// URL is the http source's template, e.g. https://gw/photo?id={id}&name={name}
	// (env FACEKIT_REGISTRY_URL).
	URL     string   `toml:"url"`
	Timeout Duration `toml:"timeout"`
	Retries int      `toml:"retries"`
}

// Duration is a time.Duration written as "30s" in the config file.
type Duration time.Duration

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// Default per-application rate limit. A kiosk makes one or two calls per
// visitor (detect, then search or verify), a few per second at most while
// someone stands in front of it; 10 per second with a burst of 20 leaves it
// ample room, while one leaked or looping key cannot take every engine slot
// of a small server (HOG detection serves roughly 4 requests/s per core).
// A site whose many kiosks share one key raises [server] qps (or that
// application's own limit, store SetAppLimits).
const (
	DefaultQPS   = 10
	DefaultBurst = 20
)

func defaultConfig() Config {
	return Config{
		Server: ServerConfig{QPS: DefaultQPS, Burst: DefaultBurst},
		Addr:   "127.0.0.1:8080",
		Data:   "data",
		Engine: EngineConfig{
			Models:   "models/data",
			Detector: string(engine.DetectorAuto),
			// Descriptor stays unset: a server then follows its
			// library's model (DescriptorModel gives the default).
		},
		Library: LibraryConfig{Thumbnails: true, SourceCrops: true, IndexPrecision: string(index.Float16), Backend: backendSQLite},
	}
}

// loadConfig applies the file and the environment over the defaults.
// Flags are applied by the caller after this.
func loadConfig(path string, getenv func(string) string) (Config, error) {
	cfg := defaultConfig()
	if path == "" {
		path = getenv("FACEKIT_CONFIG")
	}
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return cfg, fmt.Errorf("config: %w", err)
		}
		dec := toml.NewDecoder(strings.NewReader(string(data)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&cfg); err != nil {
			var sm *toml.StrictMissingError
			if errors.As(err, &sm) {
				return cfg, fmt.Errorf("config %s: unknown key: %s", path, sm.String())
			}
			return cfg, fmt.Errorf("config %s: %w", path, err)
		}
	}
	if err := applyEnv(&cfg, getenv); err != nil {
		return cfg, err
	}
	if _, err := index.ParsePrecision(cfg.Library.IndexPrecision); err != nil {
		return cfg, fmt.Errorf("config: [library] index_precision: %w", err)
	}
	switch cfg.Library.Backend {
	case backendSQLite:
		if len(cfg.Library.Groups) > 0 {
			return cfg, fmt.Errorf("config: [library] groups needs backend %q (a SQLite library is one node's)", backendPostgres)
		}
	case backendPostgres:
	default:
		return cfg, fmt.Errorf("config: [library] backend %q: want %q or %q", cfg.Library.Backend, backendSQLite, backendPostgres)
	}
	return cfg, nil
}

func applyEnv(cfg *Config, getenv func(string) string) error {
	str := func(key string, dst *string) {
		if v := getenv(key); v != "" {
			*dst = v
		}
	}
	str("FACEKIT_ADDR", &cfg.Addr)
	str("FACEKIT_DATA", &cfg.Data)
	str("FACEKIT_MODEL_DIR", &cfg.Engine.Models)
	str("FACEKIT_SHAPE_MODEL", &cfg.Engine.ShapeModel)
	str("FACEKIT_DETECTOR", &cfg.Engine.Detector)
	str("FACEKIT_DESCRIPTOR", &cfg.Engine.Descriptor)
	str("FACEKIT_CALIBRATION", &cfg.Engine.Calibration)
	str("FACEKIT_REGISTRY", &cfg.Registry.Kind)
	str("FACEKIT_REGISTRY_PATH", &cfg.Registry.Path)
	str("FACEKIT_REGISTRY_URL", &cfg.Registry.URL)
	str("FACEKIT_INDEX_PRECISION", &cfg.Library.IndexPrecision)
	str("FACEKIT_LIBRARY_BACKEND", &cfg.Library.Backend)
	str("FACEKIT_DATABASE_URL", &cfg.Library.DSN)
	if v := getenv("FACEKIT_DETECT_MAX_SIDE"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("FACEKIT_DETECT_MAX_SIDE: %w", err)
		}
		cfg.Engine.DetectMaxSide = n
	}
	if v := getenv("FACEKIT_POOL"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("FACEKIT_POOL: %w", err)
		}
		cfg.Engine.Pool = n
	}
	if v := getenv("FACEKIT_QPS"); v != "" {
		q, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return fmt.Errorf("FACEKIT_QPS: %w", err)
		}
		cfg.Server.QPS = q
	}
	if v := getenv("FACEKIT_TRUSTED_PROXIES"); v != "" {
		cfg.Server.TrustedProxies = nil
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				cfg.Server.TrustedProxies = append(cfg.Server.TrustedProxies, p)
			}
		}
	}
	if v := getenv("FACEKIT_THUMBNAILS"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("FACEKIT_THUMBNAILS: %w", err)
		}
		cfg.Library.Thumbnails = b
	}
	if v := getenv("FACEKIT_SOURCE_CROPS"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("FACEKIT_SOURCE_CROPS: %w", err)
		}
		cfg.Library.SourceCrops = b
	}
	if v := getenv("FACEKIT_ALLOW_PRIVATE_URLS"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("FACEKIT_ALLOW_PRIVATE_URLS: %w", err)
		}
		cfg.Server.AllowPrivateURLs = b
	}
	return nil
}

// registerConfigFlags adds the flags that override cfg; call after
// loadConfig so that flag defaults show the effective values.
func registerConfigFlags(fs *flag.FlagSet, cfg *Config) {
	fs.StringVar(&cfg.Addr, "addr", cfg.Addr, "listen address HOST:PORT")
	fs.StringVar(&cfg.Data, "data", cfg.Data, "data directory (holds facekit.db)")
	fs.StringVar(&cfg.Engine.Models, "models", cfg.Engine.Models, "directory with the model files")
	fs.StringVar(&cfg.Engine.ShapeModel, "shape-model", cfg.Engine.ShapeModel, "68-point landmark model (default: Debian's libdlib-data copy)")
	fs.StringVar(&cfg.Engine.Detector, "detector", cfg.Engine.Detector, "face detector: auto (HOG, the CNN only when HOG finds nothing), hog, cnn or ssd (see docs/detectors.md)")
	fs.IntVar(&cfg.Engine.Pool, "pool", cfg.Engine.Pool, "native engine instances (0 = one per CPU)")
	fs.StringVar(&cfg.Engine.Descriptor, "descriptor", cfg.Engine.Descriptor, descriptorFlagUsage)
	fs.StringVar(&cfg.Engine.Calibration, "calibration", cfg.Engine.Calibration, "distance→FAR curve file measured on your own population (default: the model's embedded LFW curve)")
	fs.Float64Var(&cfg.Server.QPS, "qps", cfg.Server.QPS, "default per-application request rate limit (0 = unlimited)")
	fs.BoolVar(&cfg.Server.AllowPrivateURLs, "allow-private-urls", cfg.Server.AllowPrivateURLs, "let image_type=URL reach loopback and private networks")
	fs.StringVar(&cfg.Registry.Kind, "registry", cfg.Registry.Kind, "registry-photo source: dir, sqlite, http or none (default: DATA/registry.db when it exists, else none)")
	fs.StringVar(&cfg.Registry.Path, "registry-path", cfg.Registry.Path, "registry directory (dir) or SQLite file (sqlite)")
	fs.StringVar(&cfg.Registry.URL, "registry-url", cfg.Registry.URL, "registry URL template (http), e.g. https://gw/photo?id={id}&name={name}")
}

// configFlag pre-scans args for --config so the file can be loaded before
// the other flags are registered with its values as defaults.
func configFlag(args []string) string {
	for i, a := range args {
		a = strings.TrimLeft(a, "-")
		if a == "config" && i+1 < len(args) {
			return args[i+1]
		}
		if v, ok := strings.CutPrefix(a, "config="); ok {
			return v
		}
	}
	return ""
}
