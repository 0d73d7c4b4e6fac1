package missing_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/facekit/facekit/internal/missing"
)

// TestHelperMissing is run as a child process by TestData.
func TestHelperMissing(t *testing.T) {
	if os.Getenv("MISSING_HELPER") == "" {
		t.Skip("helper for TestData") // not data: the child-process switch
	}
	missing.Data(t, missing.TestData, "test photos not found at /nonexistent")
}

// In CI a missing data set is a failure naming the variable to set; on a
// developer's machine it is a skip.
func TestData(t *testing.T) {
	cases := []struct {
		name, ci string
		fail     bool
	}{
		{"CIFails", "true", true},
		{"CIOneFails", "1", true},
		{"LocalSkips", "", false},
		{"CIFalseSkips", "false", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestHelperMissing$", "-test.v")
			cmd.Env = append(os.Environ(), "MISSING_HELPER=1", "CI="+tc.ci)
			out, err := cmd.CombinedOutput()
			if failed := err != nil; failed != tc.fail {
				t.Fatalf("CI=%q: failed=%v, want %v:\n%s", tc.ci, failed, tc.fail, out)
			}
			if !strings.Contains(string(out), "set FACEKIT_TESTDATA") {
				t.Fatalf("output does not name the variable:\n%s", out)
			}
			if !tc.fail && !strings.Contains(string(out), "--- SKIP") {
				t.Fatalf("not skipped:\n%s", out)
			}
		})
	}
}
