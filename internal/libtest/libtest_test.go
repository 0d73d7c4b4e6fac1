package libtest

import (
	"context"
	"testing"
	"time"

	"github.com/facekit/facekit/store"
)

func TestMain(m *testing.M) { Main(m) }

// TestOpen: each Open is a new, empty, working library of the round's
// backend, however many came before. Reports the cost of one Open.
func TestOpen(t *testing.T) {
	ctx := context.Background()
	start := time.Now()
	const n = 5
	for i := range n {
		t0 := time.Now()
		lib := Open(t, nil)
		t.Logf("open %d: %v", i, time.Since(t0))
		if apps, err := lib.ListGroups(ctx, "nope", 0, 10); err != nil || len(apps) != 0 {
			t.Fatalf("open %d: groups %v, %v", i, apps, err)
		}
		a, _, err := lib.CreateApp(ctx, "x")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := lib.AddFace(ctx, a.ID, store.User{GroupID: "g", UserID: "u"},
			store.Face{Embedding: store.Embedding{Model: "m", Vector: []float32{1}}}, store.ActionAppend); err != nil {
			t.Fatal(err)
		}
		if lib.Index().Len() != 1 {
			t.Fatalf("open %d: index holds %d faces", i, lib.Index().Len())
		}
	}
	t.Logf("%s: %v per Open", Backend(), time.Since(start)/n)
}
