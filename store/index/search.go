package index

import (
	"container/heap"
	"fmt"
	"math"
	"runtime"
	"sort"
	"sync"

	"github.com/facekit/facekit/store"
)

// parallelRows is the group size above which a scan is split across
// GOMAXPROCS goroutines; below it the goroutine start-up and merge cost more
// than they save.
const parallelRows = 50000

// Search returns the k users nearest to probe over the given groups of app,
// one candidate per (group, user) with that user's closest face, ordered by
// distance, then user id, then group id. When userID is non-empty only that
// user is scored (1:1 against a library user). It returns
// store.ErrGroupNotFound for an absent group, store.ErrModelMismatch when a
// group holds faces of another model and store.ErrInvalidEmbedding for a
// malformed probe or one whose length differs from a group's vectors.
func (x *Index) Search(app string, groups []string, probe store.Embedding, userID string, k int) ([]store.Candidate, error) {
	if err := probe.Validate(); err != nil {
		return nil, err
	}
	if len(groups) == 0 {
		return nil, fmt.Errorf("index: no group given: %w", store.ErrGroupNotFound)
	}
	if k <= 0 {
		return nil, nil
	}
	x.mu.RLock()
	defer x.mu.RUnlock()

	var all []store.Candidate
	seen := make(map[string]bool, len(groups))
	for _, gid := range groups {
		if seen[gid] {
			continue
		}
		seen[gid] = true
		g := x.apps[app][gid]
		if g == nil {
			return nil, fmt.Errorf("index: group %q: %w", gid, store.ErrGroupNotFound)
		}
		if len(g.rowUser) == 0 {
			continue
		}
		if probe.Model != g.model {
			return nil, fmt.Errorf("index: group %q holds %q faces, probe is %q: %w", gid, g.model, probe.Model, store.ErrModelMismatch)
		}
		if len(probe.Vector) != g.dim {
			return nil, fmt.Errorf("index: probe length %d, group %q has %d: %w", len(probe.Vector), gid, g.dim, store.ErrInvalidEmbedding)
		}
		all = append(all, x.searchGroup(g, gid, probe.Vector, userID, k)...)
	}
	sortCandidates(all)
	if len(all) > k {
		all = all[:k]
	}
	return all, nil
}

// sortCandidates orders by distance, then user id, then group id, so that
// equal distances come out in a stable, documented order.
func sortCandidates(c []store.Candidate) {
	sort.Slice(c, func(i, j int) bool {
		if c[i].Distance != c[j].Distance {
			return c[i].Distance < c[j].Distance
		}
		if c[i].UserID != c[j].UserID {
			return c[i].UserID < c[j].UserID
		}
		return c[i].GroupID < c[j].GroupID
	})
}

// searchGroup returns up to k best users of one group (unsorted).
func (x *Index) searchGroup(g *group, gid string, probe []float32, userID string, k int) []store.Candidate {
	if userID != "" {
		// 1:1 against one user: only its ≤ 20 rows are scored.
		s, ok := g.slotOf[userID]
		if !ok {
			return nil
		}
		u := &g.users[s]
		best, bestRow := float32(math.Inf(1)), int32(-1)
		for _, r := range u.rows {
			d := g.squaredDistance(probe, r)
			if bestRow < 0 || d < best || d == best && g.rowToken[r] < g.rowToken[bestRow] {
				best, bestRow = d, r
			}
		}
		if bestRow < 0 {
			return nil
		}
		return []store.Candidate{g.candidate(gid, s, bestRow, best)}
	}

	n := len(g.rowUser)
	sc := x.getScratch(n, len(g.users))
	defer x.scratch.Put(sc)
	dist := sc.dist[:n]
	g.distances(probe, dist)

	// Reduce rows to each user's best face. Ties between two faces of one
	// user go to the smaller token so the reported token is deterministic.
	best, bestRow := sc.best[:len(g.users)], sc.bestRow[:len(g.users)]
	for i := range best {
		best[i] = float32(math.Inf(1))
		bestRow[i] = -1
	}
	for r, d := range dist {
		u := g.rowUser[r]
		if br := bestRow[u]; br < 0 || d < best[u] || d == best[u] && g.rowToken[r] < g.rowToken[br] {
			best[u], bestRow[u] = d, int32(r)
		}
	}

	// Keep the k best users in a max-heap whose root is the worst kept.
	h := &candHeap{g: g}
	for s := range best {
		if bestRow[s] < 0 {
			continue
		}
		e := heapEntry{dist: best[s], slot: int32(s)}
		if h.Len() < k {
			heap.Push(h, e)
		} else if h.less(e, h.items[0]) {
			h.items[0] = e
			heap.Fix(h, 0)
		}
	}
	out := make([]store.Candidate, 0, h.Len())
	for _, e := range h.items {
		out = append(out, g.candidate(gid, e.slot, bestRow[e.slot], e.dist))
	}
	return out
}

// squaredDistance scores one row with the same kernel as a full scan, so a
// 1:1 score equals the 1:N score of the same face bit for bit.
func (g *group) squaredDistance(probe []float32, r int32) float32 {
	row := g.vecs[int(r)*g.dim : int(r+1)*g.dim]
	if g.dim == 128 {
		return squaredL2x128(probe, row)
	}
	return SquaredL2(probe, row)
}

func (g *group) candidate(gid string, slot, row int32, sq float32) store.Candidate {
	u := &g.users[slot]
	return store.Candidate{
		GroupID:  gid,
		UserID:   u.id,
		Info:     u.info,
		Token:    g.rowToken[row],
		Distance: math.Sqrt(float64(sq)),
	}
}

// distances fills dist[r] with the squared distance of row r to probe,
// splitting big groups across GOMAXPROCS goroutines.
func (g *group) distances(probe []float32, dist []float32) {
	n := len(dist)
	workers := runtime.GOMAXPROCS(0)
	if n < parallelRows || workers < 2 {
		distanceRange(g.vecs, g.dim, probe, dist, 0, n)
		return
	}
	var wg sync.WaitGroup
	chunk := (n + workers - 1) / workers
	for lo := 0; lo < n; lo += chunk {
		hi := min(lo+chunk, n)
		wg.Add(1)
		go func() {
			defer wg.Done()
			distanceRange(g.vecs, g.dim, probe, dist, lo, hi)
		}()
	}
	wg.Wait()
}

// distanceRange is the hot loop: no allocation, one kernel call per row.
func distanceRange(vecs []float32, dim int, probe, dist []float32, lo, hi int) {
	if dim == 128 {
		for r := lo; r < hi; r++ {
			dist[r] = squaredL2x128(probe, vecs[r*128:r*128+128])
		}
		return
	}
	for r := lo; r < hi; r++ {
		dist[r] = SquaredL2(probe, vecs[r*dim:(r+1)*dim])
	}
}

// scratch holds per-search buffers recycled through Index.scratch.
type scratch struct {
	dist    []float32
	best    []float32
	bestRow []int32
}

func (x *Index) getScratch(rows, users int) *scratch {
	sc, _ := x.scratch.Get().(*scratch)
	if sc == nil {
		sc = &scratch{}
	}
	if cap(sc.dist) < rows {
		sc.dist = make([]float32, rows)
	}
	if cap(sc.best) < users {
		sc.best = make([]float32, users)
		sc.bestRow = make([]int32, users)
	}
	return sc
}

// heapEntry is one user's best squared distance.
type heapEntry struct {
	dist float32
	slot int32
}

// candHeap is a max-heap: the root is the worst of the kept candidates.
type candHeap struct {
	g     *group
	items []heapEntry
}

// less reports whether a ranks before b (nearer, or as near with a smaller
// user id).
func (h *candHeap) less(a, b heapEntry) bool {
	if a.dist != b.dist {
		return a.dist < b.dist
	}
	return h.g.users[a.slot].id < h.g.users[b.slot].id
}

func (h *candHeap) Len() int           { return len(h.items) }
func (h *candHeap) Less(i, j int) bool { return h.less(h.items[j], h.items[i]) }
func (h *candHeap) Swap(i, j int)      { h.items[i], h.items[j] = h.items[j], h.items[i] }
func (h *candHeap) Push(v any)         { h.items = append(h.items, v.(heapEntry)) }
func (h *candHeap) Pop() any {
	n := len(h.items) - 1
	v := h.items[n]
	h.items = h.items[:n]
	return v
}
