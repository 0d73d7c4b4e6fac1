package openapi

import (
	"encoding/json"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/facekit/facekit/server"
	"github.com/facekit/facekit/service"
)

// Path is where the document is served.
const Path = "/openapi.json"

// Dialect serves the document at Path. It implements server.Dialect.
type Dialect struct {
	body []byte
}

// NewDialect encodes the document once for serving.
func NewDialect() *Dialect {
	body, err := json.MarshalIndent(New(), "", "  ")
	if err != nil {
		// The document is built from plain structs in this package; failing
		// to encode it is a programming error caught by the tests.
		panic("openapi: encoding the document: " + err.Error())
	}
	return &Dialect{body: body}
}

// Name implements server.Dialect.
func (d *Dialect) Name() string { return "openapi" }

// Register implements server.Dialect.
func (d *Dialect) Register(r *gin.Engine, core *service.Service) {
	r.GET(Path, func(c *gin.Context) {
		server.SetDialect(c, d.Name())
		// Browser-based API explorers load the document from another origin.
		c.Header("Access-Control-Allow-Origin", "*")
		c.Data(http.StatusOK, "application/json; charset=utf-8", d.body)
	})
}

// Owns implements server.Dialect; the dialect claims no unknown paths.
func (d *Dialect) Owns(path string) bool { return false }

// NotFound implements server.Dialect (never called: Owns is always false).
func (d *Dialect) NotFound(c *gin.Context) { c.Status(http.StatusNotFound) }
