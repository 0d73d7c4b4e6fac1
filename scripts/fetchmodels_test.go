// Package scripts holds no Go code: its tests run the shell scripts next
// to them against temporary directories.
package scripts

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// gitBlob asks git itself for a file's blob id: the reference the
// script's own sha1 computation must agree with.
func gitBlob(t *testing.T, path string) string {
	t.Helper()
	out, err := exec.Command("git", "hash-object", "--no-filters", path).Output()
	if err != nil {
		t.Fatalf("git hash-object: %v", err)
	}
	return strings.TrimSpace(string(out))
}

func sha256Hex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func write(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// fetchEnv is one run's directories: a mirror, a destination and a
// manifest, all temporary, so nothing is downloaded and the shared models
// are not touched.
type fetchEnv struct {
	mirror, dest, manifest string
}

func newFetchEnv(t *testing.T) fetchEnv {
	dir := t.TempDir()
	e := fetchEnv{filepath.Join(dir, "mirror"), filepath.Join(dir, "dest"), filepath.Join(dir, "manifest.tsv")}
	for _, d := range []string{e.mirror, e.dest} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

// run runs fetch-models.sh with a one-line manifest and returns its
// combined output and whether it exited 0.
func (e fetchEnv) run(t *testing.T, line string, args ...string) (string, bool) {
	t.Helper()
	write(t, e.manifest, []byte("# test manifest\n"+line+"\n"))
	cmd := exec.Command("bash", append([]string{"fetch-models.sh"}, args...)...)
	cmd.Env = append(os.Environ(),
		"FACEKIT_MODEL_MANIFEST="+e.manifest, "FACEKIT_MODEL_DIR="+e.dest, "FACEKIT_MODEL_MIRROR="+e.mirror)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if err != nil {
		if _, ok := err.(*exec.ExitError); !ok {
			t.Fatalf("run fetch-models.sh: %v", err)
		}
	}
	return out.String(), err == nil
}

const zeros = "0000000000000000000000000000000000000000000000000000000000000000"

// TestFetchModelsAcceptance checks which files the script installs: the
// manifest's sha256, or an official file's git blob id from the fifth
// column (of the file itself, or of the .bz2 it was downloaded as), and
// nothing else. The .bz2 case uses a file:// URL, so it runs offline.
func TestFetchModelsAcceptance(t *testing.T) {
	for _, tool := range []string{"bash", "git", "curl", "bzip2", "sha1sum", "sha256sum"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed", tool)
		}
	}
	content := []byte("a stand-in model file: the script checks bytes, not meaning\n")
	const name = "model.dat"

	t.Run("ManifestSha256", func(t *testing.T) {
		e := newFetchEnv(t)
		write(t, filepath.Join(e.mirror, name), content)
		out, ok := e.run(t, name+"\t"+sha256Hex(content)+"\thttps://example.invalid/model.dat\ttest")
		if !ok || !strings.Contains(out, "verified by manifest sha256") {
			t.Fatalf("ok=%v:\n%s", ok, out)
		}
		if got, _ := os.ReadFile(filepath.Join(e.dest, name)); !bytes.Equal(got, content) {
			t.Fatal("installed file differs from the mirror's")
		}
	})

	t.Run("OfficialGitBlob", func(t *testing.T) {
		e := newFetchEnv(t)
		src := filepath.Join(e.mirror, name)
		write(t, src, content)
		blob := gitBlob(t, src)
		line := name + "\t" + zeros + "\thttps://example.invalid/model.dat\ttest\tgit-blob-bz2:" + strings.Repeat("1", 40) + ",git-blob:" + blob
		out, ok := e.run(t, line)
		if !ok || !strings.Contains(out, "verified by git blob "+blob+" (official file)") {
			t.Fatalf("ok=%v:\n%s", ok, out)
		}
		// A second run recognises the installed file without fetching.
		out, ok = e.run(t, line)
		if !ok || !strings.Contains(out, "ok       "+name+" (git blob "+blob) || strings.Contains(out, "fetched") {
			t.Fatalf("second run ok=%v:\n%s", ok, out)
		}
		out, ok = e.run(t, line, "--check")
		if !ok || !strings.Contains(out, "ok       "+name) {
			t.Fatalf("--check ok=%v:\n%s", ok, out)
		}
	})

	t.Run("OfficialBz2GitBlob", func(t *testing.T) {
		e := newFetchEnv(t)
		// The public source is a .bz2 (file:// here); the mirror has no copy.
		plain := filepath.Join(t.TempDir(), name)
		write(t, plain, content)
		if out, err := exec.Command("bzip2", "-k", plain).CombinedOutput(); err != nil {
			t.Fatalf("bzip2: %v %s", err, out)
		}
		bz := plain + ".bz2"
		blob := gitBlob(t, bz)
		line := name + "\t" + zeros + "\tfile://" + bz + "\ttest\tgit-blob:" + strings.Repeat("2", 40) + ",git-blob-bz2:" + blob
		out, ok := e.run(t, line)
		if !ok || !strings.Contains(out, "verified by git blob "+blob+" of the official .bz2") {
			t.Fatalf("ok=%v:\n%s", ok, out)
		}
		target := filepath.Join(e.dest, name)
		if got, _ := os.ReadFile(target); !bytes.Equal(got, content) {
			t.Fatal("installed file is not the decompressed .bz2")
		}
		if _, err := os.Stat(target + ".part.bz2"); !os.IsNotExist(err) {
			t.Errorf("downloaded .bz2 left behind: %v", err)
		}
		// The .verified note lets the next run accept the file offline.
		out, ok = e.run(t, line, "--check")
		if !ok || !strings.Contains(out, "recorded in "+name+".verified") {
			t.Fatalf("--check after install ok=%v:\n%s", ok, out)
		}
		// A file changed after installation no longer matches its note.
		write(t, target, append(content, 'x'))
		out, ok = e.run(t, line, "--check")
		if ok || !strings.Contains(out, "missing  "+name) {
			t.Fatalf("--check on a changed file ok=%v:\n%s", ok, out)
		}
	})

	t.Run("RefusedWhenNothingMatches", func(t *testing.T) {
		e := newFetchEnv(t)
		write(t, filepath.Join(e.mirror, name), content)
		line := name + "\t" + zeros + "\thttps://example.invalid/model.dat\ttest\tgit-blob:" + strings.Repeat("3", 40)
		out, ok := e.run(t, line)
		if ok || !strings.Contains(out, "refused  "+name) {
			t.Fatalf("ok=%v:\n%s", ok, out)
		}
		if _, err := os.Stat(filepath.Join(e.dest, name)); !os.IsNotExist(err) {
			t.Fatalf("refused file installed: %v", err)
		}
	})
}

// TestGitBlobMatchesGit compares the script's own blob id (sha1 in bash,
// so that a machine without git can verify) with git's on files whose
// size and content make the header matter: empty, binary with NUL bytes,
// and one larger than a pipe buffer.
func TestGitBlobMatchesGit(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	dir := t.TempDir()
	big := bytes.Repeat([]byte{0, 1, 2, 255, '\n'}, 50_000)
	for name, b := range map[string][]byte{"empty": nil, "nul": {0, 0, 'a', 0}, "big": big} {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(dir, name)
			write(t, p, b)
			// Source only the function definitions (everything before the
			// main loop's mkdir) and call gitblob.
			cmd := exec.Command("bash", "-c", `set -euo pipefail; eval "$(sed -n '/^sha() /,/^mkdir -p/p' fetch-models.sh | sed '$d')"; gitblob "$1"`, "bash", p)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			if got, want := strings.TrimSpace(string(out)), gitBlob(t, p); got != want {
				t.Errorf("script blob %s, git %s", got, want)
			}
		})
	}
}
