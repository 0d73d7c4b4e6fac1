// Package baidu serves the Baidu face API v3 (plus the v1 voice session
// code and the v4 "mingjing" verify/match calls) on facekit's core, so that
// Baidu's official client SDKs work against a facekit server unchanged:
// the same paths, the OAuth client-credentials token call, JSON or form
// bodies, the {"error_code", "error_msg", "log_id", "timestamp", "cached",
// "result"} envelope, Baidu's error codes and its 0–100 score scale.
package baidu

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/facekit/facekit/server"
	"github.com/facekit/facekit/service"
	"github.com/facekit/facekit/store"
)

// Path prefixes the dialect owns.
const (
	pathToken   = "/oauth/2.0/token"
	prefixFace  = "/rest/2.0/face/"
	prefixV3    = "/rest/2.0/face/v3"
	prefixV4    = "/rest/2.0/face/v4"
	pathSession = "/rest/2.0/face/v1/faceliveness/sessioncode"
)

// Limits the API documents.
const (
	maxGroups          = 10 // group_id_list entries
	maxDetectFaces     = 10 // detect max_face_num
	maxMultiFaces      = 10 // multi-search max_face_num
	maxSearchUsers     = 50 // search max_user_num
	maxMultiUsers      = 20 // multi-search max_user_num
	defaultThreshold   = 80 // match_threshold
	defaultPageLength  = 100
	maxFaceverifyImage = 8
)

// Dialect is the Baidu API. Create it with New.
type Dialect struct {
	core *service.Service
}

// New returns the Baidu dialect for server.New.
func New() *Dialect { return &Dialect{} }

// Name implements server.Dialect.
func (d *Dialect) Name() string { return "baidu" }

// Owns implements server.Dialect: unknown paths under /rest/2.0/face/ are
// answered with Baidu's "Unsupported openapi method".
func (d *Dialect) Owns(path string) bool {
	return strings.HasPrefix(path, prefixFace) || strings.HasPrefix(path, "/oauth/2.0/")
}

// NotFound implements server.Dialect.
func (d *Dialect) NotFound(c *gin.Context) {
	server.SetDialect(c, d.Name())
	d.fail(c, errCode(CodeUnsupportedMethod, nil))
}

// handlerFunc is one endpoint: it gets the authenticated application and
// the parsed body and returns the envelope's result or an error.
type handlerFunc func(ctx context.Context, app store.App, req request) (any, error)

// Register implements server.Dialect.
func (d *Dialect) Register(r *gin.Engine, core *service.Service) {
	d.core = core
	label := func(c *gin.Context) { server.SetDialect(c, d.Name()); c.Next() }
	recovery := server.Recovery(core.Logger(), func(c *gin.Context, err error) { d.fail(c, err) })

	r.GET(pathToken, label, recovery, d.token)
	r.POST(pathToken, label, recovery, d.token)

	api := r.Group("/rest/2.0/face", label, recovery, d.auth)
	routes := map[string]handlerFunc{
		"/v3/detect":                 d.detect,
		"/v3/search":                 d.search,
		"/v3/multi-search":           d.multiSearch,
		"/v3/match":                  d.match,
		"/v3/faceverify":             d.faceverify,
		"/v3/person/verify":          d.personVerify,
		"/v3/faceset/user/add":       d.userAdd,
		"/v3/faceset/user/update":    d.userUpdate,
		"/v3/faceset/face/delete":    d.faceDelete,
		"/v3/faceset/user/get":       d.userGet,
		"/v3/faceset/face/getlist":   d.faceGetlist,
		"/v3/faceset/group/getusers": d.groupGetusers,
		"/v3/faceset/user/copy":      d.userCopy,
		"/v3/faceset/user/delete":    d.userDelete,
		"/v3/faceset/group/add":      d.groupAdd,
		"/v3/faceset/group/delete":   d.groupDelete,
		"/v3/faceset/group/getlist":  d.groupGetlist,
		"/v4/mingjing/verify":        d.mingjingVerify,
		"/v4/mingjing/match":         d.mingjingMatch,
	}
	for path, h := range routes {
		api.POST(path, d.serve(h, false))
	}
	api.POST("/v1/faceliveness/sessioncode", d.serve(d.sessionCode, true))
}

// auth resolves ?access_token= to an application (100 when missing, 110
// unknown, 111 expired) and applies its QPS limit (18) and quota (19).
func (d *Dialect) auth(c *gin.Context) {
	token := c.Query("access_token")
	if token == "" {
		d.fail(c, errCode(CodeInvalidParameter, errors.New("no access_token")))
		c.Abort()
		return
	}
	ctx := c.Request.Context()
	app, err := d.core.Authenticate(ctx, token)
	if err != nil {
		d.fail(c, err)
		c.Abort()
		return
	}
	server.SetApp(c, app)
	if err := d.core.Admit(ctx, app); err != nil {
		d.fail(c, err)
		c.Abort()
		return
	}
	c.Next()
}

// serve adapts a handlerFunc: read and parse the body, run the handler,
// write the envelope.
func (d *Dialect) serve(h handlerFunc, sessionStyle bool) gin.HandlerFunc {
	return func(c *gin.Context) {
		body, err := server.ReadBody(c)
		if err != nil {
			d.fail(c, err)
			return
		}
		req, err := parseBody(body)
		if err != nil {
			d.fail(c, err)
			return
		}
		app, _ := server.AppFrom(c)
		result, err := h(c.Request.Context(), app, req)
		if err != nil {
			d.fail(c, err)
			return
		}
		env := envelope{
			ErrorCode: CodeSuccess,
			ErrorMsg:  messages[CodeSuccess],
			LogID:     server.RequestID(c),
			Timestamp: time.Now().Unix(),
			Result:    result,
		}
		if sessionStyle {
			// The v1 session-code call answers with err_no/err_msg and a
			// string serverlogid (as documented); the v3 fields stay too
			// so that either style of client reads it.
			c.JSON(http.StatusOK, sessionEnvelope{envelope: env, ErrNo: 0, ErrMsg: env.ErrorMsg, ServerLogID: formatID(env.LogID)})
			return
		}
		c.JSON(http.StatusOK, env)
	}
}

// envelope is the v3 response wrapper.
type envelope struct {
	ErrorCode int    `json:"error_code"`
	ErrorMsg  string `json:"error_msg"`
	LogID     uint64 `json:"log_id"`
	Timestamp int64  `json:"timestamp"`
	Cached    int    `json:"cached"`
	Result    any    `json:"result"`
}

type sessionEnvelope struct {
	envelope
	ErrNo       int    `json:"err_no"`
	ErrMsg      string `json:"err_msg"`
	ServerLogID string `json:"serverlogid"`
}

// fail answers err in Baidu's format (HTTP 200, as the cloud API
// does). Errors outside the table are logged with the log_id and answered
// as Baidu's generic "Unknown error".
func (d *Dialect) fail(c *gin.Context, err error) {
	be, known := toError(err)
	id := server.RequestID(c)
	if !known || be.Code == CodeUnknown {
		d.core.Logger().Error("internal error", "log_id", id, "path", c.Request.URL.Path, "error", err)
	}
	_ = c.Error(err) // shows up in the access log line
	c.JSON(http.StatusOK, envelope{
		ErrorCode: be.Code,
		ErrorMsg:  be.Msg,
		LogID:     id,
		Timestamp: time.Now().Unix(),
	})
}

func formatID(id uint64) string { return strconv.FormatUint(id, 10) }
