// Package index holds every enrolled embedding in memory for exhaustive 1:N
// search. Embeddings are kept per (app, group) in one contiguous row-major
// float32 matrix so that a scan streams through memory; per-row slices name
// the user and face token of each row.
//
// The index is not a source of truth: store/sqlite rebuilds it at open and
// applies each write after the write has committed. An Index is safe for
// concurrent use: searches share a read lock and so always see the state
// between two whole updates, never half of one.
package index

import (
	"fmt"
	"sync"

	"github.com/facekit/facekit/store"
)

// Index is the in-memory search index of all applications.
type Index struct {
	mu   sync.RWMutex
	apps map[string]map[string]*group // app -> group id -> group
	rows int                          // total rows, for Len

	// scratch recycles the per-search distance and per-user buffers so
	// that a search of a big group does not allocate megabytes each time.
	scratch sync.Pool
}

// group is one (app, group) of the library. All rows share model and dim.
type group struct {
	model string // "" while the group has no faces
	dim   int

	vecs     []float32 // len = rows*dim, row r at vecs[r*dim:(r+1)*dim]
	rowUser  []int32   // user slot of each row
	rowToken []string  // face token of each row

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

// New returns an empty index.
func New() *Index {
	return &Index{apps: make(map[string]map[string]*group)}
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
	} else if e.Model != g.model {
		return fmt.Errorf("index: group %q holds %q faces, not %q: %w", groupID, g.model, e.Model, store.ErrModelMismatch)
	} else if len(e.Vector) != g.dim {
		return fmt.Errorf("index: vector length %d, group %q has %d: %w", len(e.Vector), groupID, g.dim, store.ErrInvalidEmbedding)
	}
	slot := g.userSlot(u.UserID)
	g.users[slot].info = u.Info
	row := int32(len(g.rowUser))
	g.vecs = append(g.vecs, e.Vector...)
	g.rowUser = append(g.rowUser, slot)
	g.rowToken = append(g.rowToken, token)
	g.users[slot].rows = append(g.users[slot].rows, row)
	w.x.rows++
	return nil
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
		if g.rowToken[r] == token {
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
		copy(g.vecs[int(r)*g.dim:int(r+1)*g.dim], g.vecs[int(last)*g.dim:int(last+1)*g.dim])
		g.rowUser[r] = g.rowUser[last]
		g.rowToken[r] = g.rowToken[last]
		moved := &g.users[g.rowUser[r]]
		for i, rr := range moved.rows {
			if rr == last {
				moved.rows[i] = r
				break
			}
		}
	}
	g.vecs = g.vecs[:int(last)*g.dim]
	g.rowUser = g.rowUser[:last]
	g.rowToken[last] = "" // let the string be collected
	g.rowToken = g.rowToken[:last]
}
