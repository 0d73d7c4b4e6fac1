package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestEvalTreeDryRun counts the calls of an endpoint run on a small tree
// without making any (the endpoint does not even listen): 3 photos of two
// people give 3 pairs, 3 registry photos would be 2 (the first photo of
// each pair).
func TestEvalTreeDryRun(t *testing.T) {
	root := t.TempDir()
	for _, n := range []string{"ann.jpg", "ann2.jpg", "bob.jpg"} {
		if err := os.WriteFile(filepath.Join(root, n), []byte("not read in a dry run"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		dialect string
		want    []string
	}{
		{"baidu", []string{"3 calls to http://127.0.0.1:1 (baidu) (plus one token call): 3 pairs, 0 answered"}},
		{"linkface", []string{"3 calls to http://127.0.0.1:1 (linkface): 3 pairs", "2 registry photos"}},
	} {
		code, out, errOut := runCLI(t, "eval", "tree", root, "--endpoint", "http://127.0.0.1:1", "--dialect", tc.dialect,
			"--api-key", "k", "--secret-key", "s", "--answers", t.TempDir(), "--dry-run")
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", tc.dialect, code, errOut)
		}
		for _, w := range tc.want {
			if !strings.Contains(out, w) {
				t.Errorf("%s: output %q lacks %q", tc.dialect, out, w)
			}
		}
	}
	for _, bad := range [][]string{
		{"--dialect", "aws"},
		{"--dialect", "tencent"}, // no --app-id
	} {
		args := append([]string{"eval", "tree", root, "--endpoint", "http://127.0.0.1:1", "--api-key", "k", "--secret-key", "s", "--dry-run"}, bad...)
		if code, _, errOut := runCLI(t, args...); code == 0 || strings.Count(strings.TrimSpace(errOut), "\n") > 0 {
			t.Errorf("%v: exit %d, stderr %q: want a one-line error", bad, code, errOut)
		}
	}
}
