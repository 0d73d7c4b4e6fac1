package sqlite

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

	"github.com/facekit/facekit/store"
)

// Environment of the crash child: the database to write and the app to
// write as. Set only by TestCrashRecovery.
const (
	crashDBEnv  = "FACEKIT_CRASH_CHILD_DB"
	crashAppEnv = "FACEKIT_CRASH_CHILD_APP"
)

// crashVector is the embedding of the i-th enrolled face; distinct per i so
// the parent can find each face by an exact search.
func crashVector(i int) store.Embedding {
	v := make([]float32, 128)
	for j := range v {
		v[j] = float32(j) / 128
	}
	// i as two small integers: every value is exact in float16 too, so the
	// default (float16) index finds the face at distance 0.
	v[0], v[1] = float32(i%1024), float32(i/1024)
	return emb(v...)
}

func crashFace(i int) (group, user, token string) {
	return fmt.Sprintf("g%d", i%3), fmt.Sprintf("u%d", i/10), fmt.Sprintf("c%d", i)
}

// TestCrashChild is not a test on its own: TestCrashRecovery runs the test
// binary again with only this test selected. It enrolls faces until it is
// killed and prints "committed <i>" after each AddFace returned nil.
func TestCrashChild(t *testing.T) {
	path := os.Getenv(crashDBEnv)
	if path == "" {
		t.Skip("crash child; run by TestCrashRecovery")
	}
	db, err := Open(path, Options{})
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
		// os.Stdout is unbuffered: once Println returns, the line is in the
		// pipe and survives our death.
		fmt.Println("committed", i)
	}
	os.Exit(3) // the parent should have killed us long before
}

// TestCrashRecovery SIGKILLs an enrolling child process at random points
// and requires every enrollment it acknowledged to survive, in an intact
// database and in the rebuilt index.
func TestCrashRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test skipped in -short")
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 1))
	for run := 0; run < 3; run++ {
		killAfter := 50 + r.IntN(250)
		t.Run(fmt.Sprintf("KillAfter%d", killAfter), func(t *testing.T) {
			db, path := MustOpenDB(t, Options{})
			app := MustCreateApp(t, db)
			db.Close()

			cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
			cmd.Env = append(os.Environ(), crashDBEnv+"="+path, crashAppEnv+"="+app)
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
					// A short random pause puts the kill anywhere inside
					// the next transaction, not just between two.
					time.Sleep(time.Duration(r.IntN(3000)) * time.Microsecond)
					if err := cmd.Process.Kill(); err != nil {
						t.Fatal(err)
					}
					killed = true
				}
			}
			err = cmd.Wait()
			if !killed || err == nil {
				t.Fatalf("child ended by itself (%v) after %d commits", err, len(committed))
			}

			db2, err := Open(path, Options{})
			if err != nil {
				t.Fatalf("reopen after crash: %v", err)
			}
			defer db2.Close()
			var check string
			if err := db2.w.QueryRow(`PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
				t.Fatalf("integrity_check = %q, %v", check, err)
			}
			ctx := context.Background()
			for _, i := range committed {
				group, user, token := crashFace(i)
				if _, err := db2.Thumbnail(ctx, app, group, user, token); err != nil {
					t.Fatalf("acknowledged face %s lost: %v", token, err)
				}
				got, err := db2.Search(ctx, app, []string{group}, crashVector(i), user, 1)
				if err != nil || len(got) != 1 || got[0].Token != token || got[0].Distance != 0 {
					t.Fatalf("index after reopen misses face %s: %v, %v", token, got, err)
				}
			}
			var rows int
			db2.r.QueryRow(`SELECT count(*) FROM faces`).Scan(&rows)
			// At most the one in-flight enrollment may have committed
			// without being acknowledged.
			if rows < len(committed) || rows > len(committed)+1 || db2.Index().Len() != rows {
				t.Fatalf("%d faces in table, %d in index, %d acknowledged", rows, db2.Index().Len(), len(committed))
			}
			t.Logf("killed after %d acknowledged enrollments; %d faces on disk", len(committed), rows)
		})
	}
}
