// Package console serves facekit's web console at /console: a single page
// (embedded HTML, CSS and JavaScript; nothing loaded from the network) where
// an operator signs in with an application's API key and secret key, tries
// detection and comparison on uploaded photos, browses and edits the face
// library, and searches a group by photo.
//
// The page talks to a small JSON API under /console/api/ that is private to
// the console (not part of any vendor's wire format and not in the OpenAPI
// document). It authenticates with the same access tokens as the Baidu
// dialect (Authorization: Bearer TOKEN, issued by /oauth/2.0/token); calls
// that analyse an image count against the application's rate limit and
// quota.
package console

import (
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/facekit/facekit/engine"
	"github.com/facekit/facekit/engine/imageio"
	"github.com/facekit/facekit/server"
	"github.com/facekit/facekit/service"
	"github.com/facekit/facekit/store"
)

//go:embed assets
var assets embed.FS

// Paths the console serves.
const (
	Path       = "/console"
	PathAssets = "/console/assets"
	PathAPI    = "/console/api"
)

// Config tunes the console. The zero value stores thumbnails.
type Config struct {
	// NoThumbnails stops the console from storing a face crop with each
	// face it enrolls (privacy); thumbnails stored earlier still show.
	NoThumbnails bool
}

// Dialect is the console. Create it with New.
type Dialect struct {
	cfg  Config
	core *service.Service
}

// New returns the console for server.New.
func New(cfg Config) *Dialect { return &Dialect{cfg: cfg} }

// Name implements server.Dialect.
func (d *Dialect) Name() string { return "console" }

// Owns implements server.Dialect: unknown paths under /console/ get a JSON
// 404 from the console.
func (d *Dialect) Owns(path string) bool {
	return path == Path || strings.HasPrefix(path, Path+"/")
}

// NotFound implements server.Dialect.
func (d *Dialect) NotFound(c *gin.Context) {
	server.SetDialect(c, d.Name())
	c.JSON(http.StatusNotFound, apiError{Error: "not found", Code: "not_found"})
}

// Register implements server.Dialect.
func (d *Dialect) Register(r *gin.Engine, core *service.Service) {
	d.core = core
	label := func(c *gin.Context) { server.SetDialect(c, d.Name()); c.Next() }
	recovery := server.Recovery(core.Logger(), func(c *gin.Context, err error) { d.fail(c, err) })

	static, err := fs.Sub(assets, "assets")
	if err != nil {
		panic("console: embedded assets: " + err.Error()) // the embed pattern above guarantees the directory
	}
	index, err := fs.ReadFile(static, "index.html")
	if err != nil {
		panic("console: embedded index.html: " + err.Error())
	}
	page := func(c *gin.Context) {
		// The page holds no secrets, but a framing site could trick an
		// operator into clicks: forbid framing, and pin scripts to ours.
		c.Header("X-Frame-Options", "DENY")
		c.Header("Content-Security-Policy", "default-src 'self'; img-src 'self' blob: data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'")
		c.Header("Cache-Control", "no-cache")
		c.Data(http.StatusOK, "text/html; charset=utf-8", index)
	}
	r.GET(Path, label, page)
	r.GET(Path+"/", label, page)
	files := http.StripPrefix(PathAssets, http.FileServer(http.FS(static)))
	r.GET(PathAssets+"/*file", label, func(c *gin.Context) {
		c.Header("X-Content-Type-Options", "nosniff")
		files.ServeHTTP(c.Writer, c.Request)
	})

	// Calls that analyse an image count against the application's rate
	// limit and quota like any API call; browsing the library does not, so
	// that a page of thumbnails cannot exhaust either.
	api := r.Group(PathAPI, label, recovery, d.auth)
	api.GET("/whoami", d.whoami)
	api.POST("/detect", d.admit, d.detect)
	api.POST("/compare", d.admit, d.compare)
	api.GET("/groups", d.listGroups)
	api.POST("/groups", d.createGroup)
	api.DELETE("/groups/:group", d.deleteGroup)
	api.GET("/groups/:group/users", d.listUsers)
	api.POST("/groups/:group/users", d.admit, d.addUser)
	api.POST("/groups/:group/search", d.admit, d.search)
	api.DELETE("/groups/:group/users/:user", d.deleteUser)
	api.GET("/groups/:group/users/:user/faces", d.listFaces)
	api.POST("/groups/:group/users/:user/faces", d.admit, d.addFace)
	api.DELETE("/groups/:group/users/:user/faces/:token", d.deleteFace)
	api.GET("/groups/:group/users/:user/faces/:token/thumbnail", d.thumbnail)
}

// auth resolves the bearer token to an application.
func (d *Dialect) auth(c *gin.Context) {
	token, ok := strings.CutPrefix(c.GetHeader("Authorization"), "Bearer ")
	if !ok || token == "" {
		d.fail(c, errUnauthenticated)
		c.Abort()
		return
	}
	ctx := c.Request.Context()
	app, err := d.core.Authenticate(ctx, strings.TrimSpace(token))
	if err != nil {
		d.fail(c, err)
		c.Abort()
		return
	}
	server.SetApp(c, app)
	c.Next()
}

// admit applies the application's rate limit and quota.
func (d *Dialect) admit(c *gin.Context) {
	if err := d.core.Admit(c.Request.Context(), appOf(c)); err != nil {
		d.fail(c, err)
		c.Abort()
		return
	}
	c.Next()
}

func appOf(c *gin.Context) store.App {
	app, _ := server.AppFrom(c) // set by auth, which runs before every API handler
	return app
}

// ---- errors: the console's one table ----

// apiError is every error answer of the console API.
type apiError struct {
	Error string `json:"error"`
	Code  string `json:"code"`
}

var (
	errUnauthenticated = errors.New("console: sign in first (no bearer token)")
	errNoImage         = errors.New("console: no image uploaded (multipart field \"image\")")
	errBadRequest      = errors.New("console: bad request")
)

var errorTable = []struct {
	err    error
	status int
	code   string
}{
	{errUnauthenticated, http.StatusUnauthorized, "unauthenticated"},
	{store.ErrTokenNotFound, http.StatusUnauthorized, "unauthenticated"},
	{store.ErrTokenExpired, http.StatusUnauthorized, "token_expired"},
	{service.ErrRateLimited, http.StatusTooManyRequests, "rate_limited"},
	{store.ErrQuotaExceeded, http.StatusTooManyRequests, "quota_exceeded"},
	{service.ErrBusy, http.StatusServiceUnavailable, "busy"},
	{errNoImage, http.StatusBadRequest, "no_image"},
	{errBadRequest, http.StatusBadRequest, "bad_request"},
	{service.ErrNoFace, http.StatusUnprocessableEntity, "no_face"},
	{imageio.ErrEmpty, http.StatusBadRequest, "bad_image"},
	{imageio.ErrImageTooLarge, http.StatusRequestEntityTooLarge, "image_too_large"},
	{server.ErrBodyTooLarge, http.StatusRequestEntityTooLarge, "image_too_large"},
	{imageio.ErrImageFormat, http.StatusBadRequest, "bad_image"},
	{imageio.ErrImageCorrupt, http.StatusBadRequest, "bad_image"},
	{imageio.ErrImageDimensions, http.StatusBadRequest, "bad_image"},
	{store.ErrInvalidID, http.StatusBadRequest, "invalid_id"},
	{store.ErrUserInfoLength, http.StatusBadRequest, "invalid_user_info"},
	{store.ErrGroupNotFound, http.StatusNotFound, "group_not_found"},
	{store.ErrUserNotFound, http.StatusNotFound, "user_not_found"},
	{store.ErrFaceNotFound, http.StatusNotFound, "face_not_found"},
	{store.ErrGroupExists, http.StatusConflict, "group_exists"},
	{store.ErrFaceExists, http.StatusConflict, "face_exists"},
	{store.ErrTooManyFaces, http.StatusConflict, "too_many_faces"},
	{store.ErrModelMismatch, http.StatusConflict, "model_mismatch"},
}

// fail answers err through the table; anything else is logged and
// answered as an internal error without detail.
func (d *Dialect) fail(c *gin.Context, err error) {
	for _, e := range errorTable {
		if errors.Is(err, e.err) {
			c.JSON(e.status, apiError{Error: err.Error(), Code: e.code})
			return
		}
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		c.JSON(http.StatusRequestEntityTooLarge, apiError{Error: err.Error(), Code: "image_too_large"})
		return
	}
	d.core.Logger().Error("console: internal error", "log_id", server.RequestID(c), "path", c.FullPath(), "error", err)
	c.JSON(http.StatusInternalServerError, apiError{Error: fmt.Sprintf("internal error (log id %d)", server.RequestID(c)), Code: "internal"})
}

// ---- helpers ----

// upload reads the multipart file field name.
func (d *Dialect) upload(c *gin.Context, name string) ([]byte, error) {
	fh, err := c.FormFile(name)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, err
		}
		return nil, fmt.Errorf("%w: field %q", errNoImage, name)
	}
	f, err := fh.Open()
	if err != nil {
		return nil, fmt.Errorf("console: reading upload: %w", err)
	}
	defer f.Close()
	limit := d.core.Config().Image.MaxBytes
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("console: reading upload: %w", err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%w: more than %d bytes", imageio.ErrImageTooLarge, limit)
	}
	return data, nil
}

// thumbnail encodes a small aligned JPEG crop of f; nil when thumbnails
// are off or the face has no landmarks.
func (d *Dialect) thumbnail(c *gin.Context) {
	app := appOf(c)
	data, err := d.core.Library().Thumbnail(c.Request.Context(), app.ID, c.Param("group"), c.Param("user"), c.Param("token"))
	if err != nil {
		d.fail(c, err)
		return
	}
	if len(data) == 0 {
		d.fail(c, fmt.Errorf("%w: no thumbnail stored", store.ErrFaceNotFound))
		return
	}
	c.Header("Cache-Control", "private, max-age=3600")
	c.Data(http.StatusOK, "image/jpeg", data)
}

func (d *Dialect) makeThumbnail(img *imageio.Image, f engine.Face) []byte {
	if d.cfg.NoThumbnails || img == nil {
		return nil
	}
	return service.Thumbnail(img, f)
}
