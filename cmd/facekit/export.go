package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/facekit/facekit/store"
)

// exportVersion is the version of the export format written in its header.
const exportVersion = 1

// exportRecord is one line of an export: JSON lines, a header first, then
// each group followed by its users, each user followed by its faces. Only
// the fields of the record's type are set.
type exportRecord struct {
	Type string `json:"type"` // header, app, group, user, face

	// header
	Version int    `json:"version,omitempty"`
	App     string `json:"app_id,omitempty"`

	Group string `json:"group_id,omitempty"`
	User  string `json:"user_id,omitempty"`
	Info  string `json:"user_info,omitempty"`

	// app (only with --credentials): the application's name, API key,
	// salted secret hash (never the secret), creation time, limits and
	// calls used, so that its clients keep working after a move.
	Name       string `json:"name,omitempty"`
	APIKey     string `json:"api_key,omitempty"`
	SecretHash []byte `json:"secret_hash,omitempty"`
	AppCreated int64  `json:"app_created,omitempty"` // Unix nanoseconds
	QPS        int    `json:"qps,omitempty"`
	Quota      int64  `json:"quota,omitempty"`
	CallsUsed  int64  `json:"calls_used,omitempty"`

	// face
	Token     string    `json:"face_token,omitempty"`
	Model     string    `json:"model,omitempty"`
	Vector    []float32 `json:"vector,omitempty"`
	Created   int64     `json:"created,omitempty"`   // Unix milliseconds
	Thumbnail []byte    `json:"thumbnail,omitempty"` // JPEG, base64 in JSON; only with --photos
	// SourceCrop (JPEG, base64 in JSON) and SourceLandmarks (68 x,y in
	// crop pixels) are the face's source crop; only with --photos.
	SourceCrop      []byte       `json:"source_crop,omitempty"`
	SourceLandmarks [][2]float32 `json:"source_landmarks,omitempty"`
}

// runExport is `facekit export`: write an application's library as JSON
// lines (descriptors and metadata; thumbnails only with --photos).
func runExport(args []string, stdout, stderr io.Writer) error {
	cfg, err := loadConfig(configFlag(args), os.Getenv)
	if err != nil {
		return err
	}
	fs := newFlagSet("export", stderr)
	fs.String("config", "", "TOML config file (env FACEKIT_CONFIG)")
	fs.StringVar(&cfg.Data, "data", cfg.Data, "data directory (holds facekit.db)")
	app := fs.String("app", "", "application id (required)")
	photos := fs.Bool("photos", false, "include each face's thumbnail and source crop (photo crops: personal data)")
	out := fs.String("out", "", "output file (default stdout)")
	creds := fs.Bool("credentials", false, "include the application's API key and secret hash, so that an import into an empty library (another backend) keeps its clients working")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *app == "" || fs.NArg() != 0 {
		fmt.Fprintln(stderr, "usage: facekit export --data DIR --app APP_ID [--photos] [--out FILE]")
		return errUsage
	}
	db, err := openExistingLibrary(cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	w := stdout
	if *out != "" {
		f, err := os.OpenFile(*out, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
		if err != nil {
			return fmt.Errorf("export: %w", err)
		}
		defer f.Close()
		w = f
	}
	n, err := exportLibrary(context.Background(), db, *app, exportOptions{photos: *photos, credentials: *creds}, w)
	if err != nil {
		return err
	}
	if *out != "" {
		fmt.Fprintf(stderr, "exported %d groups, %d users, %d faces to %s\n", n.groups, n.users, n.faces, *out)
	}
	return nil
}

// runImport is `facekit import`: read an export into an application's
// library. Faces already present (same user and face token) are skipped,
// so an interrupted import can simply be run again.
func runImport(args []string, stdout, stderr io.Writer) error {
	cfg, err := loadConfig(configFlag(args), os.Getenv)
	if err != nil {
		return err
	}
	fs := newFlagSet("import", stderr)
	fs.String("config", "", "TOML config file (env FACEKIT_CONFIG)")
	fs.StringVar(&cfg.Data, "data", cfg.Data, "data directory (holds facekit.db)")
	app := fs.String("app", "", "application id to import into (default: the exported application's, which an export with --credentials creates when absent)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 1 {
		fmt.Fprintln(stderr, "usage: facekit import --data DIR [--app APP_ID] [FILE] (default stdin)")
		return errUsage
	}
	var r io.Reader = os.Stdin
	if fs.NArg() == 1 && fs.Arg(0) != "-" {
		f, err := os.Open(fs.Arg(0))
		if err != nil {
			return fmt.Errorf("import: %w", err)
		}
		defer f.Close()
		r = f
	}
	// An import may be the first thing a new (e.g. PostgreSQL) library
	// sees, bringing its application along.
	db, err := openLibrary(context.Background(), cfg, libraryUse{create: true})
	if err != nil {
		return err
	}
	defer db.Close()
	n, err := importLibrary(context.Background(), db, *app, r)
	fmt.Fprintf(stdout, "imported %d groups, %d users, %d faces (%d faces already present)\n", n.groups, n.users, n.faces, n.existing)
	return err
}

func openExistingLibrary(cfg Config) (Library, error) {
	return openLibrary(context.Background(), cfg, libraryUse{})
}

// libraryCounts counts what an export or import moved.
type libraryCounts struct {
	groups, users, faces, existing int
}

// exportOptions say what an export includes beyond descriptors.
type exportOptions struct {
	photos      bool // thumbnails and source crops
	credentials bool // the application's API key and secret hash
}

// exportLibrary writes every group, user and face of app to w.
func exportLibrary(ctx context.Context, lib Library, app string, o exportOptions, w io.Writer) (libraryCounts, error) {
	var n libraryCounts
	photos := o.photos
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	if err := enc.Encode(exportRecord{Type: "header", Version: exportVersion, App: app}); err != nil {
		return n, fmt.Errorf("export: %w", err)
	}
	if o.credentials {
		a, err := lib.AppByID(ctx, app)
		if err != nil {
			return n, fmt.Errorf("export: application %s: %w", app, err)
		}
		if err := enc.Encode(exportRecord{Type: "app", App: a.ID, Name: a.Name, APIKey: a.APIKey, SecretHash: a.SecretHash,
			AppCreated: a.Created.UnixNano(), QPS: a.QPS, Quota: a.Quota, CallsUsed: a.CallsUsed}); err != nil {
			return n, fmt.Errorf("export: %w", err)
		}
	}
	groups, err := allPages(func(start, length int) ([]string, error) { return lib.ListGroups(ctx, app, start, length) })
	if err != nil {
		return n, fmt.Errorf("export: groups: %w", err)
	}
	for _, g := range groups {
		if err := enc.Encode(exportRecord{Type: "group", Group: g}); err != nil {
			return n, fmt.Errorf("export: %w", err)
		}
		n.groups++
		users, err := allPages(func(start, length int) ([]string, error) { return lib.ListUsers(ctx, app, g, start, length) })
		if err != nil {
			return n, fmt.Errorf("export: users of %s: %w", g, err)
		}
		for _, u := range users {
			info := ""
			if us, err := lib.GetUser(ctx, app, g, u); err == nil && len(us) > 0 {
				info = us[0].Info
			} else if err != nil {
				return n, fmt.Errorf("export: user %s/%s: %w", g, u, err)
			}
			if err := enc.Encode(exportRecord{Type: "user", Group: g, User: u, Info: info}); err != nil {
				return n, fmt.Errorf("export: %w", err)
			}
			n.users++
			faces, err := lib.ListFaces(ctx, app, g, u)
			if err != nil {
				return n, fmt.Errorf("export: faces of %s/%s: %w", g, u, err)
			}
			for _, f := range faces {
				rec := exportRecord{Type: "face", Group: g, User: u, Token: f.Token,
					Model: f.Embedding.Model, Vector: f.Embedding.Vector, Created: f.Created.UnixMilli()}
				if photos {
					t, err := lib.Thumbnail(ctx, app, g, u, f.Token)
					if err != nil && !errors.Is(err, store.ErrFaceNotFound) {
						return n, fmt.Errorf("export: thumbnail of %s: %w", f.Token, err)
					}
					rec.Thumbnail = t
					src, err := lib.SourceCrop(ctx, app, g, u, f.Token)
					if err != nil && !errors.Is(err, store.ErrFaceNotFound) {
						return n, fmt.Errorf("export: source crop of %s: %w", f.Token, err)
					}
					if src != nil {
						rec.SourceCrop, rec.SourceLandmarks = src.JPEG, src.Landmarks
					}
				}
				if err := enc.Encode(rec); err != nil {
					return n, fmt.Errorf("export: %w", err)
				}
				n.faces++
			}
		}
	}
	if err := bw.Flush(); err != nil {
		return n, fmt.Errorf("export: %w", err)
	}
	return n, nil
}

// allPages collects a paged listing.
func allPages(list func(start, length int) ([]string, error)) ([]string, error) {
	var all []string
	for start := 0; ; start += store.MaxPageLength {
		page, err := list(start, store.MaxPageLength)
		if err != nil {
			return nil, err
		}
		all = append(all, page...)
		if len(page) < store.MaxPageLength {
			return all, nil
		}
	}
}

// appRestorer is the library's side of moving an application: both
// backends create it with its id and credentials unless present.
type appRestorer interface {
	RestoreApp(ctx context.Context, a store.App) (bool, error)
}

// importLibrary adds the records of r to app's library (app "": the
// exported application's). An app record (export --credentials) creates
// the application when absent. Users are created with their first face; a
// user without faces cannot exist in the library and is only counted.
func importLibrary(ctx context.Context, lib store.Library, app string, r io.Reader) (libraryCounts, error) {
	var n libraryCounts
	dec := json.NewDecoder(bufio.NewReader(r))
	infos := map[[2]string]string{}
	line := 0
	for {
		var rec exportRecord
		err := dec.Decode(&rec)
		if errors.Is(err, io.EOF) {
			break
		}
		line++
		if err != nil {
			return n, fmt.Errorf("import: record %d: %w", line, err)
		}
		if line == 1 {
			if rec.Type != "header" || rec.Version != exportVersion {
				return n, fmt.Errorf("import: not a facekit export of version %d (first record %q version %d)", exportVersion, rec.Type, rec.Version)
			}
			if app == "" {
				app = rec.App
			}
			if !store.ValidID(app) {
				return n, fmt.Errorf("import: no application to import into (give --app)")
			}
			continue
		}
		switch rec.Type {
		case "app":
			ar, ok := lib.(appRestorer)
			if !ok {
				return n, fmt.Errorf("import: record %d: this library cannot restore applications", line)
			}
			a := store.App{ID: app, Name: rec.Name, APIKey: rec.APIKey, SecretHash: rec.SecretHash,
				Created: time.Unix(0, rec.AppCreated), QPS: rec.QPS, Quota: rec.Quota, CallsUsed: rec.CallsUsed}
			if _, err := ar.RestoreApp(ctx, a); err != nil {
				return n, fmt.Errorf("import: record %d: %w", line, err)
			}
		case "group":
			if err := lib.CreateGroup(ctx, app, rec.Group); err != nil && !errors.Is(err, store.ErrGroupExists) {
				return n, fmt.Errorf("import: record %d: group %q: %w", line, rec.Group, err)
			}
			n.groups++
		case "user":
			infos[[2]string{rec.Group, rec.User}] = rec.Info
			n.users++
		case "face":
			user := store.User{GroupID: rec.Group, UserID: rec.User, Info: infos[[2]string{rec.Group, rec.User}]}
			face := store.Face{Token: rec.Token, Embedding: store.Embedding{Model: rec.Model, Vector: rec.Vector}, Thumbnail: rec.Thumbnail}
			if len(rec.SourceCrop) > 0 {
				face.Source = &store.SourceCrop{JPEG: rec.SourceCrop, Landmarks: rec.SourceLandmarks}
			}
			_, err := lib.AddFace(ctx, app, user, face, store.ActionAppend)
			switch {
			case err == nil:
				n.faces++
			case errors.Is(err, store.ErrFaceExists):
				n.existing++
			default:
				return n, fmt.Errorf("import: record %d: face %s of %s/%s: %w", line, rec.Token, rec.Group, rec.User, err)
			}
		default:
			return n, fmt.Errorf("import: record %d: unknown type %q", line, rec.Type)
		}
	}
	if line == 0 {
		return n, errors.New("import: empty input")
	}
	return n, nil
}
