package remote

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"sort"
	"time"

	"github.com/facekit/facekit/eval"
	"github.com/facekit/facekit/store/registry"
)

// SubjectName is the name every synthetic registry record carries: the
// dialects check the name against the record, and one name for all keeps
// the ID number the only key.
const SubjectName = "评测样本"

// syntheticRegion is the address code of the synthetic ID numbers
// (110105, Beijing Chaoyang: any valid province code would do).
const syntheticRegion = "110105"

// Subjects assigns each photo a synthetic resident ID number that passes
// GB 11643 (valid region, birth date between 1950 and 1999, check digit).
// The number is derived from a hash of the path, so reruns and other pair
// subsets give a photo the same number; the rare collision is resolved by
// taking the next free sequence number, in path order.
func Subjects(paths []string) map[string]Subject {
	sorted := append([]string(nil), paths...)
	sort.Strings(sorted)
	out := make(map[string]Subject, len(sorted))
	used := map[string]bool{}
	base := time.Date(1950, 1, 1, 0, 0, 0, 0, time.UTC)
	const days = 50 * 365
	for _, p := range sorted {
		if _, dup := out[p]; dup {
			continue
		}
		h := sha256.Sum256([]byte(p))
		v := binary.BigEndian.Uint64(h[:8])
		day := base.AddDate(0, 0, int(v%days))
		seq := int(v / days % 1000)
		for k := 0; ; k++ {
			first17 := fmt.Sprintf("%s%s%03d", syntheticRegion, day.Format("20060102"), (seq+k)%1000)
			id := first17 + string(registry.CheckDigit(first17))
			if !used[id] {
				used[id] = true
				out[p] = Subject{IDNumber: id, Name: SubjectName}
				break
			}
			if k == 999 {
				day = day.AddDate(0, 0, 1)
				k = -1
			}
		}
	}
	return out
}

// FirstPhotos returns the distinct first photos of pairs: the ones a
// registry must hold.
func FirstPhotos(pairs []eval.Pair) []string {
	seen := map[string]bool{}
	var out []string
	for _, p := range pairs {
		if !seen[p.A] {
			seen[p.A] = true
			out = append(out, p.A)
		}
	}
	return out
}

// Adder is what WriteRegistry needs of a registry store
// (*sqlitesrc.Source).
type Adder interface {
	Add(ctx context.Context, p registry.Photo) error
}

// WriteRegistry registers the first photo of every pair under its subject
// (replacing earlier records of the same number, so it can be rerun) and
// returns the subjects. A photo the registry refuses (not JPEG or PNG, too
// large) is an error naming it.
func WriteRegistry(ctx context.Context, reg Adder, pairs []eval.Pair, load Load) (map[string]Subject, error) {
	first := FirstPhotos(pairs)
	subj := Subjects(first)
	for _, p := range first {
		data, err := load(p)
		if err != nil {
			return nil, fmt.Errorf("remote: registry: %w", err)
		}
		s := subj[p]
		if err := reg.Add(ctx, registry.Photo{IDNumber: s.IDNumber, Name: s.Name, Image: data}); err != nil {
			return nil, fmt.Errorf("remote: registry: %s: %w", p, err)
		}
	}
	return subj, nil
}

func shortHash(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:4])
}
