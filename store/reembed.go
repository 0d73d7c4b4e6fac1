package store

import (
	"context"
	"errors"
)

// ErrNotStaged means a model switch was asked for while some faces in its
// scope have no descriptor of the new model staged yet.
var ErrNotStaged = errors.New("store: faces without a staged descriptor of the new model")

// SourceFace is a library face as a re-embedding run sees it: where it
// belongs, its current model and the pixels to describe it again from.
type SourceFace struct {
	// ID identifies the face's row; it orders a run and lets it resume.
	ID      int64
	App     string
	GroupID string
	UserID  string
	Token   string
	Model   string
	// Source is nil for a face enrolled without a source crop: it cannot
	// be described under another model.
	Source *SourceCrop
}

// StagedEmbedding is a face's descriptor under the model being migrated
// to, waiting for the switch.
type StagedEmbedding struct {
	ID     int64
	Token  string // must still be the face's token (guards a reused row id)
	Vector []float32
}

// SwapResult counts what a model switch changed.
type SwapResult struct {
	// Faces is the number of faces whose descriptor was replaced.
	Faces int
	// FaceTokens is the number of cached detected faces of other models
	// dropped (their descriptors no longer compare with the library's).
	FaceTokens int
}

// Reembedder is what `facekit reembed` needs of a library: faces still to
// describe under a model, somewhere to stage their new descriptors, and
// one atomic switch. app "" means every application.
type Reembedder interface {
	// PendingFaces returns up to limit faces of app with ID > after that
	// are neither of model nor have a descriptor of model staged, in ID
	// order.
	PendingFaces(ctx context.Context, app, model string, after int64, limit int) ([]SourceFace, error)
	// StageEmbeddings stores descriptors of model for faces, all in one
	// transaction, and returns how many faces still existed to take them.
	// Returns store.ErrInvalidEmbedding for a malformed vector.
	StageEmbeddings(ctx context.Context, model string, staged []StagedEmbedding) (int, error)
	// SwapModel makes the staged descriptors of model the faces'
	// descriptors in one transaction and drops cached face tokens of other
	// models. Returns ErrNotStaged (nothing changed) while some face of the
	// scope is neither of model nor staged.
	SwapModel(ctx context.Context, app, model string) (SwapResult, error)
	// ModelCounts returns the number of faces per model in app.
	ModelCounts(ctx context.Context, app string) (map[string]int, error)
}
