package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"

	"github.com/facekit/facekit/store/registry"
	"github.com/facekit/facekit/store/registry/sqlitesrc"
)

// runRegistry manages the SQLite registry-photo table that stands in for
// an ID-photo authority: import a directory, add one person, export, count.
func runRegistry(args []string, stdout, stderr io.Writer) error {
	usage := func() error {
		fmt.Fprintln(stderr, `usage:
  facekit registry import [--data DIR | --db FILE] PHOTO_DIR   (PHOTO_DIR: <id_number>.jpg files + index.csv of id_number,name)
  facekit registry add    [--data DIR | --db FILE] --id ID_NUMBER --name NAME PHOTO
  facekit registry export [--data DIR | --db FILE] OUT_DIR
  facekit registry count  [--data DIR | --db FILE]`)
		return errUsage
	}
	if len(args) == 0 {
		return usage()
	}
	sub := args[0]
	cfg, err := loadConfig(configFlag(args[1:]), os.Getenv)
	if err != nil {
		return err
	}
	fs := newFlagSet("registry "+sub, stderr)
	fs.String("config", "", "TOML config file (env FACEKIT_CONFIG)")
	fs.StringVar(&cfg.Data, "data", cfg.Data, "data directory (the registry is DIR/registry.db unless --db is given)")
	dbPath := fs.String("db", cfg.Registry.Path, "registry SQLite file")
	id := fs.String("id", "", "ID number (add)")
	name := fs.String("name", "", "name (add)")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if *dbPath == "" {
		*dbPath = filepath.Join(cfg.Data, "registry.db")
	}
	if err := os.MkdirAll(filepath.Dir(*dbPath), 0o750); err != nil {
		return err
	}
	src, err := sqlitesrc.Open(*dbPath)
	if err != nil {
		return err
	}
	defer src.Close()
	ctx := context.Background()

	switch {
	case sub == "import" && fs.NArg() == 1:
		n, err := src.Import(ctx, fs.Arg(0))
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "imported %d registry photos into %s\n", n, *dbPath)
	case sub == "add" && fs.NArg() == 1:
		data, err := os.ReadFile(fs.Arg(0))
		if err != nil {
			return err
		}
		idNumber, cleanName, err := registry.Validate(*id, *name)
		if err != nil {
			return err
		}
		p := registry.Photo{IDNumber: idNumber, Name: cleanName, Image: data, ContentType: http.DetectContentType(data)}
		if err := src.Add(ctx, p); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "added %s (%s) to %s\n", idNumber, cleanName, *dbPath)
	case sub == "export" && fs.NArg() == 1:
		n, err := src.Export(ctx, fs.Arg(0))
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "exported %d registry photos to %s\n", n, fs.Arg(0))
	case sub == "count" && fs.NArg() == 0:
		n, err := src.Count(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, n)
	default:
		return usage()
	}
	return nil
}
