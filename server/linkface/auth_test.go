package linkface_test

import (
	"bytes"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/facekit/facekit/server/linkface"
)

// countingReader counts the bytes the server has pulled from the body.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// A 23 MB upload with a bogus api_id is refused after its fields, without
// the server reading the file (issue 13: it read all 23 MB, 2.5 s and
// ~27 MB of RSS per request, and then answered IMAGE_FILE_SIZE_TOO_BIG).
func TestAuthenticatesBeforeReadingUpload(t *testing.T) {
	e := mustStart(t)
	const fileSize = 23 << 20
	var head bytes.Buffer
	w := multipart.NewWriter(&head)
	w.WriteField("api_id", "bogus-api-id")
	w.WriteField("api_secret", "bogus-secret")
	w.WriteField("id_number", idJimin)
	w.WriteField("name", nameJimin)
	w.CreateFormFile("selfie_file", "selfie.jpg")
	tail := "\r\n--" + w.Boundary() + "--\r\n"
	body := &countingReader{r: io.MultiReader(&head, io.LimitReader(zeros{}, fileSize), bytes.NewReader([]byte(tail)))}

	req, _ := http.NewRequest(http.MethodPost, e.base+linkface.Path, body)
	req.Header.Set("Content-Type", w.FormDataContentType())
	req.ContentLength = int64(head.Len()) + fileSize + int64(len(tail))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("no answer: %v", err)
	}
	sentAtAnswer := body.n.Load()
	r := decode(t, resp)
	if r.HTTP != http.StatusUnauthorized || r.Status != "UNAUTHORIZED" {
		t.Fatalf("answer HTTP %d %s, want 401 UNAUTHORIZED: %s", r.HTTP, r.Status, r.raw)
	}
	// The socket buffers and the first read hold a few MB at most; reading
	// the file would have pulled all 23.
	if sentAtAnswer > 8<<20 {
		t.Fatalf("the server consumed %d MB of the upload before answering", sentAtAnswer>>20)
	}
	t.Logf("answered after %s of a %d MB upload", fmt.Sprintf("%.1f MB", float64(sentAtAnswer)/(1<<20)), fileSize>>20)
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }
