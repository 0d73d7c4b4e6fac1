package index

import (
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

// blockRows is how many rows a scan scores per kernel call before it folds
// their distances into the running top-k: 4 KB of distances, which stay in
// L1 between the kernel writing them and the reduction reading them.
const blockRows = 1024

// searchGroup returns up to k best users of one group (unsorted).
func (x *Index) searchGroup(g *group, gid string, probe []float32, userID string, k int) []store.Candidate {
	if userID != "" {
		// 1:1 against one user: only its ≤ 20 rows are scored.
		s, ok := g.slotOf[userID]
		if !ok {
			return nil
		}
		best := hit{row: -1}
		for _, r := range g.users[s].rows {
			h := hit{dist: g.rowDistance(probe, r), slot: s, row: r}
			if best.row < 0 || g.betterRow(h, best) {
				best = h
			}
		}
		if best.row < 0 {
			return nil
		}
		return []store.Candidate{g.candidate(gid, best)}
	}

	n := len(g.rowUser)
	workers := runtime.GOMAXPROCS(0)
	if n < parallelRows || workers < 2 {
		top := newTopK(g, k)
		g.scanRange(probe, 0, n, &top)
		return g.candidates(gid, top.items)
	}
	// Each worker keeps the top k users of its share of the rows. A user in
	// the overall top k is in the top k of the worker that holds its nearest
	// row (every user ranked before it there is ranked before it overall),
	// so merging the workers' lists loses nobody.
	tops := make([]topK, workers)
	var wg sync.WaitGroup
	chunk := (n + workers - 1) / workers
	for w := range tops {
		lo, hi := w*chunk, min((w+1)*chunk, n)
		tops[w] = newTopK(g, k)
		if lo >= hi {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			g.scanRange(probe, lo, hi, &tops[w])
		}()
	}
	wg.Wait()
	merged := newTopK(g, k)
	for _, t := range tops {
		for _, h := range t.items {
			merged.offer(h.dist, h.row)
		}
	}
	return g.candidates(gid, merged.items)
}

// scanRange scores rows [lo, hi) block by block and offers each to top.
// Most rows are farther than the k-th user kept so far and cost one compare.
// Big float16 groups read the rows' int8 codes first and score in float16
// only rows that may enter (quant.go), with the same result.
func (g *group) scanRange(probe []float32, lo, hi int, top *topK) {
	if g.useCodes(hi-lo, top.k) {
		g.scanRangeCoded(probe, lo, hi, top)
		return
	}
	g.scanRangePlain(probe, lo, hi, top)
}

// scanRangePlain scores every row of [lo, hi) with the group's kernel.
func (g *group) scanRangePlain(probe []float32, lo, hi int, top *topK) {
	var buf [blockRows]float32
	// bound is the distance of the worst kept user once k are kept: a row
	// farther than it cannot enter.
	bound := float32(math.Inf(1))
	for b := lo; b < hi; b += blockRows {
		e := min(b+blockRows, hi)
		dist := buf[:e-b]
		g.distances(probe, b, dist)
		for i, d := range dist {
			if d > bound {
				continue
			}
			top.offer(d, int32(b+i))
			if len(top.items) == top.k {
				bound = top.items[0].dist
			}
		}
	}
}

// distances sets dist[i] to the squared distance of row lo+i to probe. A
// row scores the same whichever block or worker it falls in, and the same
// as through rowDistance: the kernels treat each row alone.
func (g *group) distances(probe []float32, lo int, dist []float32) {
	hi := lo + len(dist)
	switch {
	case g.half:
		scan128F16(probe, g.halfs[lo*128:hi*128], dist)
	case g.dim == 128:
		scan128(probe, g.vecs[lo*128:hi*128], dist)
	default:
		for i := range dist {
			r := lo + i
			dist[i] = SquaredL2(probe, g.vecs[r*g.dim:(r+1)*g.dim])
		}
	}
}

// rowDistance scores one row with the same kernel as a full scan, so a 1:1
// score equals the 1:N score of the same face bit for bit.
func (g *group) rowDistance(probe []float32, r int32) float32 {
	var d [1]float32
	g.distances(probe, int(r), d[:])
	return d[0]
}

// hit is one row's squared distance, on behalf of the row's user.
type hit struct {
	dist float32
	slot int32
	row  int32
}

// betterRow reports whether a is a better face of its user than b: nearer,
// or as near with the smaller token, so that the reported token is
// deterministic.
func (g *group) betterRow(a, b hit) bool {
	if a.dist != b.dist {
		return a.dist < b.dist
	}
	return g.tokens.less(a.row, b.row)
}

// ranksBefore reports whether user hit a ranks before b: nearer, or as
// near with the smaller user id.
func (g *group) ranksBefore(a, b hit) bool {
	if a.dist != b.dist {
		return a.dist < b.dist
	}
	return g.users[a.slot].id < g.users[b.slot].id
}

func (g *group) candidates(gid string, hits []hit) []store.Candidate {
	out := make([]store.Candidate, len(hits))
	for i, h := range hits {
		out[i] = g.candidate(gid, h)
	}
	return out
}

func (g *group) candidate(gid string, h hit) store.Candidate {
	u := &g.users[h.slot]
	return store.Candidate{
		GroupID:  gid,
		UserID:   u.id,
		Info:     u.info,
		Token:    g.tokens.get(h.row),
		Distance: math.Sqrt(float64(h.dist)),
	}
}

// topK keeps the k best users seen so far, each with its best row, in a
// max-heap whose root is the worst kept user. Once k users are kept the
// root's distance only shrinks, so a row farther than the root can never
// matter again, and a user pushed out never needs to come back with an
// older, farther row.
type topK struct {
	g     *group
	k     int
	items []hit
}

func newTopK(g *group, k int) topK {
	return topK{g: g, k: k, items: make([]hit, 0, min(k, len(g.slotOf)))}
}

// offer considers row r at squared distance d.
func (t *topK) offer(d float32, r int32) {
	h := hit{dist: d, slot: t.g.rowUser[r], row: r}
	// A user already kept improves in place. k is small (the APIs allow at
	// most 50) and few rows get this far, so a linear look-up is cheapest.
	for i := range t.items {
		if t.items[i].slot == h.slot {
			if t.g.betterRow(h, t.items[i]) {
				t.items[i] = h
				t.down(i) // it ranks earlier now: away from the root
			}
			return
		}
	}
	if len(t.items) < t.k {
		t.items = append(t.items, h)
		t.up(len(t.items) - 1)
		return
	}
	if t.g.ranksBefore(h, t.items[0]) {
		t.items[0] = h
		t.down(0)
	}
}

// worse reports whether item i ranks after item j (the heap order).
func (t *topK) worse(i, j int) bool { return t.g.ranksBefore(t.items[j], t.items[i]) }

func (t *topK) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !t.worse(i, p) {
			return
		}
		t.items[i], t.items[p] = t.items[p], t.items[i]
		i = p
	}
}

func (t *topK) down(i int) {
	n := len(t.items)
	for {
		w := i
		if l := 2*i + 1; l < n && t.worse(l, w) {
			w = l
		}
		if r := 2*i + 2; r < n && t.worse(r, w) {
			w = r
		}
		if w == i {
			return
		}
		t.items[i], t.items[w] = t.items[w], t.items[i]
		i = w
	}
}
