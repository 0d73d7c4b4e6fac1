package service

import (
	"context"
	"fmt"
	"math"

	"github.com/facekit/facekit/descriptor"
	"github.com/facekit/facekit/store"
)

// Distance is the distance between two faces' descriptors under their
// model's metric (Euclidean for the dlib ResNet, cosine for the TF.js
// models), the distance the calibration curve of that model takes. Faces of
// one service always share its model; faces of different models, or a face
// without a descriptor, are infinitely far apart (they never match).
func Distance(a, b Face) float64 {
	d, err := descriptor.Compare(descriptor.Stored{Model: a.Model, Vector: a.Vector}, descriptor.Stored{Model: b.Model, Vector: b.Vector})
	if err != nil {
		return math.Inf(1)
	}
	return d
}

// Search finds up to k users of groups nearest to face (only userID when it
// is not empty), with each candidate's distance under the model's metric.
// Returns the store's errors (ErrGroupNotFound, ...).
func (s *Service) Search(ctx context.Context, app string, groups []string, face Face, userID string, k int) ([]store.Candidate, error) {
	cands, err := s.deps.Searcher.Search(ctx, app, groups, face.Embedding(), userID, k)
	if err != nil {
		return nil, fmt.Errorf("service: search: %w", err)
	}
	// The index ranks by Euclidean distance; the cosine models' vectors
	// are unit length, so the ranking is the same and the cosine distance
	// is d²/2.
	if s.metric == descriptor.Cosine {
		for i := range cands {
			cands[i].Distance = cands[i].Distance * cands[i].Distance / 2
		}
	}
	return cands, nil
}
