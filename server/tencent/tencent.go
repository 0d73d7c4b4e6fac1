// Package tencent serves Tencent's legacy identity comparison call, POST
// /face/idcardcompare, on facekit's core: a photo (JSON with a url, or
// multipart with an image) is compared with the registered photo of an ID
// number and name. Requests carry the legacy image-API signature in the
// Authorization header; answers are {"data": {"similarity", "session_id"},
// "code", "message"} with Tencent's codes.
package tencent

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/facekit/facekit/engine/imageio"
	"github.com/facekit/facekit/server"
	"github.com/facekit/facekit/service"
	"github.com/facekit/facekit/store"
	"github.com/facekit/facekit/store/registry"
)

// Path is the endpoint; paths under Prefix belong to this dialect.
const (
	Path   = "/face/idcardcompare"
	Prefix = "/face/"
)

// MaxBodyBytes is the documented request size limit (6 MB).
const MaxBodyBytes = 6 << 20

// Credential is one Tencent-style key pair. SecretID is the API key of a
// facekit application (its QPS limit and quota apply) and SecretKey that
// application's secret key. The secret must be configured in plain text
// because an HMAC can only be checked with the key itself; the application
// store keeps only its hash, and the two are checked against each other on
// every request.
type Credential struct {
	AppID     string // Tencent appid, the "a" of the signature and the body's appid
	SecretID  string
	SecretKey string
}

// Config configures the dialect.
type Config struct {
	// Credentials are the accepted key pairs.
	Credentials []Credential
	// Window is how far a signature's time t may lie from the server's
	// clock; default 5 minutes. Signatures are single-use, and a used one is
	// remembered for this long.
	Window time.Duration
	// Now is the clock; time.Now if nil.
	Now func() time.Time
}

// Dialect is the Tencent API. Create it with New.
type Dialect struct {
	cfg    Config
	core   *service.Service
	verify *verifier
}

// New returns the Tencent dialect for server.New.
func New(cfg Config) *Dialect {
	if cfg.Window <= 0 {
		cfg.Window = 5 * time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Dialect{cfg: cfg, verify: newVerifier(cfg.Credentials, cfg.Window, cfg.Now)}
}

// Name implements server.Dialect.
func (d *Dialect) Name() string { return "tencent" }

// Owns implements server.Dialect.
func (d *Dialect) Owns(path string) bool { return strings.HasPrefix(path, Prefix) }

// NotFound implements server.Dialect.
func (d *Dialect) NotFound(c *gin.Context) {
	server.SetDialect(c, d.Name())
	d.fail(c, errPathNotFound, "")
}

// Register implements server.Dialect.
func (d *Dialect) Register(r *gin.Engine, core *service.Service) {
	d.core = core
	label := func(c *gin.Context) { server.SetDialect(c, d.Name()); c.Next() }
	recovery := server.Recovery(core.Logger(), func(c *gin.Context, err error) { d.fail(c, err, "") })
	r.POST(Path, label, recovery, d.compare)
}

// response is every answer's body.
type response struct {
	Data    data   `json:"data"`
	Code    int    `json:"code"`
	Message string `json:"message"`
}

type data struct {
	Similarity *float64 `json:"similarity,omitempty"`
	SessionID  string   `json:"session_id"`
}

// request is the parsed body, from JSON or multipart.
type request struct {
	AppID        string `json:"appid"`
	IDCardNumber string `json:"idcard_number"`
	IDCardName   string `json:"idcard_name"`
	URL          string `json:"url"`
	SessionID    string `json:"session_id"`
	image        []byte
}

func (d *Dialect) compare(c *gin.Context) {
	ctx := c.Request.Context()
	cred, sig, err := d.verify.verify(c.GetHeader("Authorization"))
	if err != nil {
		d.fail(c, err, "")
		return
	}
	req, err := parseRequest(c)
	if err != nil {
		d.fail(c, err, "")
		return
	}
	sid := req.SessionID
	if req.AppID == "" {
		d.fail(c, fmt.Errorf("%w: appid is required", errInvalidParam), sid)
		return
	}
	if req.AppID != sig.appID {
		d.fail(c, errTargetMismatch, sid)
		return
	}
	app, err := d.application(ctx, cred)
	if err != nil {
		d.fail(c, err, sid)
		return
	}
	server.SetApp(c, app)
	if err := d.core.Admit(ctx, app); err != nil {
		d.fail(c, err, sid)
		return
	}

	if strings.TrimSpace(req.IDCardNumber) == "" || strings.TrimSpace(req.IDCardName) == "" {
		d.fail(c, errMissingIdentity, sid)
		return
	}
	idNumber, name, err := registry.Validate(req.IDCardNumber, req.IDCardName)
	if err != nil {
		d.fail(c, err, sid)
		return
	}
	raw, err := d.loadImage(ctx, req)
	if err != nil {
		d.fail(c, err, sid)
		return
	}
	if d.core.Registry() == nil {
		d.fail(c, fmt.Errorf("%w: no registry source configured", service.ErrNotAvailable), sid)
		return
	}
	reg, err := d.core.RegistryFace(ctx, app.ID, idNumber, name)
	if err != nil {
		d.fail(c, err, sid)
		return
	}
	face, err := d.core.DetectOne(ctx, app.ID, service.ImageSource{Kind: service.ImageBytes, Bytes: raw})
	if err != nil {
		d.fail(c, fmt.Errorf("%w: %w", errSelfie, err), sid)
		return
	}
	sim := CompareSimilarity(d.core.FAR(service.Distance(face, reg)))
	c.JSON(http.StatusOK, response{Data: data{Similarity: &sim, SessionID: sid}, Code: 0, Message: "OK"})
}

// application resolves the credential to its facekit application and
// checks that the configured secret is that application's secret.
func (d *Dialect) application(ctx context.Context, cred Credential) (store.App, error) {
	app, err := d.core.Apps().AppByKey(ctx, cred.SecretID)
	if errors.Is(err, store.ErrAppNotFound) {
		return store.App{}, fmt.Errorf("%w: no application with this SecretId", errSecretIDUnknown)
	}
	if err != nil {
		return store.App{}, fmt.Errorf("tencent: looking up application: %w", err)
	}
	if !d.core.Apps().VerifySecret(app, cred.SecretKey) {
		// A configuration error, not the caller's: the configured secret is
		// not the application's. Logged and answered as an internal error.
		return store.App{}, fmt.Errorf("tencent: configured SecretKey for %s is not the application's secret", cred.SecretID)
	}
	return app, nil
}

// parseRequest reads a JSON or multipart body of at most MaxBodyBytes.
func parseRequest(c *gin.Context) (*request, error) {
	hr := c.Request
	hr.Body = http.MaxBytesReader(c.Writer, hr.Body, MaxBodyBytes)
	ct, _, _ := mime.ParseMediaType(hr.Header.Get("Content-Type"))
	req := &request{}
	switch ct {
	case "application/json":
		body, err := server.ReadBody(c)
		if err != nil {
			return nil, bodyError(err)
		}
		if err := json.Unmarshal(body, req); err != nil {
			return nil, fmt.Errorf("%w: JSON body: %v", errBadRequest, err)
		}
	case "multipart/form-data":
		if err := hr.ParseMultipartForm(8 << 20); err != nil {
			return nil, bodyError(err)
		}
		defer hr.MultipartForm.RemoveAll()
		f := hr.MultipartForm.Value
		get := func(k string) string {
			if v := f[k]; len(v) > 0 {
				return v[0]
			}
			return ""
		}
		req.AppID, req.IDCardNumber, req.IDCardName = get("appid"), get("idcard_number"), get("idcard_name")
		req.URL, req.SessionID = get("url"), get("session_id")
		if fhs := hr.MultipartForm.File["image"]; len(fhs) > 0 {
			file, err := fhs[0].Open()
			if err != nil {
				return nil, fmt.Errorf("tencent: opening image part: %w", err)
			}
			req.image, err = io.ReadAll(file)
			file.Close()
			if err != nil {
				return nil, fmt.Errorf("tencent: reading image part: %w", err)
			}
		} else if v := get("image"); v != "" {
			req.image = []byte(v)
		}
	default:
		return nil, fmt.Errorf("%w: Content-Type %q, want application/json or multipart/form-data", errBadRequest, ct)
	}
	return req, nil
}

func bodyError(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) || errors.Is(err, server.ErrBodyTooLarge) {
		return fmt.Errorf("%w: over %d bytes", errBodyTooLarge, MaxBodyBytes)
	}
	return fmt.Errorf("%w: %v", errBadRequest, err)
}

// loadImage returns the encoded photo: downloaded from url when given
// (url wins over image, as documented), else the image part, which may be
// the file itself or its base64 (the doc describes both).
func (d *Dialect) loadImage(ctx context.Context, req *request) ([]byte, error) {
	var raw []byte
	switch {
	case strings.TrimSpace(req.URL) != "":
		img, err := d.core.LoadImage(ctx, service.ImageSource{Kind: service.ImageURL, Value: req.URL})
		if err != nil {
			return nil, fmt.Errorf("%w: %w", errSelfie, err)
		}
		raw = img.Raw
	case len(req.image) > 0:
		raw = req.image
		if imageio.Sniff(raw) == "" {
			if b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(raw))); err == nil && imageio.Sniff(b) != "" {
				raw = b
			}
		}
	default:
		return nil, errNoImage
	}
	// Animated GIFs are refused by the service; any GIF is, since one frame
	// cannot be told from a still without decoding them all.
	if imageio.Sniff(raw) == imageio.FormatGIF {
		return nil, fmt.Errorf("%w: %w: GIF is not supported", errSelfie, imageio.ErrImageFormat)
	}
	if _, err := imageio.Decode(raw, d.core.Config().Image); err != nil {
		return nil, fmt.Errorf("%w: %w", errSelfie, err)
	}
	return raw, nil
}
