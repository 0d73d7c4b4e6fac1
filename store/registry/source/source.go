// Package source opens the registry-photo source a configuration names, so
// that the command line and config files choose among registry/dir,
// registry/sqlitesrc and registry/httpsrc in one place.
package source

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/facekit/facekit/store/registry"
	"github.com/facekit/facekit/store/registry/dir"
	"github.com/facekit/facekit/store/registry/httpsrc"
	"github.com/facekit/facekit/store/registry/sqlitesrc"
)

// Kinds of source.
const (
	KindNone   = ""       // no registry: identity endpoints answer "not available"
	KindDir    = "dir"    // Path is a directory in the registry/dir layout
	KindSQLite = "sqlite" // Path is a SQLite file (its own, or the library's)
	KindHTTP   = "http"   // URL is an upstream template with {id} and {name}
)

// Config names a source.
type Config struct {
	Kind string
	// Path is the directory (KindDir) or the SQLite file (KindSQLite).
	Path string
	// URL, Header, Timeout, Retries and Backoff configure KindHTTP (see
	// httpsrc.Config).
	URL     string
	Header  http.Header
	Timeout time.Duration
	Retries int
	Backoff time.Duration
}

// ErrUnknownKind is returned for a Kind this package does not know.
var ErrUnknownKind = errors.New("source: unknown registry kind")

// Parse reads the one-string form used on command lines:
//
//	""                                  no registry
//	dir:/srv/registry                   a photo directory
//	sqlite:/var/lib/facekit/facekit.db  a registry_photos table
//	https://gw/photo?id={id}&name={name} an HTTP upstream (http:// too)
func Parse(spec string) (Config, error) {
	spec = strings.TrimSpace(spec)
	switch {
	case spec == "":
		return Config{}, nil
	case strings.HasPrefix(spec, "dir:"):
		return Config{Kind: KindDir, Path: strings.TrimPrefix(spec, "dir:")}, nil
	case strings.HasPrefix(spec, "sqlite:"):
		return Config{Kind: KindSQLite, Path: strings.TrimPrefix(spec, "sqlite:")}, nil
	case strings.HasPrefix(spec, "http://"), strings.HasPrefix(spec, "https://"):
		return Config{Kind: KindHTTP, URL: spec}, nil
	}
	return Config{}, fmt.Errorf("%w: %q (want dir:PATH, sqlite:PATH or an http(s) URL template)", ErrUnknownKind, spec)
}

// Open opens the source cfg names and returns it with a function that
// releases it. KindNone returns a nil Source and a no-op close.
func Open(cfg Config) (registry.Source, func() error, error) {
	noop := func() error { return nil }
	switch cfg.Kind {
	case KindNone:
		return nil, noop, nil
	case KindDir:
		s, err := dir.Open(cfg.Path)
		if err != nil {
			return nil, nil, fmt.Errorf("source: %w", err)
		}
		return s, noop, nil
	case KindSQLite:
		s, err := sqlitesrc.Open(cfg.Path)
		if err != nil {
			return nil, nil, fmt.Errorf("source: %w", err)
		}
		return s, s.Close, nil
	case KindHTTP:
		s, err := httpsrc.New(httpsrc.Config{URL: cfg.URL, Header: cfg.Header, Timeout: cfg.Timeout, Retries: cfg.Retries, Backoff: cfg.Backoff})
		if err != nil {
			return nil, nil, fmt.Errorf("source: %w", err)
		}
		return s, noop, nil
	}
	return nil, nil, fmt.Errorf("%w: %q", ErrUnknownKind, cfg.Kind)
}
