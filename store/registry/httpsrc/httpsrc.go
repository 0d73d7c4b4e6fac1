// Package httpsrc is a registry.Source that asks an HTTP upstream (an
// authority gateway) for the registered photo, with a per-attempt timeout and
// retries with exponential backoff on timeouts, network errors, 429 and 5xx.
//
// The upstream is called with GET on a URL template in which {id} becomes the
// 18-character ID number and {name} the UTF-8 name, escaped for where it
// stands (query or path). Its answer is read as follows:
//
//	200 with an image body           the photo
//	200 with an empty body, 204, 410 the record has no photo
//	200 with a JSON body             {"result": "ok"|"not_found"|"name_mismatch"|"photo_missing",
//	                                  "name": "...", "image": "<base64>", "content_type": "image/jpeg"}
//	                                 (every field optional; a "name" that differs from
//	                                 the caller's is a name mismatch)
//	404                              number not found
//	409, 422                         name does not match the number
//	429, 5xx, timeout, network error retried; then unavailable
//	other statuses                   unavailable (misconfigured gateway), not retried
package httpsrc

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/facekit/facekit/store/registry"
)

// Defaults for a zero Config field.
const (
	DefaultTimeout = 5 * time.Second
	DefaultRetries = 2
	DefaultBackoff = 200 * time.Millisecond
)

// maxBody bounds what is read from the upstream: a maximal photo in base64
// inside a small JSON envelope.
const maxBody = registry.MaxPhotoBytes*4/3 + 64<<10

// Config configures an HTTP source.
type Config struct {
	// URL is the request template, e.g. "https://gw/photo?id={id}&name={name}".
	// It must be http or https and contain {id}.
	URL string
	// Header is sent with every request (e.g. an Authorization header).
	Header http.Header
	// Timeout bounds each attempt; 0 means DefaultTimeout.
	Timeout time.Duration
	// Retries is the number of extra attempts after a retryable failure;
	// 0 means DefaultRetries, a negative value means none.
	Retries int
	// Backoff is the wait before the first retry, doubled for each further
	// one; 0 means DefaultBackoff.
	Backoff time.Duration
	// Client sends the requests; nil means a client of its own.
	Client *http.Client
}

// Source is an HTTP registry source. It is safe for concurrent use.
type Source struct {
	cfg Config
}

// New checks cfg and fills in defaults.
func New(cfg Config) (*Source, error) {
	u, err := url.Parse(strings.NewReplacer("{id}", "x", "{name}", "x").Replace(cfg.URL))
	if err != nil {
		return nil, fmt.Errorf("httpsrc: URL template: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("httpsrc: URL template %q must be an absolute http(s) URL", cfg.URL)
	}
	if !strings.Contains(cfg.URL, "{id}") {
		return nil, fmt.Errorf("httpsrc: URL template %q lacks {id}", cfg.URL)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	switch {
	case cfg.Retries == 0:
		cfg.Retries = DefaultRetries
	case cfg.Retries < 0:
		cfg.Retries = 0
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = DefaultBackoff
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{}
	}
	return &Source{cfg: cfg}, nil
}

// Lookup asks the upstream for the photo of idNumber under name.
// Returns registry.ErrInvalidIDNumber or ErrInvalidName (without a request),
// ErrNotFound, ErrNameMismatch, ErrPhotoMissing, ErrPhotoUnusable (a body
// that is not an image, or too large) or ErrUnavailable (after the retries;
// a timeout also wraps context.DeadlineExceeded).
func (s *Source) Lookup(ctx context.Context, idNumber, name string) (registry.Photo, error) {
	id, nm, err := registry.Validate(idNumber, name)
	if err != nil {
		return registry.Photo{}, err
	}
	target := s.url(id, nm)
	backoff := s.cfg.Backoff
	for attempt := 0; ; attempt++ {
		p, retry, err := s.attempt(ctx, target, id, nm)
		if !retry || attempt >= s.cfg.Retries || ctx.Err() != nil {
			if err != nil {
				return registry.Photo{}, fmt.Errorf("httpsrc: %s (attempt %d): %w", id, attempt+1, err)
			}
			return p, nil
		}
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return registry.Photo{}, fmt.Errorf("httpsrc: %s: %w: %w (after %d attempts: %v)", id, registry.ErrUnavailable, ctx.Err(), attempt+1, err)
		case <-t.C:
		}
		backoff *= 2
	}
}

// url fills the template. A placeholder after the '?' is query-escaped,
// one before it path-escaped.
func (s *Source) url(id, name string) string {
	tmpl := s.cfg.URL
	q := strings.IndexByte(tmpl, '?')
	var b strings.Builder
	for i := 0; i < len(tmpl); {
		switch {
		case strings.HasPrefix(tmpl[i:], "{id}"):
			b.WriteString(id)
			i += len("{id}")
		case strings.HasPrefix(tmpl[i:], "{name}"):
			if q >= 0 && i > q {
				b.WriteString(url.QueryEscape(name))
			} else {
				b.WriteString(url.PathEscape(name))
			}
			i += len("{name}")
		default:
			b.WriteByte(tmpl[i])
			i++
		}
	}
	return b.String()
}

// attempt makes one request. retry reports whether a failure is transient.
func (s *Source) attempt(ctx context.Context, target, id, name string) (p registry.Photo, retry bool, err error) {
	actx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodGet, target, nil)
	if err != nil {
		return p, false, fmt.Errorf("%w: %w", registry.ErrUnavailable, err)
	}
	for k, vs := range s.cfg.Header {
		req.Header[k] = vs
	}
	req.Header.Set("Accept", "image/jpeg, image/png, application/json")
	resp, err := s.cfg.Client.Do(req)
	if err != nil {
		return p, true, transportError(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return p, true, transportError(err)
	}

	switch {
	case resp.StatusCode == http.StatusOK:
		return s.decode(resp.Header.Get("Content-Type"), body, id, name)
	case resp.StatusCode == http.StatusNoContent, resp.StatusCode == http.StatusGone:
		return p, false, registry.ErrPhotoMissing
	case resp.StatusCode == http.StatusNotFound:
		return p, false, registry.ErrNotFound
	case resp.StatusCode == http.StatusConflict, resp.StatusCode == http.StatusUnprocessableEntity:
		return p, false, registry.ErrNameMismatch
	case resp.StatusCode == http.StatusTooManyRequests, resp.StatusCode >= 500:
		return p, true, fmt.Errorf("%w: upstream answered %s", registry.ErrUnavailable, resp.Status)
	default:
		return p, false, fmt.Errorf("%w: upstream answered %s", registry.ErrUnavailable, resp.Status)
	}
}

// transportError classifies a failed exchange; a timeout keeps
// context.DeadlineExceeded in the chain so callers can say "timeout".
func transportError(err error) error {
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout() {
		return fmt.Errorf("%w: %w: %v", registry.ErrUnavailable, context.DeadlineExceeded, err)
	}
	return fmt.Errorf("%w: %w", registry.ErrUnavailable, err)
}

// answer is the JSON form of an upstream reply.
type answer struct {
	Result      string `json:"result"`
	Name        string `json:"name"`
	Image       string `json:"image"`
	ContentType string `json:"content_type"`
}

func (s *Source) decode(contentType string, body []byte, id, name string) (registry.Photo, bool, error) {
	var p registry.Photo
	if len(body) > maxBody {
		return p, false, fmt.Errorf("%w: upstream body larger than %d bytes", registry.ErrPhotoUnusable, maxBody)
	}
	mt, _, _ := mime.ParseMediaType(contentType)
	var img []byte
	if mt == "application/json" || strings.HasSuffix(mt, "+json") {
		var a answer
		if err := json.Unmarshal(body, &a); err != nil {
			return p, false, fmt.Errorf("%w: upstream JSON: %v", registry.ErrUnavailable, err)
		}
		switch strings.ToLower(a.Result) {
		case "", "ok", "found":
		case "not_found":
			return p, false, registry.ErrNotFound
		case "name_mismatch":
			return p, false, registry.ErrNameMismatch
		case "photo_missing":
			return p, false, registry.ErrPhotoMissing
		default:
			return p, false, fmt.Errorf("%w: upstream result %q", registry.ErrUnavailable, a.Result)
		}
		if a.Name != "" {
			if err := registry.Check(a.Name, name); err != nil {
				return p, false, err
			}
		}
		var err error
		img, err = base64.StdEncoding.DecodeString(stripDataURL(a.Image))
		if err != nil {
			return p, false, fmt.Errorf("%w: upstream image is not base64: %v", registry.ErrPhotoUnusable, err)
		}
	} else {
		img = body
	}
	if len(img) == 0 {
		return p, false, registry.ErrPhotoMissing
	}
	if len(img) > registry.MaxPhotoBytes {
		return p, false, fmt.Errorf("%w: photo larger than %d bytes", registry.ErrPhotoUnusable, registry.MaxPhotoBytes)
	}
	ct := http.DetectContentType(img)
	switch {
	case strings.HasPrefix(ct, "image/"):
	case strings.HasPrefix(ct, "text/"):
		// An HTML or text page with status 200 is a proxy or login page,
		// not a damaged photo.
		return p, false, fmt.Errorf("%w: upstream answered %s instead of a photo", registry.ErrUnavailable, ct)
	default:
		return p, false, fmt.Errorf("%w: content is %s", registry.ErrPhotoUnusable, ct)
	}
	return registry.Photo{IDNumber: id, Name: name, Image: img, ContentType: ct}, false, nil
}

// stripDataURL drops a "data:image/jpeg;base64," prefix some gateways add.
func stripDataURL(s string) string {
	if strings.HasPrefix(s, "data:") {
		if i := strings.IndexByte(s, ','); i >= 0 {
			return s[i+1:]
		}
	}
	return strings.TrimSpace(s)
}
