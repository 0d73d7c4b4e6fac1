package postgres

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/facekit/facekit/internal/pgtest"
	"github.com/facekit/facekit/store"
)

// Environment of the crash child, set only by TestCrashRecovery.
const (
	crashDSNEnv = "FACEKIT_PG_CRASH_CHILD_DSN"
	crashAppEnv = "FACEKIT_PG_CRASH_CHILD_APP"
)

// crashVector is the embedding of the i-th enrolled face, exact in
// float16 so the default index finds it at distance 0.
func crashVector(i int) store.Embedding {
	v := make([]float32, 128)
	for j := range v {
		v[j] = float32(j) / 128
	}
	v[0], v[1] = float32(i%1024), float32(i/1024)
	return emb(v...)
}

func crashFace(i int) (group, user, token string) {
	return fmt.Sprintf("g%d", i%3), fmt.Sprintf("u%d", i/10), fmt.Sprintf("c%d", i)
}

// TestCrashChild is run by TestCrashRecovery in a child process: it
// enrolls faces until killed, printing "committed <i>" after each AddFace
// returned nil.
func TestCrashChild(t *testing.T) {
	dsn := os.Getenv(crashDSNEnv)
	if dsn == "" {
		t.Skip("crash child; run by TestCrashRecovery")
	}
	db, err := Open(context.Background(), dsn, Options{})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
	app := os.Getenv(crashAppEnv)
	for i := 0; i < 1_000_000; i++ {
		group, user, token := crashFace(i)
		_, err := db.AddFace(context.Background(), app, store.User{GroupID: group, UserID: user, Info: "crash"},
			store.Face{Token: token, Embedding: crashVector(i), Thumbnail: make([]byte, 2048)}, store.ActionAppend)
		if err != nil {
			fmt.Println("error", err)
			os.Exit(2)
		}
		fmt.Println("committed", i)
	}
	os.Exit(3)
}

// TestCrashRecovery SIGKILLs a node (a child process) in the middle of
// enrolling while a second node follows: every enrollment the killed node
// acknowledged is in the database and, without a restart, in the
// surviving node's index.
func TestCrashRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test skipped in -short")
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 1))
	killAfter := 50 + r.IntN(250)
	dsn := pgtest.NewDatabase(t)
	survivor := mustOpen(t, dsn, Options{})
	app := mustApp(t, survivor)

	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashDSNEnv+"="+dsn, crashAppEnv+"="+app)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var committed []int
	killed := false
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "error") {
			t.Errorf("child: %s", line)
		}
		n, ok := strings.CutPrefix(line, "committed ")
		if !ok {
			continue
		}
		i, err := strconv.Atoi(n)
		if err != nil {
			t.Fatalf("child printed %q", line)
		}
		committed = append(committed, i)
		if !killed && len(committed) >= killAfter {
			time.Sleep(time.Duration(r.IntN(3000)) * time.Microsecond)
			if err := cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			killed = true
		}
	}
	if err := cmd.Wait(); !killed || err == nil {
		t.Fatalf("child ended by itself (%v) after %d commits", err, len(committed))
	}

	ctx := context.Background()
	if err := survivor.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	for _, i := range committed {
		group, user, token := crashFace(i)
		if _, err := survivor.Thumbnail(ctx, app, group, user, token); err != nil {
			t.Fatalf("acknowledged face %s lost: %v", token, err)
		}
		got, err := survivor.Search(ctx, app, []string{group}, crashVector(i), user, 1)
		if err != nil || len(got) != 1 || got[0].Token != token || got[0].Distance != 0 {
			t.Fatalf("surviving node's index misses face %s: %v, %v", token, got, err)
		}
	}
	var rows int
	survivor.pool.QueryRow(ctx, `SELECT count(*) FROM faces`).Scan(&rows)
	if rows < len(committed) || rows > len(committed)+1 || survivor.Index().Len() != rows {
		t.Fatalf("%d faces in table, %d in index, %d acknowledged", rows, survivor.Index().Len(), len(committed))
	}
	t.Logf("killed after %d acknowledged enrollments; %d faces stored", len(committed), rows)
}
