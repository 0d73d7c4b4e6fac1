package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
)

// runApp manages API applications: `facekit app create --name NAME`.
func runApp(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		fmt.Fprintln(stderr, "usage: facekit app create --data DIR --name NAME [--json]")
		return errUsage
	}
	cfg, err := loadConfig(configFlag(args[1:]), os.Getenv)
	if err != nil {
		return err
	}
	fs := newFlagSet("app create", stderr)
	fs.String("config", "", "TOML config file (env FACEKIT_CONFIG)")
	fs.StringVar(&cfg.Data, "data", cfg.Data, "data directory (holds facekit.db)")
	name := fs.String("name", "", "application name (required)")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if *name == "" {
		return fmt.Errorf("--name is required")
	}
	db, err := openLibrary(context.Background(), cfg, libraryUse{create: true})
	if err != nil {
		return err
	}
	defer db.Close()
	app, secret, err := db.CreateApp(context.Background(), *name)
	if err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(map[string]string{
			"app_id": app.ID, "name": app.Name, "api_key": app.APIKey, "secret_key": secret,
		})
	}
	fmt.Fprintf(stdout, "App ID: %s\nName: %s\nAPI Key: %s\nSecret Key: %s\n", app.ID, app.Name, app.APIKey, secret)
	return nil
}
