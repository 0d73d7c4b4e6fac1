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

// Caps of a streamed multipart body: one text field, except
// selfie_image_base64 which carries a whole image (base64 of
// imageLimits.MaxBytes, with room for line breaks and a data: prefix), and
// all text fields together. Files are capped by imageLimits.MaxBytes.
const (
	maxFieldBytes  = 64 << 10
	maxBase64Bytes = imageLimitBytes*4/3 + 64<<10
	maxFormBytes   = maxBase64Bytes + 1<<20
)

// request is the parameters: form body and query string merged (body
// values first, so a form field wins over the same query parameter), plus
// the selfie_file upload.
type request struct {
	values url.Values
	file   []byte
}

func (r *request) get(key string) string { return r.values.Get(key) }

// beforeFileFunc is called with the parameters read so far when a
// multipart body reaches its first file part, before any of the file is
// read. An error stops parsing and is returned as is: Linkface checks the
// credentials there, so that a stranger's 23 MB upload costs one read of
// its headers, not 23 MB of memory.
type beforeFileFunc func(values url.Values) error

// parseRequest reads parameters from the query string and from a
// multipart or urlencoded body, as the doc's examples send them. A
// multipart body is streamed part by part with a cap on each part.
func parseRequest(c *gin.Context, beforeFile beforeFileFunc) (*request, error) {
	hr := c.Request
	req := &request{values: url.Values{}}
	ct, _, _ := mime.ParseMediaType(hr.Header.Get("Content-Type"))
	var err error
	if ct == "multipart/form-data" {
		err = req.readMultipart(hr, beforeFile)
	} else {
		err = hr.ParseForm()
		req.values = hr.PostForm
		if req.values == nil {
			req.values = url.Values{}
		}
	}
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, fmt.Errorf("%w: request body over %d bytes", server.ErrBodyTooLarge, mbe.Limit)
		}
		return nil, err
	}
	for k, vs := range hr.URL.Query() {
		req.values[k] = append(req.values[k], vs...)
	}
	return req, nil
}

// readMultipart streams a multipart body: text fields into r.values,
// selfie_file into r.file (after beforeFile), other files discarded.
func (r *request) readMultipart(hr *http.Request, beforeFile beforeFileFunc) error {
	mr, err := hr.MultipartReader()
	if err != nil {
		return argError("malformed request body: " + err.Error())
	}
	formBytes := 0
	checked := false
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return bodyError(err)
		}
		name := part.FormName()
		if part.FileName() == "" {
			limit := maxFieldBytes
			if name == "selfie_image_base64" {
				limit = maxBase64Bytes
			}
			v, err := io.ReadAll(io.LimitReader(part, int64(limit)+1))
			part.Close()
			if err != nil {
				return bodyError(err)
			}
			if formBytes += len(v); len(v) > limit || formBytes > maxFormBytes {
				if name == "selfie_image_base64" {
					return fmt.Errorf("%w: selfie_image_base64 over %d bytes", imageio.ErrImageTooLarge, limit)
				}
				return argError(fmt.Sprintf("form field %q over %d bytes", name, limit))
			}
			r.values.Add(name, string(v))
			continue
		}
		if !checked && beforeFile != nil {
			checked = true
			vals := url.Values{}
			for k, vs := range r.values {
				vals[k] = vs
			}
			for k, vs := range hr.URL.Query() {
				vals[k] = append(vals[k], vs...)
			}
			if err := beforeFile(vals); err != nil {
				// Not part.Close: it would read the part to its end.
				return err
			}
		}
		if name != "selfie_file" || r.file != nil {
			part.Close() // not ours: read past and discarded (the body cap bounds it)
			continue
		}
		data, err := io.ReadAll(io.LimitReader(part, imageLimits.MaxBytes+1))
		part.Close()
		switch {
		case err != nil:
			return bodyError(err)
		case int64(len(data)) > imageLimits.MaxBytes:
			return fmt.Errorf("%w: selfie_file over %d bytes", imageio.ErrImageTooLarge, imageLimits.MaxBytes)
		case len(data) == 0:
			// An empty upload is a corrupt image, not a missing one.
			return fmt.Errorf("%w: selfie_file is empty", imageio.ErrEmpty)
		}
		r.file = data
	}
}

// bodyError classifies a read error of the body: over the size cap, or
// malformed.
func bodyError(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return err // parseRequest maps it
	}
	return argError("malformed request body: " + err.Error())
}
