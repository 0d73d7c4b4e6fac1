// Package index holds every enrolled embedding in memory for exhaustive 1:N
// search. Embeddings are kept per (app, group) in one contiguous row-major
// matrix so that a scan streams through memory; per-row slices name the user
// and face token of each row.
//
// 128-d rows (dlib descriptors) are stored as IEEE float16 by default: half
// the memory and half the bytes a scan streams, with the probe kept in
// float32 and each row widened exactly, so only the rounding of the stored
// vector (relative error ≤ 2⁻¹¹, distance error ~1e-4 against same-person
// thresholds of ~0.4-0.6) differs from float32 search. Float32 storage is an
// option (Options.Precision); other dimensions are always float32.
//
// Each float16 row also keeps an int8 code (128 bytes) and the norm of its
// quantisation error. A search of a big float16 group scans the codes
// first, which bounds every row's distance from below, and scores in
// float16 only the few rows the bound cannot rule out; the result is the
// plain float16 scan's, bit for bit, at about half the bytes streamed
// (quant.go).
//
// The index is not a source of truth: store/sqlite rebuilds it at open and
// applies each write after the write has committed. An Index is safe for
// concurrent use: searches share a read lock and so always see the state
// between two whole updates, never half of one.
package index

import (
	"fmt"
	"slices"
	"sync"

	"github.com/facekit/facekit/store"
)

// Precision is how an index stores 128-d rows.
type Precision string

const (
	// Float16 stores 128-d rows as IEEE binary16 (2 bytes a value), with
	// int8 codes for a prefilter. It is the default: a 1M-face library fits
	// in under 600 MB and scans in about a third of float32's time, and on
	// real descriptors its recall@1 is that of
	// float32 within 0.1%; the nearest user changes only where float32
	// sees a near tie (see docs/benchmarks.md).
	Float16 Precision = "float16"
	// Float32 stores rows exactly as given (4 bytes a value).
	Float32 Precision = "float32"
)

// ParsePrecision accepts "float16", "float32" or "" (the default, Float16).
func ParsePrecision(s string) (Precision, error) {
	switch p := Precision(s); p {
	case "":
		return Float16, nil
	case Float16, Float32:
		return p, nil
	}
	return "", fmt.Errorf("index: precision %q: want float16 or float32", s)
}

// Options configure an Index. The zero value is the default.
type Options struct {
	// Precision of stored 128-d rows; "" means Float16.
	Precision Precision
}

// Index is the in-memory search index of all applications.
type Index struct {
	half bool // store 128-d rows as float16

	mu   sync.RWMutex
	apps map[string]map[string]*group // app -> group id -> group
	rows int                          // total rows, for Len
}

// group is one (app, group) of the library. All rows share model and dim.
type group struct {
	model string // "" while the group has no faces
	dim   int
	half  bool // rows are in halfs (128-d float16), not vecs

	vecs    []float32 // float32 rows: row r at vecs[r*dim:(r+1)*dim]
	halfs   []uint16  // float16 rows: row r at halfs[r*128:(r+1)*128]
	rowUser []int32   // user slot of each row
	tokens  tokenColumn
	reserve int // expected rows (Writer.Reserve), for the first allocation

	// Int8 codes of float16 rows for the search prefilter (quant.go):
	// row r at codes[r*128:(r+1)*128], the norm of its quantisation error
	// at codeErr[r]; codeErrMax ≥ every codeErr (removals leave it high).
	codes      []int8
	codeErr    []float32
	codeScale  float64 // the value of one code step
	codeErrMax float32

	users     []userEntry // slots; a free slot has id ""
	freeSlots []int32
	slotOf    map[string]int32 // user id -> slot
}

// userEntry is one user of a group. rows lists the user's rows (≤ 20).
type userEntry struct {
	id   string
	info string
	rows []int32
}

// New returns an empty index with the default options.
func New() *Index {
	x, _ := NewWithOptions(Options{})
	return x
}

// NewWithOptions returns an empty index; it fails on an unknown precision.
func NewWithOptions(o Options) (*Index, error) {
	p, err := ParsePrecision(string(o.Precision))
	if err != nil {
		return nil, err
	}
	return &Index{half: p == Float16, apps: make(map[string]map[string]*group)}, nil
}

// Precision returns how the index stores 128-d rows.
func (x *Index) Precision() Precision {
	if x.half {
		return Float16
	}
	return Float32
}

// Len returns the number of faces in the index.
func (x *Index) Len() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.rows
}

// GroupLen returns the number of faces and users in a group, and whether
// the group exists.
func (x *Index) GroupLen(app, groupID string) (faces, users int, ok bool) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	g := x.apps[app][groupID]
	if g == nil {
		return 0, 0, false
	}
	return len(g.rowUser), len(g.slotOf), true
}

// Update runs fn with exclusive access to the index. All changes made by
// fn become visible to searches together, when fn returns.
func (x *Index) Update(fn func(w *Writer) error) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	return fn(&Writer{x: x})
}

// Writer changes the index. It is valid only inside the Update call that
// handed it out.
type Writer struct {
	x *Index
}

// Reset empties the index, for a reload from the database.
func (w *Writer) Reset() {
	w.x.apps = make(map[string]map[string]*group)
	w.x.rows = 0
}

// AddGroup makes sure the group exists (empty groups are searchable and
// return no candidates).
func (w *Writer) AddGroup(app, groupID string) {
	w.group(app, groupID)
}

func (w *Writer) group(app, groupID string) *group {
	a := w.x.apps[app]
	if a == nil {
		a = make(map[string]*group)
		w.x.apps[app] = a
	}
	g := a[groupID]
	if g == nil {
		g = &group{slotOf: make(map[string]int32)}
		a[groupID] = g
	}
	return g
}

// Reserve makes sure the group exists and sizes its storage for faces rows
// when its first face arrives, so that loading a big library does not
// regrow (and briefly double) the matrix again and again.
func (w *Writer) Reserve(app, groupID string, faces int) {
	g := w.group(app, groupID)
	if len(g.rowUser) == 0 {
		g.reserve = faces
	}
}

// RemoveGroup drops a group with all its faces.
func (w *Writer) RemoveGroup(app, groupID string) {
	a := w.x.apps[app]
	if g := a[groupID]; g != nil {
		w.x.rows -= len(g.rowUser)
		delete(a, groupID)
	}
	if len(a) == 0 {
		delete(w.x.apps, app)
	}
}

// AddFace appends one face of user (creating the group and user) and sets
// the user's info. It returns store.ErrModelMismatch when the group holds
// faces of another model and store.ErrInvalidEmbedding when the vector is
// malformed or its length differs from the group's.
func (w *Writer) AddFace(app, groupID string, u store.User, token string, e store.Embedding) error {
	if err := e.Validate(); err != nil {
		return err
	}
	g := w.group(app, groupID)
	if len(g.rowUser) == 0 {
		// An empty group takes the model of its first face.
		g.model, g.dim = e.Model, len(e.Vector)
		g.half = w.x.half && g.dim == 128 && fitsFloat16(e.Vector)
		g.vecs, g.halfs = g.vecs[:0], g.halfs[:0]
		g.codes, g.codeErr = g.codes[:0], g.codeErr[:0]
		g.codeScale, g.codeErrMax = 0, 0
		if n := g.reserve; n > 0 {
			g.reserve = 0
			if g.half {
				g.halfs = make([]uint16, 0, n*128)
				g.codes = make([]int8, 0, n*128)
				g.codeErr = make([]float32, 0, n)
			} else {
				g.vecs = make([]float32, 0, n*g.dim)
			}
			g.rowUser = make([]int32, 0, n)
			g.tokens.grow(n)
		}
	} else if e.Model != g.model {
		return fmt.Errorf("index: group %q holds %q faces, not %q: %w", groupID, g.model, e.Model, store.ErrModelMismatch)
	} else if len(e.Vector) != g.dim {
		return fmt.Errorf("index: vector length %d, group %q has %d: %w", len(e.Vector), groupID, g.dim, store.ErrInvalidEmbedding)
	}
	if g.half && !fitsFloat16(e.Vector) {
		g.widen()
	}
	slot := g.userSlot(u.UserID)
	g.users[slot].info = u.Info
	row := int32(len(g.rowUser))
	if g.half {
		n := len(g.halfs)
		g.halfs = slices.Grow(g.halfs, 128)[:n+128]
		toFloat16(g.halfs[n:], e.Vector)
		g.codes = slices.Grow(g.codes, 128)[:n+128]
		g.codeErr = append(g.codeErr, 0)
		g.codeRow(int(row))
	} else {
		g.vecs = append(g.vecs, e.Vector...)
	}
	g.rowUser = append(g.rowUser, slot)
	g.tokens.append(token)
	g.users[slot].rows = append(g.users[slot].rows, row)
	w.x.rows++
	return nil
}

// fitsFloat16 reports whether every value of v is within float16's finite
// range. Descriptors are far inside it (|x| < 1); a model whose vectors are
// not keeps its groups in float32 rather than turn values into infinities.
func fitsFloat16(v []float32) bool {
	for _, x := range v {
		if x > maxFloat16 || x < -maxFloat16 {
			return false
		}
	}
	return true
}

// maxFloat16 is the largest finite IEEE binary16 value.
const maxFloat16 = 65504

// widen converts a float16 group to float32 storage (exactly: every half is
// a float32).
func (g *group) widen() {
	g.vecs = make([]float32, len(g.halfs), cap(g.halfs))
	for i, h := range g.halfs {
		g.vecs[i] = fromFloat16(h)
	}
	g.halfs, g.half = nil, false
	g.codes, g.codeErr = nil, nil
}

// userSlot returns the slot of user id, allocating one if needed.
func (g *group) userSlot(id string) int32 {
	if s, ok := g.slotOf[id]; ok {
		return s
	}
	var s int32
	if n := len(g.freeSlots); n > 0 {
		s = g.freeSlots[n-1]
		g.freeSlots = g.freeSlots[:n-1]
		g.users[s] = userEntry{id: id}
	} else {
		s = int32(len(g.users))
		g.users = append(g.users, userEntry{id: id})
	}
	g.slotOf[id] = s
	return s
}

// SetUserInfo changes the info of an existing user; unknown users are
// ignored.
func (w *Writer) SetUserInfo(app, groupID, userID, info string) {
	g := w.x.apps[app][groupID]
	if g == nil {
		return
	}
	if s, ok := g.slotOf[userID]; ok {
		g.users[s].info = info
	}
}

// RemoveFace removes one face; a user left without faces is removed too.
// Unknown faces are ignored.
func (w *Writer) RemoveFace(app, groupID, userID, token string) {
	g := w.x.apps[app][groupID]
	if g == nil {
		return
	}
	s, ok := g.slotOf[userID]
	if !ok {
		return
	}
	for _, r := range g.users[s].rows {
		if g.tokens.is(r, token) {
			g.removeRow(r)
			w.x.rows--
			break
		}
	}
	g.dropIfEmpty(s)
}

// RemoveUser removes a user with all its faces from a group.
func (w *Writer) RemoveUser(app, groupID, userID string) {
	g := w.x.apps[app][groupID]
	if g == nil {
		return
	}
	s, ok := g.slotOf[userID]
	if !ok {
		return
	}
	for len(g.users[s].rows) > 0 {
		g.removeRow(g.users[s].rows[0])
		w.x.rows--
	}
	g.dropIfEmpty(s)
}

func (g *group) dropIfEmpty(s int32) {
	if len(g.users[s].rows) > 0 {
		return
	}
	delete(g.slotOf, g.users[s].id)
	g.users[s] = userEntry{}
	g.freeSlots = append(g.freeSlots, s)
	if len(g.rowUser) == 0 {
		// An empty group may take faces of another model next.
		g.model, g.dim = "", 0
	}
}

// removeRow deletes row r by moving the last row into its place, so the
// matrix stays contiguous; only the moved row's owner needs fixing.
func (g *group) removeRow(r int32) {
	u := &g.users[g.rowUser[r]]
	for i, rr := range u.rows {
		if rr == r {
			u.rows = append(u.rows[:i], u.rows[i+1:]...)
			break
		}
	}
	last := int32(len(g.rowUser) - 1)
	if r != last {
		if g.half {
			copy(g.halfs[int(r)*128:int(r+1)*128], g.halfs[int(last)*128:int(last+1)*128])
			copy(g.codes[int(r)*128:int(r+1)*128], g.codes[int(last)*128:int(last+1)*128])
			g.codeErr[r] = g.codeErr[last]
		} else {
			copy(g.vecs[int(r)*g.dim:int(r+1)*g.dim], g.vecs[int(last)*g.dim:int(last+1)*g.dim])
		}
		g.rowUser[r] = g.rowUser[last]
		moved := &g.users[g.rowUser[r]]
		for i, rr := range moved.rows {
			if rr == last {
				moved.rows[i] = r
				break
			}
		}
	}
	g.tokens.move(r, last)
	if g.half {
		g.halfs = g.halfs[:int(last)*128]
		g.codes = g.codes[:int(last)*128]
		g.codeErr = g.codeErr[:last]
	} else {
		g.vecs = g.vecs[:int(last)*g.dim]
	}
	g.rowUser = g.rowUser[:last]
}
