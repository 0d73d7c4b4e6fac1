package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/facekit/facekit/descriptor"
	"github.com/facekit/facekit/store/reembed"
)

// reembedOptions are the parsed flags of `facekit reembed`.
type reembedOptions struct {
	to   string
	opts reembed.Options
}

// runReembed is `facekit reembed`: migrate a library to another descriptor
// model from its faces' source crops, resumably.
func runReembed(args []string, stdout, stderr io.Writer) error {
	cfg, err := loadConfig(configFlag(args), os.Getenv)
	if err != nil {
		return err
	}
	fs := newFlagSet("reembed", stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: facekit reembed --data DIR --to MODEL [--app APP_ID] [--batch N] [--delete-missing]")
		fmt.Fprintln(stderr, "\nDescribes every library face (of APP_ID, or of every application) again with MODEL from")
		fmt.Fprintln(stderr, "its source crop, staging the new descriptors; when all are staged the library switches")
		fmt.Fprintln(stderr, "to MODEL in one transaction. An interrupted run resumes where it stopped. Serve with")
		fmt.Fprintln(stderr, "--descriptor MODEL afterwards. Models: "+strings.Join(descriptor.Names(), ", "))
		fs.PrintDefaults()
	}
	fs.String("config", "", "TOML config file (env FACEKIT_CONFIG)")
	fs.StringVar(&cfg.Data, "data", cfg.Data, "data directory (holds facekit.db)")
	registerEngineConfigFlags(fs, &cfg)
	var o reembedOptions
	fs.StringVar(&o.to, "to", "", "descriptor model to migrate to (required)")
	fs.StringVar(&o.opts.App, "app", "", "only this application's faces (default: every application)")
	fs.IntVar(&o.opts.Batch, "batch", 64, "faces staged per transaction")
	fs.IntVar(&o.opts.Workers, "workers", 0, "faces described at once (0 = one per CPU)")
	fs.BoolVar(&o.opts.DeleteMissing, "delete-missing", false, "delete the faces that have no source crop instead of refusing to switch")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if o.to == "" || fs.NArg() != 0 {
		fs.Usage()
		return errUsage
	}
	if _, err := descriptor.Lookup(o.to); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return reembedLibrary(ctx, cfg, o, stdout, stderr)
}

// reembedLibrary runs one (possibly resumed) migration and prints its
// summary on stdout, progress on stderr.
func reembedLibrary(ctx context.Context, cfg Config, o reembedOptions, stdout, stderr io.Writer) error {
	db, err := openExistingLibrary(cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	if o.opts.App != "" {
		if _, err := db.AppByID(ctx, o.opts.App); err != nil {
			return fmt.Errorf("application %q: %w", o.opts.App, err)
		}
	}
	info, err := descriptor.Lookup(o.to)
	if err != nil {
		return err
	}
	env := descriptor.Env{HumanModels: humanModelsDir(cfg)}
	if info.NeedsEngine {
		// Load the native engine only for the models that run in it.
		eng, err := openEngine(cfg)
		if err != nil {
			return err
		}
		defer eng.Close()
		env.Engine = eng
	}
	d, err := descriptor.Open(o.to, env)
	if err != nil {
		return err
	}
	o.opts.Progress = stderr
	sum, err := reembed.Run(ctx, db, d, o.opts)
	if sum != nil {
		sum.Print(stdout)
	}
	switch {
	case err == nil:
		fmt.Fprintf(stdout, "serve with --descriptor %s (or [engine] descriptor = %q; a server with no descriptor configured follows the library's model)\n", o.to, o.to)
	case errors.Is(err, context.Canceled):
		fmt.Fprintln(stdout, "interrupted: run the same command again to resume")
	}
	return err
}
