// Package reembed migrates a face library to another descriptor model
// (`facekit reembed`). Every face is described again from its source crop
// (descriptor/sourcecrop) and the new vector is staged beside the current
// one, a batch per transaction, so a run can be killed at any point and
// resumed: faces already staged are not described again. When every face in
// scope is staged, one transaction swaps the staged vectors in and drops the
// cached face tokens of the old model; until then searches go on unchanged.
// Faces without a source crop cannot be described again: they block the
// swap until they are re-enrolled or removed (Options.DeleteMissing).
package reembed

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"

	"github.com/facekit/facekit/descriptor"
	"github.com/facekit/facekit/descriptor/sourcecrop"
	"github.com/facekit/facekit/store"
)

// ErrUndescribable means some faces in scope have no usable source crop,
// so the library was not switched; Summary.Missing lists them.
var ErrUndescribable = errors.New("reembed: faces without a usable source crop")

// Library is what a run needs of the face library (*sqlite.DB).
type Library interface {
	store.Reembedder
	// DeleteFace removes one face (used by Options.DeleteMissing).
	DeleteFace(ctx context.Context, app, group, user, token string) error
}

// Options tune a run. The zero value re-embeds every application.
type Options struct {
	// App limits the run to one application; "" means all.
	App string
	// Batch is the number of faces staged per transaction; default 64.
	Batch int
	// Workers describe faces in parallel; default GOMAXPROCS.
	Workers int
	// DeleteMissing removes the faces that cannot be described (no source
	// crop, or a crop that does not decode) instead of refusing to switch.
	DeleteMissing bool
	// Progress, when set, receives a line per staged batch.
	Progress io.Writer
	// AfterBatch, when set, runs after each committed batch with the
	// number of faces staged so far in this run (tests stop a run there).
	AfterBatch func(staged int)
}

// Missing is a face that could not be described under the new model.
type Missing struct {
	store.SourceFace
	// Reason says why: no source crop, or the error the crop gave.
	Reason string
}

// Summary is what a run did.
type Summary struct {
	// Model is the model migrated to.
	Model string
	// Faces is the number of faces in scope when the run started, and
	// AlreadyModel how many of them were of Model then.
	Faces, AlreadyModel int
	// Described is the number of faces described and staged by this run
	// (faces staged by an interrupted earlier run are not described again).
	Described int
	// Missing lists the faces that could not be described; Deleted is how
	// many of them were removed (Options.DeleteMissing).
	Missing []Missing
	Deleted int
	// Swapped reports whether the library switched to Model; Swap counts
	// what the switch changed.
	Swapped bool
	Swap    store.SwapResult
}

// maxPasses bounds how often a run goes over the library again because
// faces were enrolled (with the old model) while it ran.
const maxPasses = 5

// Run re-describes every face of opts.App (all applications when "") with
// d and, once all are staged, switches the library to d's model. It returns
// ErrUndescribable (library not switched) when faces without a usable
// source crop remain, ctx's error when interrupted (what was staged stays
// staged; run again to resume) and the library's errors. The summary is
// returned in every case.
func Run(ctx context.Context, lib Library, d descriptor.Describer, opts Options) (*Summary, error) {
	if opts.Batch <= 0 {
		opts.Batch = 64
	}
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	model := d.Name()
	sum := &Summary{Model: model}
	counts, err := lib.ModelCounts(ctx, opts.App)
	if err != nil {
		return sum, err
	}
	for m, n := range counts {
		sum.Faces += n
		if m == model {
			sum.AlreadyModel += n
		}
	}
	missing := map[int64]bool{}
	for pass := 1; ; pass++ {
		if err := stageAll(ctx, lib, d, opts, sum, missing); err != nil {
			return sum, err
		}
		if len(sum.Missing) > 0 {
			if !opts.DeleteMissing {
				return sum, fmt.Errorf("%w: %d faces (re-enroll or delete them, or run with --delete-missing)", ErrUndescribable, len(sum.Missing))
			}
			if err := deleteMissing(ctx, lib, sum); err != nil {
				return sum, err
			}
		}
		r, err := lib.SwapModel(ctx, opts.App, model)
		if errors.Is(err, store.ErrNotStaged) && pass < maxPasses {
			// Faces were enrolled meanwhile: describe them too.
			continue
		}
		if err != nil {
			return sum, err
		}
		sum.Swapped, sum.Swap = true, r
		return sum, nil
	}
}

// stageAll goes once over the faces still to describe, batch by batch.
// Faces that cannot be described are added to sum.Missing once.
func stageAll(ctx context.Context, lib Library, d descriptor.Describer, opts Options, sum *Summary, missing map[int64]bool) error {
	model := d.Name()
	var after int64
	for {
		batch, err := lib.PendingFaces(ctx, opts.App, model, after, opts.Batch)
		if err != nil {
			return err
		}
		if len(batch) == 0 {
			return nil
		}
		after = batch[len(batch)-1].ID
		staged, failed, err := describeBatch(ctx, d, batch, opts.Workers)
		if err != nil {
			return err
		}
		for _, m := range failed {
			if !missing[m.ID] {
				missing[m.ID] = true
				sum.Missing = append(sum.Missing, m)
			}
		}
		if len(staged) > 0 {
			n, err := lib.StageEmbeddings(ctx, model, staged)
			if err != nil {
				return err
			}
			sum.Described += n
		}
		if opts.Progress != nil {
			fmt.Fprintf(opts.Progress, "reembed: %d/%d faces described with %s (%d without a source crop)\n",
				sum.Described, sum.Faces-sum.AlreadyModel, model, len(sum.Missing))
		}
		if opts.AfterBatch != nil {
			opts.AfterBatch(sum.Described)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}

// describeBatch describes the faces of batch that have a source crop, in
// parallel. A crop that cannot be opened or described makes its face
// missing; ctx ending (or the describer failing on ctx) is an error and
// nothing of the batch is staged.
func describeBatch(ctx context.Context, d descriptor.Describer, batch []store.SourceFace, workers int) ([]store.StagedEmbedding, []Missing, error) {
	type result struct {
		vec    []float32
		reason string
	}
	results := make([]result, len(batch))
	jobs := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < min(workers, len(batch)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				f := batch[i]
				if f.Source == nil {
					results[i].reason = "no source crop"
					continue
				}
				img, face, err := sourcecrop.Open(f.Source)
				if err != nil {
					results[i].reason = err.Error()
					continue
				}
				v, err := d.Describe(ctx, img, face)
				if err != nil {
					results[i].reason = err.Error()
					continue
				}
				results[i].vec = v
			}
		}()
	}
	for i := range batch {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	var (
		staged []store.StagedEmbedding
		failed []Missing
	)
	for i, r := range results {
		if r.vec == nil {
			failed = append(failed, Missing{SourceFace: batch[i], Reason: r.reason})
			continue
		}
		staged = append(staged, store.StagedEmbedding{ID: batch[i].ID, Token: batch[i].Token, Vector: r.vec})
	}
	return staged, failed, nil
}

// deleteMissing removes the faces of sum.Missing; one already gone counts
// as removed.
func deleteMissing(ctx context.Context, lib Library, sum *Summary) error {
	for _, m := range sum.Missing {
		err := lib.DeleteFace(ctx, m.App, m.GroupID, m.UserID, m.Token)
		if err != nil && !errors.Is(err, store.ErrFaceNotFound) && !errors.Is(err, store.ErrUserNotFound) {
			return fmt.Errorf("reembed: delete face %s of %s/%s: %w", m.Token, m.GroupID, m.UserID, err)
		}
		sum.Deleted++
	}
	sum.Missing = nil
	return nil
}

// Print writes a human summary of the run to w.
func (s *Summary) Print(w io.Writer) {
	fmt.Fprintf(w, "faces in scope: %d (%d already %s)\n", s.Faces, s.AlreadyModel, s.Model)
	fmt.Fprintf(w, "described in this run: %d\n", s.Described)
	if s.Deleted > 0 {
		fmt.Fprintf(w, "deleted (no usable source crop): %d\n", s.Deleted)
	}
	if len(s.Missing) > 0 {
		fmt.Fprintf(w, "cannot be described (no usable source crop): %d\n", len(s.Missing))
		for _, m := range s.Missing {
			fmt.Fprintf(w, "  app %s group %s user %s face %s: %s\n", m.App, m.GroupID, m.UserID, m.Token, m.Reason)
		}
	}
	if s.Swapped {
		fmt.Fprintf(w, "switched to %s: %d faces; %d cached face tokens of other models dropped\n", s.Model, s.Swap.Faces, s.Swap.FaceTokens)
	} else {
		fmt.Fprintf(w, "library not switched: it still uses its previous model\n")
	}
}
