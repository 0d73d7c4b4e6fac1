package index

// Shortlist reports, for a top-k search of probe in one group, how many
// rows the int8 prefilter leaves to be scored in float16 and how many rows
// the group has; rescored is -1 when the group is searched without codes.
// Tests outside the package log it.
func (x *Index) Shortlist(app, groupID string, probe []float32, k int) (rescored, rows int) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	g := x.apps[app][groupID]
	if g == nil {
		return -1, 0
	}
	rows = len(g.rowUser)
	if !g.useCodes(rows, k) {
		return -1, rows
	}
	top := newTopK(g, k)
	return g.scanRangeCoded(probe, 0, rows, &top), rows
}
