package service

import (
	"bufio"
	"bytes"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

const module = "github.com/facekit/facekit"

// TestImportsRunOneWay checks the layering with `go list -deps`: cmd →
// server → service → store/engine. The service layer, and everything it
// builds on, imports no HTTP package of facekit and not gin (so no
// *gin.Context can reach it), and the layers below import no service.
func TestImportsRunOneWay(t *testing.T) {
	layers := []struct {
		patterns  []string
		forbidden []string
	}{
		{
			patterns:  []string{"./service/..."},
			forbidden: []string{module + "/server", module + "/cmd", "github.com/gin-gonic/"},
		},
		{
			patterns:  []string{"./store/...", "./engine/...", "./descriptor/...", "./quality/...", "./calibration/..."},
			forbidden: []string{module + "/service", module + "/server", module + "/cmd", "github.com/gin-gonic/"},
		},
		{
			patterns:  []string{"./server/..."},
			forbidden: []string{module + "/cmd"},
		},
	}
	gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
	for _, l := range layers {
		t.Run(strings.Join(l.patterns, ","), func(t *testing.T) {
			// -test includes the packages' tests: they must keep the
			// direction too.
			args := append([]string{"list", "-deps", "-test", "-f", "{{.ImportPath}}"}, l.patterns...)
			cmd := exec.Command(gobin, args...)
			cmd.Dir = ".."
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("go list: %v\n%s", err, stderr.String())
			}
			n := 0
			sc := bufio.NewScanner(bytes.NewReader(out))
			sc.Buffer(make([]byte, 1<<20), 1<<20)
			for sc.Scan() {
				fields := strings.Fields(sc.Text())
				if len(fields) == 0 {
					continue
				}
				n++
				pkg := fields[0]
				for _, bad := range l.forbidden {
					if strings.HasPrefix(pkg, bad) {
						t.Errorf("%s depends on %s", strings.Join(l.patterns, " "), pkg)
					}
				}
			}
			if n < 10 {
				t.Fatalf("go list reported only %d packages: the check checks nothing", n)
			}
		})
	}
}
