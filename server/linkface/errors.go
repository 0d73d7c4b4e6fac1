package linkface

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/facekit/facekit/engine/imageio"
	"github.com/facekit/facekit/server"
	"github.com/facekit/facekit/service"
	"github.com/facekit/facekit/service/imagesrc"
	"github.com/facekit/facekit/store"
	"github.com/facekit/facekit/store/registry"
)

// Errors of this dialect that have no domain counterpart.
var (
	errEncoding        = errors.New("linkface: parameter is not UTF-8")
	errDownloadTimeout = errors.New("linkface: selfie_url download timed out")
	errPathNotFound    = errors.New("linkface: no such path")
	errKeyExpired      = errors.New("linkface: api_id expired")
)

// argError is an INVALID_ARGUMENT whose text is the response's reason.
type argError string

func (e argError) Error() string { return "linkface: invalid argument: " + string(e) }

// keyExpiredError is KEY_EXPIRED with the date in the reason.
type keyExpiredError struct{ expired time.Time }

func (e *keyExpiredError) Error() string {
	return "linkface: api_id expired at " + e.expired.UTC().Format(time.RFC3339)
}
func (e *keyExpiredError) Unwrap() error { return errKeyExpired }

// answer is how one error is reported.
type answer struct {
	HTTP   int
	Status string
	Image  string // which image failed ("selfie"), for image errors
	Reason string // fixed reason, if any
}

// errorTable maps errors to Linkface answers; the first row whose match
// accepts the error wins, so specific rows come before general ones. It is
// the only place codes are chosen.
var errorTable = []struct {
	match func(error) bool
	ans   answer
}{
	// Input checks.
	{is(errEncoding), answer{400, "ENCODING_ERROR", "", ""}},
	{is(registry.ErrInvalidIDNumber), answer{400, "INVALID_ARGUMENT", "", reasonInvalidID}},
	{is(registry.ErrInvalidName), answer{400, "INVALID_ARGUMENT", "", reasonInvalidName}},
	{isArg, answer{400, "INVALID_ARGUMENT", "", ""}},

	// Selfie intake.
	{is(errDownloadTimeout), answer{400, "DOWNLOAD_TIMEOUT", "selfie", ""}},
	{is(imagesrc.ErrTooLarge), answer{400, "IMAGE_FILE_SIZE_TOO_BIG", "selfie", ""}},
	{is(imagesrc.ErrDownload), answer{400, "DOWNLOAD_ERROR", "selfie", ""}},
	{is(imagesrc.ErrForbidden), answer{400, "DOWNLOAD_ERROR", "selfie", ""}},
	{is(imagesrc.ErrURL), answer{400, "DOWNLOAD_ERROR", "selfie", ""}},
	{is(service.ErrFaceTokenNotFound), answer{400, "IMAGE_ID_NOT_EXIST", "selfie", ""}},
	{is(store.ErrModelMismatch), answer{400, "IMAGE_ID_NOT_EXIST", "selfie", ""}},
	{is(imageio.ErrImageTooLarge), answer{400, "IMAGE_FILE_SIZE_TOO_BIG", "selfie", ""}},
	{is(server.ErrBodyTooLarge), answer{400, "IMAGE_FILE_SIZE_TOO_BIG", "selfie", ""}},
	{is(imageio.ErrImageFormat), answer{400, "INVALID_IMAGE_FORMAT_OR_SIZE", "selfie", ""}},
	{is(imageio.ErrImageDimensions), answer{400, "INVALID_IMAGE_FORMAT_OR_SIZE", "selfie", ""}},
	{is(imageio.ErrImageCorrupt), answer{400, "CORRUPT_IMAGE", "selfie", ""}},
	{is(imageio.ErrEmpty), answer{400, "CORRUPT_IMAGE", "selfie", ""}},
	{is(imageio.ErrBase64), answer{400, "CORRUPT_IMAGE", "selfie", ""}},
	// A registered photo without a face is reported with its identity
	// block (reason "poor picture quality"), not as the selfie's fault.
	{both(service.ErrNoFace, registry.ErrPhotoUnusable), answer{400, "NO_FACE_DETECTED", "", ""}},
	{is(service.ErrNoFace), answer{400, "NO_FACE_DETECTED", "selfie", ""}},

	// The registry ("Gongan") behind the call.
	{isTimeout, answer{400, "PHOTO_SERVICE_ERROR", "", "Gongan service timeout"}},
	{isNetwork, answer{400, "PHOTO_SERVICE_ERROR", "", "Network error"}},
	{is(registry.ErrUnavailable), answer{400, "PHOTO_SERVICE_ERROR", "", "Gongan service is unavailable temporarily"}},
	{is(registry.ErrPhotoUnusable), answer{400, "PHOTO_SERVICE_ERROR", "", "Unknown error"}},

	// Account and server.
	{is(service.ErrBadCredentials), answer{401, "UNAUTHORIZED", "", ""}},
	{is(errKeyExpired), answer{403, "KEY_EXPIRED", "", ""}},
	{is(service.ErrRateLimited), answer{403, "RATE_LIMIT_EXCEEDED", "", ""}},
	{is(service.ErrBusy), answer{403, "RATE_LIMIT_EXCEEDED", "", ""}},
	{is(store.ErrQuotaExceeded), answer{403, "OUT_OF_QUOTA", "", ""}},
	{is(service.ErrNotAvailable), answer{403, "NO_PERMISSION", "", ""}},
	{is(errPathNotFound), answer{404, "NOT_FOUND", "", ""}},
}

// internalError answers everything the table does not know.
var internalError = answer{500, "INTERNAL_ERROR", "", ""}

func is(target error) func(error) bool {
	return func(err error) bool { return errors.Is(err, target) }
}

func both(a, b error) func(error) bool {
	return func(err error) bool { return errors.Is(err, a) && errors.Is(err, b) }
}

func isArg(err error) bool {
	var a argError
	return errors.As(err, &a)
}

// isTimeout is a registry timeout (the sources wrap DeadlineExceeded).
func isTimeout(err error) bool {
	return errors.Is(err, registry.ErrUnavailable) && errors.Is(err, context.DeadlineExceeded)
}

// isNetwork is a registry that could not be reached at all.
func isNetwork(err error) bool {
	var op *net.OpError
	return errors.Is(err, registry.ErrUnavailable) && errors.As(err, &op)
}

// toAnswer looks err up in the table.
func toAnswer(err error) (answer, bool) {
	for _, row := range errorTable {
		if row.match(err) {
			return row.ans, true
		}
	}
	return internalError, false
}

// reasonFor is the reason text of an answer: the table's fixed reason, the
// argument error's own text, or the expiry date.
func reasonFor(ans answer, err error) string {
	if ans.Reason != "" {
		return ans.Reason
	}
	var a argError
	if errors.As(err, &a) {
		return string(a)
	}
	var k *keyExpiredError
	if errors.As(err, &k) {
		return fmt.Sprintf("api_id expired at %s", k.expired.UTC().Format(time.RFC3339))
	}
	return ""
}

// fail answers err in Linkface's format. Errors outside the table are
// logged with the request id and answered 500 INTERNAL_ERROR.
func (d *Dialect) fail(c *gin.Context, err error, ident *identityBlock) {
	ans, known := toAnswer(err)
	if !known {
		d.core.Logger().Error("internal error", "log_id", server.RequestID(c), "path", c.Request.URL.Path, "error", err)
	}
	_ = c.Error(err)
	body := errorResponse{
		Status:    ans.Status,
		Image:     ans.Image,
		Reason:    reasonFor(ans, err),
		RequestID: d.requestID(c),
	}
	// Only a failure after a successful registry call carries the identity
	// block (the documented NO_FACE_DETECTED case).
	if ans.Status == "NO_FACE_DETECTED" {
		body.Identity = ident
	}
	c.JSON(ans.HTTP, body)
}
