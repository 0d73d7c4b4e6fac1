package service

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"strings"

	"github.com/facekit/facekit/store"
)

// FaceToken names one face of one image: 32 hex digits of SHA-256 over the
// encoded image bytes and the face box. The same image always yields the
// same tokens, whichever API or command detected it; different boxes in one
// image yield different tokens.
func FaceToken(raw []byte, box image.Rectangle) string {
	h := sha256.New()
	h.Write(raw)
	var b [16]byte
	binary.BigEndian.PutUint32(b[0:], uint32(int32(box.Min.X)))
	binary.BigEndian.PutUint32(b[4:], uint32(int32(box.Min.Y)))
	binary.BigEndian.PutUint32(b[8:], uint32(int32(box.Max.X)))
	binary.BigEndian.PutUint32(b[12:], uint32(int32(box.Max.Y)))
	h.Write(b[:])
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// RecallFace returns the face cached under token: its descriptor and, when
// the cache kept it, its box and roll. Returns ErrFaceTokenNotFound, and
// store.ErrModelMismatch for a token described by another model.
func (s *Service) RecallFace(ctx context.Context, app, token string) (Face, error) {
	token = strings.TrimSpace(token)
	if token == "" {
		return Face{}, fmt.Errorf("%w: empty token", ErrFaceTokenNotFound)
	}
	// A face detected moments ago may still wait for the background
	// writer: the answer that named its token must be usable at once.
	df, ok := s.tokens.get(app, token)
	var err error
	if !ok {
		df, err = s.deps.FaceTokens.GetFaceToken(ctx, app, token)
	}
	if errors.Is(err, store.ErrFaceNotFound) {
		return Face{}, fmt.Errorf("%w: %q", ErrFaceTokenNotFound, token)
	}
	if err != nil {
		return Face{}, fmt.Errorf("service: face token lookup: %w", err)
	}
	if df.Embedding.Model != s.model {
		return Face{}, fmt.Errorf("%w: token %q was made by model %q, this server describes with %q", store.ErrModelMismatch, token, df.Embedding.Model, s.model)
	}
	f := Face{Token: df.Token, Model: df.Embedding.Model, Vector: df.Embedding.Vector}
	if !df.Box.Empty() {
		f.Rect, f.Pose.Roll, f.Located = df.Box, df.Roll, true
	}
	return f, nil
}

// FlushFaceTokens waits until the faces of every detect that has answered
// are written to the face-token cache, or ctx ends. Call it before closing
// the store; the service stays usable.
func (s *Service) FlushFaceTokens(ctx context.Context) error {
	return s.tokens.flush(ctx)
}
