package linkface

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/facekit/facekit/engine/imageio"
	"github.com/facekit/facekit/service"
	"github.com/facekit/facekit/service/imagesrc"
	"github.com/facekit/facekit/store"
	"github.com/facekit/facekit/store/registry"
)

func TestErrorTable(t *testing.T) {
	wrap := func(errs ...any) error { return fmt.Errorf("ctx: "+repeatW(len(errs)), errs...) }
	tests := []struct {
		name   string
		err    error
		http   int
		status string
		reason string
	}{
		{"Timeout", wrap(registry.ErrUnavailable, context.DeadlineExceeded), 400, "PHOTO_SERVICE_ERROR", "Gongan service timeout"},
		{"Network", wrap(registry.ErrUnavailable, &net.OpError{Op: "dial", Err: errors.New("refused")}), 400, "PHOTO_SERVICE_ERROR", "Network error"},
		{"Unavailable", wrap(registry.ErrUnavailable), 400, "PHOTO_SERVICE_ERROR", "Gongan service is unavailable temporarily"},
		{"UnusableFromSource", wrap(registry.ErrPhotoUnusable), 400, "PHOTO_SERVICE_ERROR", "Unknown error"},
		{"Encoding", errEncoding, 400, "ENCODING_ERROR", ""},
		{"DownloadTimeout", wrap(errDownloadTimeout, imagesrc.ErrDownload), 400, "DOWNLOAD_TIMEOUT", ""},
		{"DownloadError", wrap(imagesrc.ErrDownload), 400, "DOWNLOAD_ERROR", ""},
		{"ImageIDNotExist", wrap(service.ErrFaceTokenNotFound), 400, "IMAGE_ID_NOT_EXIST", ""},
		{"TooBig", wrap(imageio.ErrImageTooLarge), 400, "IMAGE_FILE_SIZE_TOO_BIG", ""},
		{"NoFace", wrap(service.ErrNoFace), 400, "NO_FACE_DETECTED", ""},
		{"Corrupt", wrap(imageio.ErrImageCorrupt), 400, "CORRUPT_IMAGE", ""},
		{"Format", wrap(imageio.ErrImageFormat), 400, "INVALID_IMAGE_FORMAT_OR_SIZE", ""},
		{"InvalidID", wrap(registry.ErrInvalidIDNumber), 400, "INVALID_ARGUMENT", "Invalid idcard number"},
		{"InvalidName", wrap(registry.ErrInvalidName), 400, "INVALID_ARGUMENT", "Invalid name"},
		{"Argument", argError("x is wrong"), 400, "INVALID_ARGUMENT", "x is wrong"},
		{"Unauthorized", wrap(service.ErrBadCredentials), 401, "UNAUTHORIZED", ""},
		{"KeyExpired", &keyExpiredError{expired: time.Unix(0, 0)}, 403, "KEY_EXPIRED", "api_id expired at 1970-01-01T00:00:00Z"},
		{"RateLimit", wrap(service.ErrRateLimited), 403, "RATE_LIMIT_EXCEEDED", ""},
		{"NoPermission", wrap(service.ErrNotAvailable), 403, "NO_PERMISSION", ""},
		{"OutOfQuota", wrap(store.ErrQuotaExceeded), 403, "OUT_OF_QUOTA", ""},
		{"NotFound", errPathNotFound, 404, "NOT_FOUND", ""},
		{"Internal", errors.New("disk on fire"), 500, "INTERNAL_ERROR", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ans, _ := toAnswer(tt.err)
			if ans.HTTP != tt.http || ans.Status != tt.status || reasonFor(ans, tt.err) != tt.reason {
				t.Fatalf("%v -> %d %s %q; want %d %s %q", tt.err, ans.HTTP, ans.Status, reasonFor(ans, tt.err), tt.http, tt.status, tt.reason)
			}
		})
	}
}

func repeatW(n int) string {
	s := ""
	for i := 0; i < n; i++ {
		s += "%w "
	}
	return s
}
