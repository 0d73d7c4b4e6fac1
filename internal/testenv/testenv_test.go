package testenv_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/facekit/facekit/internal/testenv"
)

// TestHelperNeedsData is run as a child process by TestMissingDataInCI.
func TestHelperNeedsData(t *testing.T) {
	switch os.Getenv("TESTENV_HELPER") {
	case "photos":
		testenv.TestData(t)
	case "models":
		testenv.ModelDir(t)
	}
}

// With CI=true and nothing provisioned, a test that needs photos or models
// fails and names the variable to set, instead of skipping (issue 13: with
// ../shared absent, CI went green).
func TestMissingDataInCI(t *testing.T) {
	for _, tc := range []struct{ need, variable string }{
		{"photos", "FACEKIT_TESTDATA"},
		{"models", "FACEKIT_MODEL_DIR"},
	} {
		t.Run(tc.need, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestHelperNeedsData$", "-test.v")
			cmd.Env = append(os.Environ(), "TESTENV_HELPER="+tc.need, "CI=true",
				"FACEKIT_TESTDATA="+t.TempDir(), "FACEKIT_MODEL_DIR="+t.TempDir())
			out, err := cmd.CombinedOutput()
			if err == nil || !strings.Contains(string(out), "--- FAIL") {
				t.Fatalf("missing %s in CI did not fail the test:\n%s", tc.need, out)
			}
			if !strings.Contains(string(out), "set "+tc.variable) {
				t.Fatalf("failure does not name %s:\n%s", tc.variable, out)
			}
		})
	}
}
