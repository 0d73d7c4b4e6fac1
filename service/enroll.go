package service

import (
	"bytes"
	"context"
	"fmt"
	"image/jpeg"
	"time"

	"github.com/facekit/facekit/descriptor/sourcecrop"
	"github.com/facekit/facekit/engine"
	"github.com/facekit/facekit/engine/imageio"
	"github.com/facekit/facekit/store"
)

// Enroll adds face to user according to action: the one enrollment path of
// the HTTP dialects and `facekit enroll`. The face keeps its token, its
// descriptor and, as Config asks, a thumbnail and a source crop. Returns
// the store's errors (ErrFaceExists, ErrTooManyFaces, ErrModelMismatch, ...).
func (s *Service) Enroll(ctx context.Context, app string, user store.User, face Face, action store.AddAction) (store.Face, error) {
	var thumb []byte
	if s.cfg.Thumbnails && face.image != nil {
		thumb = Thumbnail(face.image, face.Face)
	}
	f, err := s.deps.Library.AddFace(ctx, app, user, store.Face{
		Token:     face.Token,
		GroupID:   user.GroupID,
		UserID:    user.UserID,
		Embedding: face.Embedding(),
		Created:   time.Now(),
		Thumbnail: thumb,
		Source:    s.SourceCrop(face),
	}, action)
	if err != nil {
		return store.Face{}, fmt.Errorf("service: enroll: %w", err)
	}
	return f, nil
}

// SourceCrop returns the source crop to keep with face when it is enrolled
// (descriptor/sourcecrop), or nil when Config.SourceCrops is off or the face
// has no pixels or landmarks (recalled by token). Without it the face cannot
// be re-described under another model.
func (s *Service) SourceCrop(face Face) *store.SourceCrop {
	if !s.cfg.SourceCrops || face.image == nil {
		return nil
	}
	src, err := sourcecrop.Make(face.image, face.Face)
	if err != nil {
		return nil
	}
	return src
}

// Thumbnail geometry: a 112 px aligned crop with generous padding shows the
// whole head, enough to recognise someone in the console, in ~3-5 KB.
const (
	// ThumbnailSize is the side of a thumbnail in pixels.
	ThumbnailSize = 112
	thumbPadding  = 0.4
	thumbQuality  = 80
)

// Thumbnail encodes the small aligned JPEG crop the library keeps with an
// enrolled face so that operators can recognise people in the console; nil
// for a face without landmarks.
func Thumbnail(img *imageio.Image, f engine.Face) []byte {
	chip, err := engine.Chip(img, f, ThumbnailSize, thumbPadding)
	if err != nil {
		return nil
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, chip, &jpeg.Options{Quality: thumbQuality}); err != nil {
		return nil
	}
	return buf.Bytes()
}
