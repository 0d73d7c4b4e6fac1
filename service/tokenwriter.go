package service

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/facekit/facekit/store"
)

// maxPendingTokens bounds the face tokens waiting for the background
// writer. Past it a detect writes its own tokens before answering: the
// application flooding the cache waits on the store, and no entry is lost.
const maxPendingTokens = 4096

// tokenWriteTimeout bounds one batch write of the background writer.
const tokenWriteTimeout = 30 * time.Second

// tokenWriter writes detected faces to the face-token cache off the
// request path: a detect hands its faces over once it has released its
// analysis slot, and one goroutine writes whatever has accumulated as one
// batch (store.FaceTokens.PutFaceTokens, one transaction without an fsync).
// Until a batch has committed its faces sit in pending, which RecallFace
// consults before the store, so a token answered by a detect works at once
// (read-your-writes). It is safe for concurrent use.
type tokenWriter struct {
	store store.FaceTokens
	log   *slog.Logger

	mu      sync.Mutex
	seq     uint64
	pending map[tokenKey]pendingToken
	queue   []store.FaceTokenEntry
	seqs    []uint64 // seqs[i] is queue[i]'s entry in pending
	// running is true while the writer goroutine runs; idle is closed
	// when it stops (a new one is made for the next run).
	running bool
	idle    chan struct{}
}

type tokenKey struct{ app, token string }

type pendingToken struct {
	seq  uint64
	face store.DetectedFace
}

func newTokenWriter(s store.FaceTokens, log *slog.Logger) *tokenWriter {
	idle := make(chan struct{})
	close(idle)
	return &tokenWriter{store: s, log: log, pending: map[tokenKey]pendingToken{}, idle: idle}
}

// add queues entries for the background writer. When the queue is full it
// writes them itself, before returning.
func (w *tokenWriter) add(ctx context.Context, entries []store.FaceTokenEntry) {
	if len(entries) == 0 {
		return
	}
	w.mu.Lock()
	if len(w.queue)+len(entries) > maxPendingTokens {
		w.mu.Unlock()
		if err := w.store.PutFaceTokens(ctx, entries); err != nil {
			w.log.Warn("caching face tokens", "log_id", RequestIDFrom(ctx), "error", err)
		}
		return
	}
	for _, e := range entries {
		w.seq++
		w.pending[tokenKey{e.App, e.Face.Token}] = pendingToken{w.seq, e.Face}
		w.queue = append(w.queue, e)
		w.seqs = append(w.seqs, w.seq)
	}
	if !w.running {
		w.running = true
		w.idle = make(chan struct{})
		go w.run(w.idle)
	}
	w.mu.Unlock()
}

// get returns a face still waiting to be written.
func (w *tokenWriter) get(app, token string) (store.DetectedFace, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	p, ok := w.pending[tokenKey{app, token}]
	return p.face, ok
}

// run writes batches until the queue is empty, then stops. The goroutine
// lives only while there is work, so a Service needs no Close to free it.
func (w *tokenWriter) run(idle chan struct{}) {
	for {
		w.mu.Lock()
		batch, seqs := w.queue, w.seqs
		w.queue, w.seqs = nil, nil
		if len(batch) == 0 {
			w.running = false
			close(idle)
			w.mu.Unlock()
			return
		}
		w.mu.Unlock()

		ctx, cancel := context.WithTimeout(context.Background(), tokenWriteTimeout)
		if err := w.store.PutFaceTokens(ctx, batch); err != nil {
			// The answers were right without the cache entries; only a
			// later FACE_TOKEN request misses them.
			w.log.Warn("caching face tokens", "faces", len(batch), "error", err)
		}
		cancel()

		// Committed (or failed for good): the store answers from now on.
		// An entry queued again meanwhile has a newer seq and stays.
		w.mu.Lock()
		for i, e := range batch {
			k := tokenKey{e.App, e.Face.Token}
			if p, ok := w.pending[k]; ok && p.seq == seqs[i] {
				delete(w.pending, k)
			}
		}
		w.mu.Unlock()
	}
}

// flush waits until every face queued before the call is written, or ctx
// ends.
func (w *tokenWriter) flush(ctx context.Context) error {
	w.mu.Lock()
	idle := w.idle
	w.mu.Unlock()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
