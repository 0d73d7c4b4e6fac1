// Package linkface serves Linkface's selfie/ID-number verification call,
// POST /identity/selfie_idnumber_verification, on facekit's core: a selfie
// (multipart file, URL, base64 or the image_id of an earlier call) is
// compared with the registered photo of an ID number and name, and the
// answer carries Linkface's status strings, its identity block and its 0–1
// confidence scale.
package linkface

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image/jpeg"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/facekit/facekit/engine/imageio"
	"github.com/facekit/facekit/server"
	"github.com/facekit/facekit/service"
	"github.com/facekit/facekit/store"
	"github.com/facekit/facekit/store/registry"
)

// Path is the endpoint; paths under Prefix belong to this dialect.
const (
	Path   = "/identity/selfie_idnumber_verification"
	Prefix = "/identity/"
)

// imageLimitBytes is the Linkface image size limit, 2 MiB.
const imageLimitBytes = 2 << 20

// Image limits Linkface documents: JPEG, BMP, PNG, GIF or TIFF, sides
// above 8 and at most 4000 pixels, at most 2 MB.
var imageLimits = imageio.Limits{MaxBytes: imageLimitBytes, MinSide: 9, MaxSide: 4000, MaxPixels: 4000 * 4000}

// allowedFormats are the formats Linkface accepts (no WebP).
var allowedFormats = map[string]bool{
	imageio.FormatJPEG: true, imageio.FormatPNG: true, imageio.FormatBMP: true,
	imageio.FormatGIF: true, imageio.FormatTIFF: true,
}

// Config tunes the dialect. The zero value is usable.
type Config struct {
	// DownloadTimeout bounds fetching selfie_url; default 5 s, as documented.
	DownloadTimeout time.Duration
	// KeyLifetime, when positive, expires an application's api_id this long
	// after it was created (403 KEY_EXPIRED).
	KeyLifetime time.Duration
	// Now is the clock; time.Now if nil.
	Now func() time.Time
}

// Dialect is the Linkface API. Create it with New.
type Dialect struct {
	cfg  Config
	core *service.Service
}

// New returns the Linkface dialect for server.New.
func New(cfg Config) *Dialect {
	if cfg.DownloadTimeout <= 0 {
		cfg.DownloadTimeout = 5 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Dialect{cfg: cfg}
}

// Name implements server.Dialect.
func (d *Dialect) Name() string { return "linkface" }

// Owns implements server.Dialect: unknown paths under /identity/ get
// Linkface's 404 NOT_FOUND.
func (d *Dialect) Owns(path string) bool { return strings.HasPrefix(path, Prefix) }

// NotFound implements server.Dialect.
func (d *Dialect) NotFound(c *gin.Context) {
	server.SetDialect(c, d.Name())
	d.fail(c, errPathNotFound, nil)
}

// Register implements server.Dialect.
func (d *Dialect) Register(r *gin.Engine, core *service.Service) {
	d.core = core
	label := func(c *gin.Context) { server.SetDialect(c, d.Name()); c.Next() }
	recovery := server.Recovery(core.Logger(), func(c *gin.Context, err error) { d.fail(c, err, nil) })
	r.POST(Path, label, recovery, d.verify)
}

// identityBlock is the response's "identity" object.
type identityBlock struct {
	Validity bool   `json:"validity"`
	PhotoID  string `json:"photo_id,omitempty"`
	Reason   string `json:"reason"`
}

type selfieBlock struct {
	ImageID string `json:"image_id"`
}

// response is the success body. Confidence is null when no registered
// photo could be compared.
type response struct {
	RequestID  string         `json:"request_id"`
	Status     string         `json:"status"`
	Confidence *float64       `json:"confidence"`
	Selfie     *selfieBlock   `json:"selfie,omitempty"`
	Identity   *identityBlock `json:"identity"`
}

// errorResponse is the body of every failure.
type errorResponse struct {
	Status    string         `json:"status"`
	Image     string         `json:"image,omitempty"`
	Reason    string         `json:"reason,omitempty"`
	RequestID string         `json:"request_id"`
	Identity  *identityBlock `json:"identity,omitempty"`
}

// Reasons of the identity block.
const (
	reasonOK            = "Gongan status OK"
	reasonNoPhoto       = "Gongan photo doesn’t exist"
	reasonMismatch      = "Name and idcard number doesn’t match"
	reasonNotFound      = "Invalid idcard number"
	reasonPoorQuality   = "poor picture quality"
	reasonInvalidID     = "Invalid idcard number"
	reasonInvalidName   = "Invalid name"
	reasonNoSelfie      = "one of selfie_file, selfie_url, selfie_image_id, selfie_image_base64 is required"
	reasonBadAutoRotate = "selfie_auto_rotate must be true or false"
)

func (d *Dialect) requestID(c *gin.Context) string {
	return fmt.Sprintf("TID%016x", server.RequestID(c))
}

// verify is the endpoint: authenticate, parse, load the selfie, look the
// person up, detect, compare.
func (d *Dialect) verify(c *gin.Context) {
	ctx := c.Request.Context()
	// Credentials are checked before any upload is read: from the query
	// and the fields ahead of the first file part when the body is
	// multipart (the doc's examples send them there), else once the small
	// body is parsed.
	if err := d.core.AuthAllowed(c.ClientIP()); err != nil {
		d.fail(c, err, nil)
		return
	}
	// The attempt AuthAllowed reserved is given back unless the
	// credentials were wrong.
	badCredentials := false
	defer func() {
		if !badCredentials {
			d.core.AuthSucceeded(c.ClientIP())
		}
	}()
	var app store.App
	authenticated := false
	login := func(vals url.Values) error {
		a, err := d.authenticate(ctx, vals.Get("api_id"), vals.Get("api_secret"))
		if errors.Is(err, service.ErrBadCredentials) {
			badCredentials = true
		}
		if err != nil {
			return err
		}
		app, authenticated = a, true
		return nil
	}
	beforeFile := func(vals url.Values) error {
		if vals.Get("api_id") == "" && vals.Get("api_secret") == "" {
			return nil // credentials after the file: checked below, the file capped meanwhile
		}
		return login(vals)
	}
	req, err := parseRequest(c, beforeFile)
	if err != nil {
		d.fail(c, err, nil)
		return
	}
	if !authenticated {
		if err := login(req.values); err != nil {
			d.fail(c, err, nil)
			return
		}
	}
	server.SetApp(c, app)
	if err := d.core.Admit(ctx, app); err != nil {
		d.fail(c, err, nil)
		return
	}

	// Input checks, cheapest first; none of them touches the registry.
	if err := req.checkUTF8(); err != nil {
		d.fail(c, err, nil)
		return
	}
	idNumber, name, err := registry.Validate(req.get("id_number"), req.get("name"))
	if err != nil {
		d.fail(c, err, nil)
		return
	}
	autoRotate, err := parseBool(req.get("selfie_auto_rotate"))
	if err != nil {
		d.fail(c, err, nil)
		return
	}
	sel, err := d.loadSelfie(ctx, app, req)
	if err != nil {
		d.fail(c, err, nil)
		return
	}
	if d.core.Registry() == nil {
		d.fail(c, fmt.Errorf("%w: no registry source configured", service.ErrNotAvailable), nil)
		return
	}

	// The registry answers first: its "no such person" outcomes are
	// successful calls with validity false and no confidence.
	reg, err := d.core.RegistryFace(ctx, app.ID, idNumber, name)
	switch {
	case errors.Is(err, registry.ErrNotFound):
		d.ok(c, nil, nil, &identityBlock{Validity: false, Reason: reasonNotFound})
		return
	case errors.Is(err, registry.ErrNameMismatch):
		d.ok(c, nil, nil, &identityBlock{Validity: false, Reason: reasonMismatch})
		return
	case errors.Is(err, registry.ErrPhotoMissing):
		d.ok(c, nil, nil, &identityBlock{Validity: true, Reason: reasonNoPhoto})
		return
	case errors.Is(err, registry.ErrPhotoUnusable):
		// The registered photo has no usable face: Linkface reports this as
		// NO_FACE_DETECTED with the identity block saying why.
		d.fail(c, fmt.Errorf("%w: registered photo: %w", service.ErrNoFace, err),
			&identityBlock{Validity: true, Reason: reasonPoorQuality})
		return
	case err != nil:
		d.fail(c, err, nil)
		return
	}
	ident := &identityBlock{Validity: true, PhotoID: reg.Token, Reason: reasonOK}

	face, err := d.detectSelfie(ctx, app, sel, autoRotate)
	if err != nil {
		d.fail(c, err, ident)
		return
	}
	conf := VerifyConfidence(d.core.FAR(service.Distance(face, reg)))
	var selfie *selfieBlock
	if sel.kind != selfieImageID {
		selfie = &selfieBlock{ImageID: face.Token}
	}
	d.ok(c, &conf, selfie, ident)
}

func (d *Dialect) ok(c *gin.Context, conf *float64, selfie *selfieBlock, ident *identityBlock) {
	c.JSON(http.StatusOK, response{
		RequestID:  d.requestID(c),
		Status:     "OK",
		Confidence: conf,
		Selfie:     selfie,
		Identity:   ident,
	})
}

// authenticate checks api_id/api_secret against the application store:
// api_id is the application's API key, api_secret its secret key.
func (d *Dialect) authenticate(ctx context.Context, apiID, secret string) (store.App, error) {
	if apiID == "" || secret == "" {
		return store.App{}, fmt.Errorf("%w: api_id and api_secret are required", service.ErrBadCredentials)
	}
	app, err := d.core.Apps().AppByKey(ctx, apiID)
	if errors.Is(err, store.ErrAppNotFound) {
		return store.App{}, fmt.Errorf("%w: unknown api_id", service.ErrBadCredentials)
	}
	if err != nil {
		return store.App{}, fmt.Errorf("linkface: looking up api_id: %w", err)
	}
	if !d.core.Apps().VerifySecret(app, secret) {
		return store.App{}, fmt.Errorf("%w: wrong api_secret", service.ErrBadCredentials)
	}
	if d.cfg.KeyLifetime > 0 {
		if exp := app.Created.Add(d.cfg.KeyLifetime); d.cfg.Now().After(exp) {
			return store.App{}, &keyExpiredError{expired: exp}
		}
	}
	return app, nil
}

// selfieKind is which of the four inputs carried the selfie.
type selfieKind int

const (
	selfieImageID selfieKind = iota + 1
	selfieFile
	selfieBase64
	selfieURL
)

// selfie is a loaded selfie: either raw image bytes (already checked
// against the Linkface limits) or a remembered image id.
type selfie struct {
	kind    selfieKind
	raw     []byte
	img     *imageio.Image
	imageID string
}

// loadSelfie takes the selfie from the first input present in the
// documented order: selfie_image_id, selfie_file, selfie_image_base64,
// selfie_url.
func (d *Dialect) loadSelfie(ctx context.Context, app store.App, req *request) (*selfie, error) {
	if id := strings.TrimSpace(req.get("selfie_image_id")); id != "" {
		return &selfie{kind: selfieImageID, imageID: id}, nil
	}
	var (
		raw  []byte
		kind selfieKind
	)
	switch {
	case req.file != nil:
		raw, kind = req.file, selfieFile
	case req.get("selfie_image_base64") != "":
		// imageio's decoder, the one every image intake uses: Linkface
		// documents the standard alphabet without a data: header, and
		// also taking what the other vendors' clients send costs nothing.
		b, err := imageio.DecodeBase64Bytes(req.get("selfie_image_base64"), imageLimits.MaxBytes)
		if err != nil {
			return nil, err
		}
		raw, kind = b, selfieBase64
	case req.get("selfie_url") != "":
		dctx, cancel := context.WithTimeout(ctx, d.cfg.DownloadTimeout)
		defer cancel()
		img, err := d.core.LoadImage(dctx, service.ImageSource{Kind: service.ImageURL, Value: req.get("selfie_url")})
		if err != nil {
			if errors.Is(dctx.Err(), context.DeadlineExceeded) && ctx.Err() == nil {
				return nil, fmt.Errorf("%w: %w", errDownloadTimeout, err)
			}
			return nil, err
		}
		raw, kind = img.Raw, selfieURL
	default:
		return nil, argError(reasonNoSelfie)
	}
	if f := imageio.Sniff(raw); f != "" && !allowedFormats[f] {
		return nil, fmt.Errorf("%w: %s is not accepted", imageio.ErrImageFormat, f)
	}
	img, err := imageio.Decode(raw, imageLimits)
	if err != nil {
		return nil, err
	}
	return &selfie{kind: kind, raw: raw, img: img}, nil
}

// detectSelfie finds the selfie's face (the largest one). With autoRotate
// an image without a face is tried turned by 90, 180 and 270 degrees, and
// the turn whose face the detector is surest of wins: HOG occasionally
// finds a weak "face" in an upside-down photo, so the first hit is not
// necessarily the right one.
func (d *Dialect) detectSelfie(ctx context.Context, app store.App, sel *selfie, autoRotate bool) (service.Face, error) {
	if sel.kind == selfieImageID {
		return d.core.RecallFace(ctx, app.ID, sel.imageID)
	}
	face, err := d.core.DetectOne(ctx, app.ID, service.ImageSource{Kind: service.ImageBytes, Bytes: sel.raw})
	if !errors.Is(err, service.ErrNoFace) || !autoRotate {
		return face, err
	}
	var best *service.Face
	for _, deg := range []int{90, 180, 270} {
		// The core detects from encoded bytes (they name the face token),
		// so the turned image is encoded again.
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, imageio.Rotate(sel.img, deg), &jpeg.Options{Quality: 95}); err != nil {
			return service.Face{}, fmt.Errorf("linkface: encoding rotated selfie: %w", err)
		}
		f, err := d.core.DetectOne(ctx, app.ID, service.ImageSource{Kind: service.ImageBytes, Bytes: buf.Bytes()})
		switch {
		case errors.Is(err, service.ErrNoFace):
			continue
		case err != nil:
			return service.Face{}, err
		}
		if best == nil || f.Confidence > best.Confidence {
			best = &f
		}
	}
	if best == nil {
		return service.Face{}, service.ErrNoFace
	}
	return *best, nil
}

// parseBool reads selfie_auto_rotate; absent means false.
func parseBool(s string) (bool, error) {
	if s == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(strings.TrimSpace(s))
	if err != nil {
		return false, argError(reasonBadAutoRotate)
	}
	return b, nil
}

// checkUTF8 rejects any parameter that is not valid UTF-8.
func (r *request) checkUTF8() error {
	for k, vs := range r.values {
		for _, v := range vs {
			if !utf8.ValidString(v) {
				return fmt.Errorf("%w: parameter %s", errEncoding, k)
			}
		}
	}
	return nil
}
