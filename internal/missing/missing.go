// Package missing decides what a test does when the photos or models it
// runs on are not provisioned: on a developer's machine it skips, so that a
// checkout without ../shared still tests what it can; in CI (CI=true, as
// GitHub Actions, GitLab and most runners set it) it fails, naming the
// environment variable to set, so that a missing data set can never turn
// the build green by skipping every test that looks at a face.
//
// It imports nothing of facekit, so that any package's tests can use it
// (engine/tfgraph's internal tests cannot import internal/testenv, which
// imports the engine).
package missing

import (
	"fmt"
	"os"
	"strconv"
	"testing"
)

// InCI reports whether the CI environment variable is set to a true value.
func InCI() bool {
	v, err := strconv.ParseBool(os.Getenv("CI"))
	return err == nil && v
}

// Data skips tb, or fails it in CI, because something it needs is not
// provisioned. variable names the environment variable that points at it
// (FACEKIT_TESTDATA, FACEKIT_MODEL_DIR); the message says what is missing.
func Data(tb testing.TB, variable, format string, args ...any) {
	tb.Helper()
	msg := fmt.Sprintf(format, args...)
	if InCI() {
		tb.Fatalf("%s; CI=true, so this fails instead of skipping: set %s", msg, variable)
	}
	tb.Skipf("%s (set %s)", msg, variable)
}

// Data and model variables, for callers.
const (
	TestData = "FACEKIT_TESTDATA"
	ModelDir = "FACEKIT_MODEL_DIR"
)
