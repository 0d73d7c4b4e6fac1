package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"syscall"
	"time"

	"github.com/facekit/facekit/calibration"
	"github.com/facekit/facekit/descriptor"
	"github.com/facekit/facekit/engine"
	"github.com/facekit/facekit/engine/attributes"
	"github.com/facekit/facekit/engine/imageio"
	"github.com/facekit/facekit/engine/liveness"
	"github.com/facekit/facekit/server"
	"github.com/facekit/facekit/server/baidu"
	"github.com/facekit/facekit/server/console"
	"github.com/facekit/facekit/server/imagesrc"
	"github.com/facekit/facekit/server/linkface"
	"github.com/facekit/facekit/server/openapi"
	"github.com/facekit/facekit/server/ops"
	"github.com/facekit/facekit/server/tencent"
	"github.com/facekit/facekit/store"
	"github.com/facekit/facekit/store/registry"
	"github.com/facekit/facekit/store/registry/source"
	"github.com/facekit/facekit/store/sqlite"
)

func runServe(args []string, stdout, stderr io.Writer) error {
	cfg, err := loadConfig(configFlag(args), os.Getenv)
	if err != nil {
		return err
	}
	fs := newFlagSet("serve", stderr)
	fs.String("config", "", "TOML config file (env FACEKIT_CONFIG); flags override it")
	registerConfigFlags(fs, &cfg)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return serve(ctx, cfg, slog.New(slog.NewJSONHandler(stderr, nil)), nil)
}

// serve runs the server until ctx ends. ready, if not nil, receives the
// listening address once the server accepts connections (tests use it).
func serve(ctx context.Context, cfg Config, log *slog.Logger, ready func(addr string)) error {
	if err := os.MkdirAll(cfg.Data, 0o750); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	eng, err := engine.New(engine.Config{
		ModelDir:      cfg.Engine.Models,
		ShapeModel:    cfg.Engine.ShapeModel,
		PoolSize:      cfg.Engine.Pool,
		Detector:      engine.Detector(cfg.Engine.Detector),
		DetectMaxSide: cfg.Engine.DetectMaxSide,
	})
	if err != nil {
		return err
	}
	defer eng.Close()
	dbPath := filepath.Join(cfg.Data, "facekit.db")
	libOpts := libraryOptions(cfg)
	libOpts.MaxFaceTokens = cfg.Server.MaxFaceTokens
	// Follow other writers so that `facekit enroll` and `import` on the
	// same file show up without a restart.
	libOpts.FollowInterval = 2 * time.Second
	opened := time.Now()
	db, err := sqlite.Open(dbPath, libOpts)
	if err != nil {
		return err
	}
	defer db.Close()
	log.Info("library loaded", "faces", db.Index().Len(), "index_precision", db.Index().Precision(),
		"seconds", time.Since(opened).Seconds())
	desc, err := openDescriptor(cfg, eng)
	if err != nil {
		return err
	}
	curve, err := loadCalibration(cfg)
	if err != nil {
		return err
	}
	if err := checkLibraryModel(ctx, db, cfg); err != nil {
		return err
	}
	reg, closeReg, err := openRegistry(cfg)
	if err != nil {
		return err
	}
	defer closeReg()

	limits := imageio.DefaultLimits()
	if cfg.Server.MaxImageBytes > 0 {
		limits.MaxBytes = cfg.Server.MaxImageBytes
	}
	if cfg.Server.MaxImageSide > 0 {
		limits.MaxSide = cfg.Server.MaxImageSide
	}
	// ops must be the first dialect: gin attaches middleware only to the
	// routes registered after it, and its metrics should see them all.
	opsd := ops.New(ops.Config{
		Checks: map[string]ops.Check{
			"engine": ops.EngineCheck(eng), "library": ops.WritableCheck(dbPath),
			// A reembed that switches the library beside a running server
			// leaves it describing probes with the old model: searches then
			// fail, and readiness says why.
			"library_model": libraryModelCheck(db, cfg),
		},
		LibraryFaces: db.Index().Len,
	})
	attrs, live, err := humanModels(cfg.Engine.Models, log)
	if err != nil {
		return err
	}
	srv, err := server.New(server.Config{
		Addr:         cfg.Addr,
		ReadTimeout:  time.Duration(cfg.Server.ReadTimeout),
		WriteTimeout: time.Duration(cfg.Server.WriteTimeout),
		MaxBodyBytes: cfg.Server.MaxBodyBytes,
		Thumbnails:   cfg.Library.Thumbnails,
		SourceCrops:  cfg.Library.SourceCrops,
		QueueTimeout: time.Duration(cfg.Server.QueueTimeout),
		QPS:          cfg.Server.QPS,
		Burst:        cfg.Server.Burst,
		TokenTTL:     time.Duration(cfg.Server.TokenTTL),
		Image:        limits,
		Fetch: imagesrc.Config{
			Timeout:      time.Duration(cfg.Server.FetchTimeout),
			AllowPrivate: cfg.Server.AllowPrivateURLs,
		},
	}, server.Deps{
		Engine:     opsd.Engine(eng),
		Library:    opsd.Library(db),
		Searcher:   opsd.Searcher(db),
		Apps:       db,
		FaceTokens: db,
		Sessions:   db,
		Registry:   reg,
		Attributes: attrs,
		Liveness:   live,
		Descriptor: desc,
		Curve:      curve,
		Logger:     log,
		Dialects:   append([]server.Dialect{opsd}, dialects(cfg)...),
	})
	if err != nil {
		return err
	}
	return listenAndServe(ctx, srv, cfg.Addr, time.Duration(cfg.Server.ShutdownGraceTime), ready)
}

// openDescriptor loads the configured descriptor model; nil for the
// default, the dlib ResNet, which the engine computes in its Analyze pass.
func openDescriptor(cfg Config, eng *engine.Engine) (descriptor.Describer, error) {
	if cfg.Engine.DescriptorModel() == descriptor.Default {
		return nil, nil
	}
	d, err := descriptor.Open(cfg.Engine.DescriptorModel(), descriptor.Env{Engine: eng, HumanModels: humanModelsDir(cfg)})
	if err != nil {
		return nil, fmt.Errorf("descriptor: %w", err)
	}
	return d, nil
}

// loadCalibration reads the operator's own distance → FAR curve when one is
// configured; nil lets the server take the curve embedded for its model.
// A curve measured for another descriptor model is refused: its distances
// mean something else.
func loadCalibration(cfg Config) (*calibration.Curve, error) {
	if cfg.Engine.Calibration == "" {
		return nil, nil
	}
	data, err := os.ReadFile(cfg.Engine.Calibration)
	if err != nil {
		return nil, fmt.Errorf("calibration: %w", err)
	}
	c, err := calibration.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("calibration %s: %w", cfg.Engine.Calibration, err)
	}
	if model := cfg.Engine.DescriptorModel(); c.Model != model {
		return nil, fmt.Errorf("calibration %s is the curve of model %q, but faces are described with %q", cfg.Engine.Calibration, c.Model, model)
	}
	return c, nil
}

// humanModelsDir is where the TF.js models are: human-models under the
// model directory.
func humanModelsDir(cfg Config) string { return filepath.Join(cfg.Engine.Models, "human-models") }

// checkLibraryModel refuses a library holding faces of another descriptor
// model than the configured one: their distances to the server's probes
// would be meaningless.
func checkLibraryModel(ctx context.Context, lib store.Reembedder, cfg Config) error {
	want := cfg.Engine.DescriptorModel()
	counts, err := lib.ModelCounts(ctx, "")
	if err != nil {
		return err
	}
	models := make([]string, 0, len(counts))
	for m := range counts {
		if m != want {
			models = append(models, m)
		}
	}
	if len(models) == 0 {
		return nil
	}
	sort.Strings(models)
	m := models[0]
	return fmt.Errorf("the library in %s holds %d faces of descriptor model %s, but faces are described with %s: "+
		"run `facekit reembed --data %s --to %s` to migrate the library, or serve with --descriptor %s",
		cfg.Data, counts[m], m, want, cfg.Data, want, m)
}

// libraryModelCheck is the readiness check that the library still holds
// faces of the served descriptor model only. It fails after a reembed
// switched the library beside this server (the server follows the file and
// reloads its index, but keeps describing probes with its own model, so
// every search would be refused as a model mismatch).
func libraryModelCheck(db *sqlite.DB, cfg Config) ops.Check {
	want := cfg.Engine.DescriptorModel()
	return func(ctx context.Context) error {
		models, err := db.Models(ctx)
		if err != nil {
			return err
		}
		for _, m := range models {
			if m != want {
				return fmt.Errorf("the library holds faces of descriptor model %s, this server describes with %s: restart it with --descriptor %s", m, want, m)
			}
		}
		return nil
	}
}

// humanModels loads the attribute analyzer and the liveness checker from
// the human-models directory under the model directory. Missing models are
// not fatal: the server starts without them, leaves the attribute fields
// absent and answers liveness requests "not available". Models that are
// present are loaded now, so that a corrupt file stops the start rather than
// failing requests, and the first request is not slow. The interfaces stay
// nil (not a typed nil pointer) when a package is unavailable.
func humanModels(modelDir string, log *slog.Logger) (server.AttributeAnalyzer, server.LivenessChecker, error) {
	dir := filepath.Join(modelDir, "human-models")
	var (
		attrs server.AttributeAnalyzer
		live  server.LivenessChecker
	)
	a, err := attributes.New(dir)
	switch {
	case errors.Is(err, engine.ErrModelMissing):
		log.Warn("face attribute models missing: age, gender, emotion and glasses stay absent", "dir", dir, "error", err)
	case err != nil:
		return nil, nil, fmt.Errorf("attribute models: %w", err)
	default:
		if err := a.Preload(attributes.AllFields); err != nil {
			return nil, nil, fmt.Errorf("attribute models: %w", err)
		}
		attrs = a
	}
	l, err := liveness.New(dir)
	switch {
	case errors.Is(err, engine.ErrModelMissing):
		log.Warn("liveness models missing: liveness_control and faceverify answer not available", "dir", dir, "error", err)
	case err != nil:
		return nil, nil, fmt.Errorf("liveness models: %w", err)
	default:
		if err := l.Preload(); err != nil {
			return nil, nil, fmt.Errorf("liveness models: %w", err)
		}
		live = l
	}
	return attrs, live, nil
}

// dialects are the vendor APIs facekit serves.
func dialects(cfg Config) []server.Dialect {
	creds := make([]tencent.Credential, len(cfg.Tencent.Credentials))
	for i, c := range cfg.Tencent.Credentials {
		creds[i] = tencent.Credential{AppID: c.AppID, SecretID: c.SecretID, SecretKey: c.SecretKey}
	}
	return []server.Dialect{
		baidu.New(),
		linkface.New(linkface.Config{KeyLifetime: time.Duration(cfg.Linkface.KeyLifetime)}),
		tencent.New(tencent.Config{Credentials: creds}),
		openapi.NewDialect(),
		console.New(console.Config{NoThumbnails: !cfg.Library.Thumbnails}),
	}
}

// openRegistry opens the configured registry-photo source, validating ID
// numbers and names before any lookup; nil when none is configured
// (identity endpoints then answer "not available").
func openRegistry(cfg Config) (registry.Source, func() error, error) {
	rc := source.Config{
		Kind:    cfg.Registry.Kind,
		Path:    cfg.Registry.Path,
		URL:     cfg.Registry.URL,
		Timeout: time.Duration(cfg.Registry.Timeout),
		Retries: cfg.Registry.Retries,
	}
	if rc.Kind == "none" {
		rc.Kind = source.KindNone
	}
	if rc.Kind == source.KindSQLite && rc.Path == "" {
		rc.Path = filepath.Join(cfg.Data, "registry.db")
	}
	src, closeSrc, err := source.Open(rc)
	if err != nil {
		return nil, nil, fmt.Errorf("registry: %w", err)
	}
	if src == nil {
		return nil, closeSrc, nil
	}
	return registry.Validating(src), closeSrc, nil
}
