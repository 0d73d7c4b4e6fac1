package tfgraph

import "unsafe"

// arena recycles the float buffers of intermediate values within a Run and
// across Runs of one Model. Without it every convolution output is a fresh
// large allocation: MobileFaceNet's activations are up to 1.6 MB, and
// zeroing and page-faulting fresh memory cost about 2 ms of a 14 ms Run
// (CPU profile, one core). Buffers are keyed by exact length: a network
// reuses the same few activation sizes.
//
// A buffer handed to a kernel is "owned" by the arena; Run counts the live
// values whose data lies in it (views such as Reshape share the data) and
// returns it when the count drops to zero. An arena serves one Run at a
// time; Models keep idle arenas in a sync.Pool, so concurrent Runs each
// get their own.
type arena struct {
	free  map[int][][]float32
	owned []ownedBuf
}

type ownedBuf struct {
	buf        []float32
	start, end uintptr
	refs       int
}

func newArena() *arena { return &arena{free: map[int][][]float32{}} }

// get returns an owned buffer of n floats with arbitrary contents.
func (a *arena) get(n int) []float32 {
	if n == 0 {
		return nil
	}
	var b []float32
	if l := a.free[n]; len(l) > 0 {
		b = l[len(l)-1]
		a.free[n] = l[:len(l)-1]
	} else {
		b = make([]float32, n)
	}
	start := uintptr(unsafe.Pointer(&b[0]))
	a.owned = append(a.owned, ownedBuf{buf: b, start: start, end: start + uintptr(n)*4})
	return b
}

// getZero is get with the buffer cleared.
func (a *arena) getZero(n int) []float32 {
	b := a.get(n)
	clear(b)
	return b
}

// find returns the owned buffer holding data, or -1.
func (a *arena) find(data []float32) int {
	if len(data) == 0 {
		return -1
	}
	p := uintptr(unsafe.Pointer(&data[0]))
	for i := range a.owned {
		if p >= a.owned[i].start && p < a.owned[i].end {
			return i
		}
	}
	return -1
}

// retain notes one more live value whose data is v's.
func (a *arena) retain(v *value) {
	if v == nil || v.isInt {
		return
	}
	if i := a.find(v.f); i >= 0 {
		a.owned[i].refs++
	}
}

// release notes that a value whose data is v's is dead, and recycles the
// buffer when it was the last one.
func (a *arena) release(v *value) {
	if v == nil || v.isInt {
		return
	}
	if i := a.find(v.f); i >= 0 {
		if a.owned[i].refs--; a.owned[i].refs <= 0 {
			a.recycle(i)
		}
	}
}

// put returns a kernel's scratch buffer (never seen by a value) at once.
func (a *arena) put(b []float32) {
	if i := a.find(b); i >= 0 {
		a.recycle(i)
	}
}

func (a *arena) recycle(i int) {
	b := a.owned[i].buf
	a.free[len(b)] = append(a.free[len(b)], b)
	a.owned[i] = a.owned[len(a.owned)-1]
	a.owned = a.owned[:len(a.owned)-1]
}

// arenaMaxBytes bounds what an idle arena keeps: a graph run on inputs of
// many sizes (a detector on photos of any size) would otherwise collect
// buffers of every size it ever saw. The largest working set here
// (faceres, 224×224) is about 30 MB.
const arenaMaxBytes = 64 << 20

// reset returns every owned buffer, at the end of a Run whose outputs have
// been copied out, and drops them all if the arena grew past arenaMaxBytes.
func (a *arena) reset() {
	for len(a.owned) > 0 {
		a.recycle(len(a.owned) - 1)
	}
	total := 0
	for n, l := range a.free {
		total += 4 * n * len(l)
	}
	if total > arenaMaxBytes {
		clear(a.free)
	}
}

// alloc returns an output or scratch buffer for a kernel: from the Run's
// arena when it has one (unzeroed), else a fresh slice.
func (rc *runCtx) alloc(n int) []float32 {
	if rc.arena != nil {
		return rc.arena.get(n)
	}
	return make([]float32, n)
}

// allocZero is alloc with the buffer cleared.
func (rc *runCtx) allocZero(n int) []float32 {
	if rc.arena != nil {
		return rc.arena.getZero(n)
	}
	return make([]float32, n)
}

// free returns a kernel's scratch buffer from alloc.
func (rc *runCtx) free(b []float32) {
	if rc.arena != nil {
		rc.arena.put(b)
	}
}
