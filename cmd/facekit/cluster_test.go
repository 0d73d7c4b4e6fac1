package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/facekit/facekit/internal/pgtest"
	"github.com/facekit/facekit/internal/testenv"
)

// nodeChildEnv marks a test-binary process that is a facekit node: it runs
// the real serve (as `facekit serve` does) with the configuration of its
// environment and prints "listening ADDR".
const nodeChildEnv = "FACEKIT_TEST_NODE"

// TestNodeChild is not a test on its own: startNode runs the test binary
// again with only this test selected, as one node.
func TestNodeChild(t *testing.T) {
	if os.Getenv(nodeChildEnv) == "" {
		t.Skip("node child; run by the two-node tests")
	}
	cfg, err := loadConfig("", os.Getenv)
	if err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	err = serve(ctx, cfg, log, func(addr string) { fmt.Println("listening", addr) })
	if err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
	os.Exit(0)
}

// node is one running facekit serve process.
type node struct {
	t    *testing.T
	name string
	cmd  *exec.Cmd
	base string
	exit chan error
}

// startNode starts a node on dsn and waits until it listens.
func startNode(t *testing.T, name, dsn string) *node {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestNodeChild$", "-test.count=1")
	cmd.Env = append(os.Environ(),
		nodeChildEnv+"=1",
		"FACEKIT_ADDR=127.0.0.1:0",
		"FACEKIT_DATA="+t.TempDir(),
		"FACEKIT_MODEL_DIR="+testenv.ModelDir(t),
		"FACEKIT_POOL=1",
		"FACEKIT_LIBRARY_BACKEND=postgres",
		"FACEKIT_DATABASE_URL="+dsn,
	)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	n := &node{t: t, name: name, cmd: cmd, exit: make(chan error, 1)}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			line := sc.Text()
			if a, ok := strings.CutPrefix(line, "listening "); ok {
				addr <- a
			} else if strings.HasPrefix(line, "error") {
				t.Errorf("node %s: %s", name, line)
			}
		}
		n.exit <- cmd.Wait()
	}()
	select {
	case a := <-addr:
		n.base = "http://" + a
	case err := <-n.exit:
		t.Fatalf("node %s exited before listening: %v", name, err)
	case <-time.After(2 * time.Minute):
		cmd.Process.Kill()
		t.Fatalf("node %s did not start", name)
	}
	t.Cleanup(func() { n.stop() })
	return n
}

// stop ends the node gracefully (SIGTERM) if it still runs.
func (n *node) stop() {
	if n.cmd.ProcessState != nil {
		return
	}
	n.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-n.exit:
	case <-time.After(30 * time.Second):
		n.cmd.Process.Kill()
		<-n.exit
	}
}

// kill ends the node with SIGKILL.
func (n *node) kill() {
	n.cmd.Process.Kill()
	<-n.exit
}

// baiduAnswer is the Baidu v3 envelope with the fields these tests read.
type baiduAnswer struct {
	ErrorCode int    `json:"error_code"`
	ErrorMsg  string `json:"error_msg"`
	Result    struct {
		UserList []struct {
			GroupID string  `json:"group_id"`
			UserID  string  `json:"user_id"`
			Score   float64 `json:"score"`
		} `json:"user_list"`
	} `json:"result"`
}

// token fetches an access token from the node.
func (n *node) token(key, secret string) string {
	n.t.Helper()
	q := url.Values{"grant_type": {"client_credentials"}, "client_id": {key}, "client_secret": {secret}}
	resp, err := http.Get(n.base + "/oauth/2.0/token?" + q.Encode())
	if err != nil {
		n.t.Fatal(err)
	}
	defer resp.Body.Close()
	var ans struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&ans); err != nil || ans.AccessToken == "" {
		n.t.Fatalf("node %s token: %v", n.name, err)
	}
	return ans.AccessToken
}

// call posts a Baidu v3 request; a transport error is returned as such
// (a killed node), not as a test failure.
func (n *node) call(token, path string, body map[string]any) (baiduAnswer, error) {
	b, _ := json.Marshal(body)
	c := http.Client{Timeout: time.Minute}
	resp, err := c.Post(n.base+path+"?access_token="+url.QueryEscape(token), "application/json", bytes.NewReader(b))
	if err != nil {
		return baiduAnswer{}, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return baiduAnswer{}, err
	}
	var ans baiduAnswer
	if err := json.Unmarshal(raw, &ans); err != nil {
		return baiduAnswer{}, fmt.Errorf("node %s %s: %d %s", n.name, path, resp.StatusCode, raw)
	}
	return ans, nil
}

// ready reports the node's /readyz status code.
func (n *node) ready() int {
	resp, err := http.Get(n.base + "/readyz")
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestTwoNodes runs two facekit serve processes on one PostgreSQL library
// and checks, through the Baidu API: enroll on A / found on B; delete on B
// / gone on A; a restart of PostgreSQL during a search loop (searches keep
// answering, writes fail with the service error, /readyz says so, writes
// resume); and SIGKILL of A during a write loop (every face A
// acknowledged is found on B).
func TestTwoNodes(t *testing.T) {
	if testing.Short() {
		t.Skip("two-node test skipped in -short")
	}
	testenv.ModelDir(t)
	ctx := context.Background()
	dsn := pgtest.NewDatabase(t)
	cfg := defaultConfig()
	cfg.Data = t.TempDir()
	cfg.Library.Backend, cfg.Library.DSN = backendPostgres, dsn
	lib, err := openLibrary(ctx, cfg, libraryUse{create: true})
	if err != nil {
		t.Fatal(err)
	}
	app, secret, err := lib.CreateApp(ctx, "cluster")
	lib.Close()
	if err != nil {
		t.Fatal(err)
	}

	a, b := startNode(t, "A", dsn), startNode(t, "B", dsn)
	ta, tb := a.token(app.APIKey, secret), b.token(app.APIKey, secret)
	photo := func(name string) string {
		data, err := os.ReadFile(testenv.Face(t, name))
		if err != nil {
			t.Fatal(err)
		}
		return base64.StdEncoding.EncodeToString(data)
	}
	bona, jimin := photo("bona.jpg"), photo("jimin.jpg")
	search := func(n *node, tok, img string) (baiduAnswer, error) {
		return n.call(tok, "/rest/2.0/face/v3/search", map[string]any{"image": img, "image_type": "BASE64", "group_id_list": "staff"})
	}
	add := func(n *node, tok, user, img string) (baiduAnswer, error) {
		return n.call(tok, "/rest/2.0/face/v3/faceset/user/add", map[string]any{"image": img, "image_type": "BASE64", "group_id": "staff", "user_id": user})
	}
	finds := func(n *node, tok, img, user string) bool {
		ans, err := search(n, tok, img)
		return err == nil && ans.ErrorCode == 0 && len(ans.Result.UserList) > 0 && ans.Result.UserList[0].UserID == user && ans.Result.UserList[0].Score > 80
	}
	eventually := func(what string, cond func() bool) time.Duration {
		t.Helper()
		start := time.Now()
		for !cond() {
			if time.Since(start) > 30*time.Second {
				t.Fatalf("timed out: %s", what)
			}
			time.Sleep(10 * time.Millisecond)
		}
		return time.Since(start)
	}

	t.Run("EnrollOnASearchOnB", func(t *testing.T) {
		if ans, err := add(a, ta, "bona", bona); err != nil || ans.ErrorCode != 0 {
			t.Fatalf("add on A: %+v, %v", ans, err)
		}
		d := eventually("B finds bona", func() bool { return finds(b, tb, bona, "bona") })
		t.Logf("found on B %v after A acknowledged (includes one search's analysis)", d)
	})
	t.Run("DeleteOnBGoneOnA", func(t *testing.T) {
		if ans, err := add(b, tb, "jimin", jimin); err != nil || ans.ErrorCode != 0 {
			t.Fatalf("add on B: %+v, %v", ans, err)
		}
		eventually("A finds jimin", func() bool { return finds(a, ta, jimin, "jimin") })
		ans, err := b.call(tb, "/rest/2.0/face/v3/faceset/user/delete", map[string]any{"group_id": "staff", "user_id": "jimin"})
		if err != nil || ans.ErrorCode != 0 {
			t.Fatalf("delete on B: %+v, %v", ans, err)
		}
		eventually("A no longer finds jimin", func() bool { return !finds(a, ta, jimin, "jimin") })
	})
	t.Run("RestartPostgresDuringSearchLoop", func(t *testing.T) {
		srv := pgtest.Shared(t)
		stopLoop := make(chan struct{})
		var (
			mu               sync.Mutex
			searches, failed int
			firstFailure     string
			wg               sync.WaitGroup
		)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stopLoop:
					return
				default:
				}
				ok := finds(b, tb, bona, "bona")
				mu.Lock()
				searches++
				if !ok {
					failed++
					if firstFailure == "" {
						ans, err := search(b, tb, bona)
						firstFailure = fmt.Sprintf("%+v %v", ans, err)
					}
				}
				mu.Unlock()
			}
		}()
		time.Sleep(300 * time.Millisecond)
		if err := srv.StopServer(); err != nil {
			t.Fatal(err)
		}
		restarted := false
		defer func() {
			if !restarted {
				srv.StartServer()
			}
		}()
		ans, err := add(b, tb, "down", jimin)
		if err != nil || ans.ErrorCode != 2 {
			t.Errorf("write while PostgreSQL is down: %+v, %v; want error_code 2 (service unavailable)", ans, err)
		}
		if code := b.ready(); code != http.StatusServiceUnavailable {
			t.Errorf("/readyz while PostgreSQL is down: %d", code)
		}
		time.Sleep(time.Second)
		if err := srv.StartServer(); err != nil {
			t.Fatal(err)
		}
		restarted = true
		eventually("a write on B after the restart", func() bool {
			ans, err := add(b, tb, "after", jimin)
			return err == nil && ans.ErrorCode == 0
		})
		eventually("/readyz after the restart", func() bool { return b.ready() == http.StatusOK })
		eventually("A to find what B wrote after the restart", func() bool { return finds(a, ta, jimin, "after") })
		close(stopLoop)
		wg.Wait()
		if failed > 0 || searches < 3 {
			t.Errorf("%d of %d searches during the restart failed (first: %s)", failed, searches, firstFailure)
		}
		t.Logf("%d searches answered across the restart", searches)
	})
	t.Run("KillDuringWriteLoop", func(t *testing.T) {
		var acked []string
		killAfter := 5
		for i := 0; ; i++ {
			user := fmt.Sprintf("k%d", i)
			if len(acked) == killAfter {
				// Kill A while this enrollment is in flight.
				go func() {
					time.Sleep(time.Duration(i%7) * 20 * time.Millisecond)
					a.cmd.Process.Kill()
				}()
			}
			ans, err := add(a, ta, user, bona)
			if err != nil {
				break // A is dead
			}
			if ans.ErrorCode != 0 {
				t.Fatalf("add %s: %+v", user, ans)
			}
			acked = append(acked, user)
			if len(acked) > killAfter+50 {
				t.Fatal("A survived SIGKILL")
			}
		}
		<-a.exit
		for _, user := range acked {
			eventually("B to hold acknowledged "+user, func() bool {
				ans, err := b.call(tb, "/rest/2.0/face/v3/faceset/user/get", map[string]any{"group_id": "staff", "user_id": user})
				return err == nil && ans.ErrorCode == 0
			})
		}
		// And B's index (not only the database) has them.
		ans, err := b.call(tb, "/rest/2.0/face/v3/search", map[string]any{"image": bona, "image_type": "BASE64", "group_id_list": "staff", "max_user_num": 50})
		if err != nil || ans.ErrorCode != 0 {
			t.Fatalf("search on B: %+v, %v", ans, err)
		}
		var found []string
		for _, u := range ans.Result.UserList {
			found = append(found, u.UserID)
		}
		for _, user := range acked {
			if !slices.Contains(found, user) {
				t.Errorf("acknowledged %s not found by B's search (found %v)", user, found)
			}
		}
		t.Logf("A killed after %d acknowledged enrollments; all on B", len(acked))
	})
}
