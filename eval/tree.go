package eval

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// ErrEmptyTree means a photo tree holds no usable images.
var ErrEmptyTree = errors.New("eval: no images in the photo tree")

// TreeImage is one photo of a labelled tree.
type TreeImage struct {
	// Path is relative to the tree's root, with forward slashes.
	Path string `json:"path"`
	// Identity is who the photo shows: the top-level folder under the root,
	// or, for a photo directly in the root, its file-name stem without
	// trailing digits (jimin3.jpg → jimin).
	Identity string `json:"identity"`
	// Session is the capture session read from the file name by
	// TreeOptions.Session; "" when there is no pattern or it does not match.
	Session string `json:"session,omitempty"`
}

// TreeOptions tunes how a tree is read.
type TreeOptions struct {
	// Session, when set, is matched against each file's base name and its
	// first submatch names the capture session: two photos of one person
	// are then a genuine pair only when their sessions differ (and both are
	// known). Frames of one video session are near duplicates, which would
	// make verification look easier than it is.
	Session *regexp.Regexp
}

// imageExts are the file types a tree's photos may have.
var imageExts = map[string]bool{".jpg": true, ".jpeg": true, ".png": true, ".bmp": true, ".gif": true, ".webp": true, ".tif": true, ".tiff": true}

// ScanTree lists the photos of a labelled tree rooted at root, sorted by
// path. Hidden files and directories and files that are not images are
// ignored.
func ScanTree(root string, opts TreeOptions) ([]TreeImage, error) {
	var out []TreeImage
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if p != root && strings.HasPrefix(name, ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() || !imageExts[strings.ToLower(filepath.Ext(name))] {
			return nil
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		im := TreeImage{Path: rel, Identity: identityOf(rel)}
		if opts.Session != nil {
			if m := opts.Session.FindStringSubmatch(name); len(m) > 1 {
				im.Session = m[1]
			}
		}
		out = append(out, im)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("eval: scan tree %s: %w", root, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: %s", ErrEmptyTree, root)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// identityOf labels a path relative to the root: its top-level folder, or
// for a file in the root its stem without trailing digits.
func identityOf(rel string) string {
	if i := strings.IndexByte(rel, '/'); i >= 0 {
		return rel[:i]
	}
	stem := strings.TrimSuffix(rel, filepath.Ext(rel))
	if id := strings.TrimRight(stem, "0123456789"); id != "" {
		return id
	}
	return stem
}

// TreeStats counts what TreePairs made of a tree.
type TreeStats struct {
	Images     int `json:"images"`     // usable images paired
	Identities int `json:"identities"` // distinct identities among them
	Genuine    int `json:"genuine_pairs"`
	Impostor   int `json:"impostor_pairs"`
	// SameSession is how many same-person pairs were left out because
	// both photos come from one capture session (or a session is unknown).
	SameSession int `json:"same_session_pairs_left_out,omitempty"`
}

// TreePairs returns every pair of the images that keep accepts (nil keeps
// all): same identity is genuine (across sessions when sessions are known,
// see TreeOptions.Session), different identity is impostor. Pairs are put in
// DefaultFolds stratified folds as the plain pairs format is, so the k-fold
// protocol applies unchanged.
func TreePairs(images []TreeImage, keep func(path string) bool, sessions bool) ([]Pair, TreeStats) {
	var use []TreeImage
	ids := map[string]bool{}
	for _, im := range images {
		if keep == nil || keep(im.Path) {
			use = append(use, im)
			ids[im.Identity] = true
		}
	}
	st := TreeStats{Images: len(use), Identities: len(ids)}
	var pairs []Pair
	for i := 0; i < len(use); i++ {
		for j := i + 1; j < len(use); j++ {
			a, b := use[i], use[j]
			same := a.Identity == b.Identity
			if same && sessions && (a.Session == "" || a.Session == b.Session) {
				st.SameSession++
				continue
			}
			p := Pair{A: a.Path, B: b.Path, Same: same}
			if same {
				p.Fold = st.Genuine % DefaultFolds
				st.Genuine++
			} else {
				p.Fold = st.Impostor % DefaultFolds
				st.Impostor++
			}
			pairs = append(pairs, p)
		}
	}
	return pairs, st
}
