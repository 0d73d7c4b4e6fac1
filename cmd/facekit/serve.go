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
	"github.com/facekit/facekit/server/linkface"
	"github.com/facekit/facekit/server/openapi"
	"github.com/facekit/facekit/server/ops"
	"github.com/facekit/facekit/server/tencent"
	"github.com/facekit/facekit/service"
	"github.com/facekit/facekit/service/imagesrc"
	"github.com/facekit/facekit/store"
	"github.com/facekit/facekit/store/registry"
	"github.com/facekit/facekit/store/registry/source"
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
	opened := time.Now()
	db, err := openLibrary(ctx, cfg, libraryUse{create: true, follow: true, maxFaceTokens: cfg.Server.MaxFaceTokens})
	if err != nil {
		return err
	}
	defer db.Close()
	log.Info("library loaded", "backend", cfg.Library.Backend, "faces", db.Index().Len(), "index_precision", db.Index().Precision(),
		"seconds", time.Since(opened).Seconds())
	if note, err := followLibraryModel(ctx, db, &cfg); err != nil {
		return err
	} else if note != "" {
		log.Warn(note, "descriptor", cfg.Engine.Descriptor)
	}
	log.Info("descriptor model", "descriptor", cfg.Engine.DescriptorModel())
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
	reg, closeReg, err := openRegistry(cfg, log)
	if err != nil {
		return err
	}
	defer closeReg()

	// ops must be the first dialect: gin attaches middleware only to the
	// routes registered after it, and its metrics should see them all.
	// The service is built after ops (it runs on ops' instrumented
	// engine and library); the failure counter reads it once it exists.
	var svc *service.Service
	opsd := ops.New(ops.Config{
		Checks: map[string]ops.Check{
			"engine": ops.EngineCheck(eng), "library": libraryReadyCheck(cfg, db),
			// A reembed that switches the library beside a running server
			// leaves it describing probes with the old model: searches then
			// fail, and readiness says why.
			"library_model": libraryModelCheck(db, cfg),
		},
		LibraryFaces: db.Index().Len,
		SourceCropFailures: func() int64 {
			if svc == nil {
				return 0
			}
			return svc.SourceCropFailures()
		},
	})
	attrs, live, err := humanModels(cfg.Engine.Models, log)
	if err != nil {
		return err
	}
	svc, err = service.New(serviceConfig(cfg), service.Deps{
		Engine:     opsd.Engine(eng),
		Descriptor: opsd.Describer(desc),
		Library:    opsd.Library(db),
		Searcher:   opsd.Searcher(db),
		Apps:       db,
		FaceTokens: db,
		Sessions:   db,
		Registry:   reg,
		Attributes: attrs,
		Liveness:   live,
		Curve:      curve,
		Logger:     log,
	})
	if err != nil {
		return err
	}
	// Runs before db.Close (deferred earlier): face tokens of the last
	// answered detects reach the cache rather than being dropped.
	defer func() {
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if err := svc.FlushFaceTokens(fctx); err != nil {
			log.Warn("face tokens not written at shutdown", "error", err)
		}
	}()
	srv, err := server.New(server.Config{
		ReadTimeout:    time.Duration(cfg.Server.ReadTimeout),
		WriteTimeout:   time.Duration(cfg.Server.WriteTimeout),
		MaxBodyBytes:   cfg.Server.MaxBodyBytes,
		TrustedProxies: cfg.Server.TrustedProxies,
	}, svc, append([]server.Dialect{opsd}, dialects(cfg)...)...)
	if err != nil {
		return err
	}
	return listenAndServe(ctx, srv, cfg.Addr, time.Duration(cfg.Server.ShutdownGraceTime), ready)
}

// serviceConfig is the service's part of cfg, shared by facekit serve and
// the offline commands that run the service (enroll).
func serviceConfig(cfg Config) service.Config {
	limits := imageio.DefaultLimits()
	if cfg.Server.MaxImageBytes > 0 {
		limits.MaxBytes = cfg.Server.MaxImageBytes
	}
	if cfg.Server.MaxImageSide > 0 {
		limits.MaxSide = cfg.Server.MaxImageSide
	}
	return service.Config{
		Thumbnails:        cfg.Library.Thumbnails,
		SourceCrops:       cfg.Library.SourceCrops,
		QueueTimeout:      time.Duration(cfg.Server.QueueTimeout),
		QPS:               cfg.Server.QPS,
		Burst:             cfg.Server.Burst,
		AuthFailures:      cfg.Server.AuthFailures,
		AuthFailureWindow: time.Duration(cfg.Server.AuthFailureWindow),
		TokenTTL:          time.Duration(cfg.Server.TokenTTL),
		Image:             limits,
		Fetch: imagesrc.Config{
			Timeout:      time.Duration(cfg.Server.FetchTimeout),
			AllowPrivate: cfg.Server.AllowPrivateURLs,
		},
	}
}

// openDescriptor loads the configured descriptor model (the dlib ResNet
// runs in eng, the others beside it).
func openDescriptor(cfg Config, eng *engine.Engine) (descriptor.Describer, error) {
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
		"run `%s` to migrate the library, or serve with --descriptor %s",
		libraryPlace(cfg), counts[m], m, want, reembedCommand(cfg, want), m)
}

// libraryModelCheck is the readiness check that the library still holds
// faces of the served descriptor model only. It fails after a reembed
// switched the library beside this server (the server follows the file and
// reloads its index, but keeps describing probes with its own model, so
// every search would be refused as a model mismatch).
func libraryModelCheck(db Library, cfg Config) ops.Check {
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
func humanModels(modelDir string, log *slog.Logger) (service.AttributeAnalyzer, service.LivenessChecker, error) {
	dir := filepath.Join(modelDir, "human-models")
	var (
		attrs service.AttributeAnalyzer
		live  service.LivenessChecker
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

// isRegularFile reports whether path names a regular file.
func isRegularFile(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular()
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
// numbers and names before any lookup. When no source is configured and
// DATA/registry.db exists (what `facekit registry add --data DATA` fills),
// it serves that file and says so; otherwise, with no source, it returns
// nil (identity endpoints then answer "not available") and logs how to
// configure one. --registry none turns the registry off explicitly.
func openRegistry(cfg Config, log *slog.Logger) (registry.Source, func() error, error) {
	rc := source.Config{
		Kind:    cfg.Registry.Kind,
		Path:    cfg.Registry.Path,
		URL:     cfg.Registry.URL,
		Timeout: time.Duration(cfg.Registry.Timeout),
		Retries: cfg.Registry.Retries,
	}
	switch rc.Kind {
	case "none":
		rc.Kind = source.KindNone
	case "":
		if p := filepath.Join(cfg.Data, "registry.db"); isRegularFile(p) {
			rc.Kind, rc.Path = source.KindSQLite, p
			log.Info("registry: serving the registry photos in the data directory (no --registry given; --registry none turns this off)", "kind", rc.Kind, "path", p)
		} else {
			log.Warn("registry: no registry-photo source, so identity verification answers not available (Linkface NO_PERMISSION); "+
				"configure one with --registry dir|sqlite|http (config [registry] kind), or fill "+p+" with facekit registry add", "path", p)
		}
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
