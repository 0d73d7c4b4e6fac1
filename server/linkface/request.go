package linkface

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"

	"github.com/facekit/facekit/engine/imageio"
	"github.com/facekit/facekit/server"
)

// maxFormMemory is how much of a multipart body is held in memory; the
// rest spills to temporary files (removed by cleanup).
const maxFormMemory = 8 << 20

// request is the parsed parameters: query string and form body merged
// (body values first, so a form field wins over the same query parameter),
// plus the selfie_file upload.
type request struct {
	values  url.Values
	file    []byte
	cleanup func()
}

func (r *request) get(key string) string { return r.values.Get(key) }

// parseRequest reads parameters from the query string and from a
// multipart or urlencoded body, as the doc's examples send them.
func parseRequest(c *gin.Context) (*request, error) {
	hr := c.Request
	req := &request{cleanup: func() {}}
	ct, _, _ := mime.ParseMediaType(hr.Header.Get("Content-Type"))
	var err error
	switch ct {
	case "multipart/form-data":
		err = hr.ParseMultipartForm(maxFormMemory)
		if hr.MultipartForm != nil {
			form := hr.MultipartForm
			req.cleanup = func() { _ = form.RemoveAll() }
		}
	default:
		err = hr.ParseForm()
	}
	if err != nil {
		req.cleanup()
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, fmt.Errorf("%w: request body over %d bytes", server.ErrBodyTooLarge, mbe.Limit)
		}
		return nil, argError("malformed request body: " + err.Error())
	}
	req.values = hr.Form
	if hr.MultipartForm != nil {
		if fhs := hr.MultipartForm.File["selfie_file"]; len(fhs) > 0 {
			f, err := fhs[0].Open()
			if err != nil {
				req.cleanup()
				return nil, fmt.Errorf("linkface: opening selfie_file: %w", err)
			}
			data, err := io.ReadAll(io.LimitReader(f, imageLimits.MaxBytes+1))
			f.Close()
			switch {
			case err != nil:
				req.cleanup()
				return nil, fmt.Errorf("linkface: reading selfie_file: %w", err)
			case int64(len(data)) > imageLimits.MaxBytes:
				req.cleanup()
				return nil, fmt.Errorf("%w: selfie_file over %d bytes", imageio.ErrImageTooLarge, imageLimits.MaxBytes)
			case len(data) == 0:
				// An empty upload is a corrupt image, not a missing one.
				req.cleanup()
				return nil, fmt.Errorf("%w: selfie_file is empty", imageio.ErrEmpty)
			}
			req.file = data
		}
	}
	return req, nil
}
