package baidu_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/facekit/facekit/server/baidu"
)

// zeros is an endless reader of zero bytes (a body without the memory).
type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// An oversized body gets Baidu's size code, with a message naming the
// limit, and the client always reads that answer: no connection reset
// while it is still sending (issue 13: 3 of 10 uploads were reset).
func TestOversizedBody(t *testing.T) {
	e := mustStart(t, nil)
	sizes := []int64{50 << 20, 200 << 20}
	if testing.Short() {
		sizes = []int64{30 << 20}
	}
	for try := range 10 {
		size := sizes[try%len(sizes)]
		t.Run(fmt.Sprintf("%dMB_%d", size>>20, try), func(t *testing.T) {
			raw, err := postWholeBody(e.base, v3+"/detect?access_token="+e.token, `{"image_type":"BASE64","image":"`, size)
			if err != nil {
				t.Fatal(err)
			}
			var a struct {
				ErrorCode int    `json:"error_code"`
				ErrorMsg  string `json:"error_msg"`
			}
			if err := json.Unmarshal(raw, &a); err != nil {
				t.Fatalf("not JSON: %v: %s", err, raw)
			}
			if a.ErrorCode != baidu.CodeImageSize || !strings.Contains(a.ErrorMsg, "24 MiB (25165824 bytes)") {
				t.Fatalf("answer %d %q, want %d naming the 24 MiB limit", a.ErrorCode, a.ErrorMsg, baidu.CodeImageSize)
			}
		})
	}
	// The server still answers after the drained uploads.
	if a := e.call(v3+"/faceset/group/getlist", obj{}); a.ErrorCode != 0 {
		t.Fatalf("after oversized uploads: %d %s", a.ErrorCode, a.ErrorMsg)
	}
}

// postWholeBody sends a request the way simple clients (Python requests,
// curl without Expect) do: the whole body first, then it reads the answer.
// A server that closes the connection with the body unread resets it, and
// such a client sees "connection reset" instead of the answer.
func postWholeBody(base, path, prefix string, size int64) ([]byte, error) {
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(2 * time.Minute))
	head := fmt.Sprintf("POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", path, int64(len(prefix))+size, prefix)
	if _, err := io.WriteString(conn, head); err != nil {
		return nil, fmt.Errorf("sending headers: %w", err)
	}
	if _, err := io.Copy(conn, io.LimitReader(zeros{}, size)); err != nil {
		return nil, fmt.Errorf("sending the body: %w", err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return nil, fmt.Errorf("reading the answer: %w", err)
	}
	defer resp.Body.Close()
	return io.ReadAll(resp.Body)
}
