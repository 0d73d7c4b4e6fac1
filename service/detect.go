package service

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/facekit/facekit/engine"
	"github.com/facekit/facekit/engine/attributes"
	"github.com/facekit/facekit/engine/imageio"
	"github.com/facekit/facekit/engine/liveness"
	"github.com/facekit/facekit/quality"
	"github.com/facekit/facekit/store"
	"github.com/facekit/facekit/store/registry"
)

// Face is one detected face with its token. Faces recalled by token carry
// only the token, the descriptor and, when the cache kept it, the box and
// roll (Located): HasBox is false, and there are no landmarks, pixels,
// attributes or liveness. The descriptor is the service's model's (Model,
// Vector); the embedded engine.Face's Descriptor field is not used.
type Face struct {
	engine.Face
	Token string
	// HasBox means the face was detected in this request's image: box,
	// landmarks, pose and pixels are all there.
	HasBox bool
	// Located means Rect and Pose.Roll are known: always when HasBox, and
	// for a face recalled by token whose box the cache kept.
	Located bool
	// Attributes holds the fields DetectOptions.Attributes asked for; nil
	// when none were asked, no analyzer is configured or the face gave the
	// models nothing to crop.
	Attributes *attributes.Attributes
	// Liveness is face_liveness (0..1, 1 = live), valid when LivenessScored:
	// DetectOptions.Liveness asked for it, a checker is configured and the
	// face could be scored.
	Liveness       float64
	LivenessScored bool

	// Model and Vector are the face's descriptor; Vector is nil when the
	// face could not be described.
	Model  string
	Vector []float32

	// image is the decoded image the face was detected in (nil for a face
	// recalled by token), kept so that Enroll can store a thumbnail and a
	// source crop.
	image *imageio.Image
}

// Embedding returns the face's descriptor as a store embedding.
func (f Face) Embedding() store.Embedding {
	return store.Embedding{Model: f.Model, Vector: append([]float32(nil), f.Vector...)}
}

// Detection is the result of DetectFaces.
type Detection struct {
	// Image is the decoded image, nil for a FACE_TOKEN source.
	Image *imageio.Image
	// Raw is the encoded image, nil for a FACE_TOKEN source.
	Raw []byte
	// Faces are largest first (or centre first), each with a descriptor.
	Faces []Face
	// Found is the number of faces in the image when DetectOptions.CountAll
	// asked for it, else len(Faces).
	Found int
}

// DetectOptions tune DetectFaces.
type DetectOptions struct {
	// MaxFaces keeps at most this many faces; 0 means 1.
	MaxFaces int
	// SortByCenter orders faces by distance to the image centre instead of
	// by area.
	SortByCenter bool
	// Attributes are the model attributes to estimate for every face
	// (needs Deps.Attributes; ignored without it).
	Attributes attributes.Fields
	// Liveness scores every face's face_liveness (needs Deps.Liveness;
	// ignored without it).
	Liveness bool
	// CountAll sets Detection.Found to every face in the image, not only
	// the MaxFaces kept (bulk enrollment refuses group photos). Landmarks
	// are then fitted for all faces; only the kept ones are described.
	CountAll bool
	// NoTokenCache leaves the detected faces out of the face-token cache:
	// bulk enrollment adds them to the library directly, and no request
	// will ever name their tokens.
	NoTokenCache bool
}

// DetectFaces loads src, detects up to MaxFaces faces with landmarks, pose
// and descriptor, names each with its face token and caches it so that a
// later request may pass the token instead of the image. The attribute and
// liveness models, when asked for, run on each face inside the same
// analysis slot as the detection (they are CPU-bound too). A FACE_TOKEN
// source returns the cached face. Returns ErrNoFace when nothing is found,
// ErrFaceTokenNotFound, ErrBusy, the errors of LoadImage and model
// failures of the descriptor and the analyzers.
func (s *Service) DetectFaces(ctx context.Context, app string, src ImageSource, opts DetectOptions) (*Detection, error) {
	if src.Kind == ImageFaceToken {
		f, err := s.RecallFace(ctx, app, src.Value)
		if err != nil {
			return nil, err
		}
		return &Detection{Faces: []Face{f}, Found: 1}, nil
	}
	// Downloads wait on the network, not the CPU: fetch before taking an
	// analysis slot, then decode and analyse inside it.
	raw, err := s.imageBytes(ctx, src)
	if err != nil {
		return nil, err
	}
	release, large, err := s.acquireFor(ctx, raw)
	if err != nil {
		return nil, err
	}
	var det *Detection
	var tokens []store.FaceTokenEntry
	func() {
		defer release() // also when the analysis panics
		analyse := func() { det, tokens, err = s.analyse(ctx, app, raw, opts) }
		if large {
			// Seconds of decoding and native work: at a lowered
			// priority, so that ordinary detects sharing the cores stay
			// fast (memory.go).
			s.large.run(analyse)
		} else {
			analyse()
		}
	}()
	if err != nil {
		return nil, err
	}
	// The token rows are a cache: they are written in the background,
	// batched with other requests', after the slot is free for the next
	// image (tokenwriter.go). RecallFace sees them at once all the same.
	s.tokens.add(ctx, tokens)
	return det, nil
}

// analyse decodes raw and detects, describes and analyses its faces inside
// an analysis slot; it returns the detection and the faces to cache.
func (s *Service) analyse(ctx context.Context, app string, raw []byte, opts DetectOptions) (*Detection, []store.FaceTokenEntry, error) {
	img, err := s.decode(raw)
	if err != nil {
		return nil, nil, err
	}
	maxFaces := max(opts.MaxFaces, 1)
	engineMax := maxFaces
	if opts.CountAll {
		engineMax = 0
	}
	// Every model, the dlib ResNet included, describes the faces
	// below through its Describer; the engine only detects and fits
	// landmarks here.
	faces, err := s.deps.Engine.Analyze(ctx, img.Image, engine.Options{
		Upsample:     -1, // small faces: retry upsampled when nothing is found
		MaxFaces:     engineMax,
		SortByCenter: opts.SortByCenter,
		Landmarks:    true,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("service: analysing image: %w", err)
	}
	if len(faces) == 0 {
		return nil, nil, ErrNoFace
	}
	found := len(faces)
	if len(faces) > maxFaces {
		faces = faces[:maxFaces]
	}
	det := &Detection{Image: img.Image, Raw: img.Raw, Faces: make([]Face, len(faces)), Found: found}
	now := time.Now()
	var tokens []store.FaceTokenEntry
	for i, f := range faces {
		tok := FaceToken(img.Raw, f.Rect)
		det.Faces[i] = Face{Face: f, Token: tok, HasBox: true, Located: true, image: img.Image}
		if err := s.describe(ctx, img.Image, &det.Faces[i]); err != nil {
			return nil, nil, err
		}
		if det.Faces[i].Vector == nil || opts.NoTokenCache {
			continue
		}
		tokens = append(tokens, store.FaceTokenEntry{App: app, Face: store.DetectedFace{
			Token: tok, Embedding: det.Faces[i].Embedding(), Created: now,
			Box: f.Rect, Roll: f.Pose.Roll,
		}})
	}
	for i := range det.Faces {
		if err := s.analyzeFace(img.Image, &det.Faces[i], opts); err != nil {
			return nil, nil, err
		}
	}
	return det, tokens, nil
}

// describe sets f's descriptor with the service's model. A face without
// landmarks stays undescribed (as the engine leaves it); a model failure is
// an error.
func (s *Service) describe(ctx context.Context, img *imageio.Image, f *Face) error {
	f.Model = s.model
	v, err := s.deps.Descriptor.Describe(ctx, img, f.Face)
	switch {
	case errors.Is(err, engine.ErrNoLandmarks):
		return nil
	case err != nil:
		return fmt.Errorf("service: describing face with %s: %w", s.model, err)
	}
	f.Vector = v
	return nil
}

// analyzeFace runs the attribute and liveness models opts asks for on one
// face. A face the models cannot place a crop on (no landmarks, outside the
// image) simply lacks the values; a model failure is an error.
func (s *Service) analyzeFace(img *imageio.Image, f *Face, opts DetectOptions) error {
	if opts.Attributes != 0 && s.deps.Attributes != nil {
		a, err := s.deps.Attributes.Analyze(img, f.Face, opts.Attributes)
		switch {
		case errors.Is(err, attributes.ErrNoLandmarks), errors.Is(err, attributes.ErrFaceOutside):
		case err != nil:
			return fmt.Errorf("service: face attributes: %w", err)
		default:
			f.Attributes = &a
		}
	}
	if opts.Liveness && s.deps.Liveness != nil {
		sc, err := s.deps.Liveness.Score(img, f.Face)
		switch {
		case errors.Is(err, liveness.ErrNoLandmarks), errors.Is(err, liveness.ErrFaceOutside):
		case err != nil:
			return fmt.Errorf("service: face liveness: %w", err)
		default:
			f.Liveness, f.LivenessScored = sc, true
		}
	}
	return nil
}

// DetectOne is DetectFaces for the single largest face.
func (s *Service) DetectOne(ctx context.Context, app string, src ImageSource) (Face, error) {
	det, err := s.DetectFaces(ctx, app, src, DetectOptions{MaxFaces: 1})
	if err != nil {
		return Face{}, err
	}
	return det.Faces[0], nil
}

// ---- liveness ----

// HasLiveness reports whether a liveness checker is configured.
func (s *Service) HasLiveness() bool { return s.deps.Liveness != nil }

// LivenessThresholds returns the liveness package's calibrated FRR
// thresholds, the ones CheckLiveness applies.
func (s *Service) LivenessThresholds() liveness.Thresholds { return liveness.CalibratedThresholds() }

// CheckLiveness applies a liveness control level to a face detected with
// DetectOptions.Liveness. LevelNone always passes. Returns ErrNotAvailable
// without a liveness checker, and liveness.ErrLivenessFailed when the face
// scores below the level's threshold or has no score: a face recalled by
// token has no pixels left to score, and passing it unchecked would let a
// recapture through by way of an earlier detect call.
func (s *Service) CheckLiveness(f Face, level liveness.Level) error {
	if level == liveness.LevelNone {
		return nil
	}
	if s.deps.Liveness == nil {
		return fmt.Errorf("%w: liveness control %s needs the liveness models", ErrNotAvailable, level)
	}
	if !f.LivenessScored {
		why := "the face could not be scored"
		if !f.HasBox {
			why = "a face passed by token has no pixels to score"
		}
		return fmt.Errorf("%w: %s", liveness.ErrLivenessFailed, why)
	}
	return liveness.Check(f.Liveness, level)
}

// ---- quality ----

// MeasureQuality returns the quality report of face f of det. ok is false
// for a face recalled by token: it carries no pixels to measure. Returns
// quality.ErrLandmarks or quality.ErrDegenerateFace for faces the metrics
// cannot be anchored on.
func (s *Service) MeasureQuality(det *Detection, f Face) (r quality.Report, ok bool, err error) {
	if det == nil || det.Image == nil || !f.HasBox {
		return quality.Report{}, false, nil
	}
	r, err = quality.Measure(det.Image, f.Face)
	if err != nil {
		return quality.Report{}, false, fmt.Errorf("service: measuring quality: %w", err)
	}
	return r, true, nil
}

// CheckQuality applies a quality control level to face f of det. It returns
// nil when the face passes (LevelNone always does, and so does a face
// recalled by token, which has no pixels left to judge), a
// *quality.CheckError listing the failed criteria, or MeasureQuality's
// errors.
func (s *Service) CheckQuality(det *Detection, f Face, level quality.Level) error {
	if level == quality.LevelNone {
		return nil
	}
	r, ok, err := s.MeasureQuality(det, f)
	if err != nil || !ok {
		return err
	}
	return quality.Check(r, level)
}

// ---- registry ----

// RegistryFace looks up the registered photo for an ID number and name and
// detects its face. Returns ErrNotAvailable without a registry source, the
// registry's errors, and registry.ErrPhotoUnusable when the photo has no
// usable face.
func (s *Service) RegistryFace(ctx context.Context, app, idNumber, name string) (Face, error) {
	src := s.deps.Registry
	if src == nil {
		// The text reaches the access log: it names what the operator
		// must configure (facekit serve --registry, config [registry]).
		return Face{}, fmt.Errorf("%w: no registry-photo source configured (facekit serve --registry dir|sqlite|http, config [registry] kind)", ErrNotAvailable)
	}
	photo, err := src.Lookup(ctx, idNumber, name)
	if err != nil {
		return Face{}, fmt.Errorf("service: registry: %w", err)
	}
	f, err := s.DetectOne(ctx, app, ImageSource{Kind: ImageBytes, Bytes: photo.Image})
	switch {
	case err == nil:
		return f, nil
	case photoUnusable(err):
		return Face{}, fmt.Errorf("%w: %w", registry.ErrPhotoUnusable, err)
	}
	// A busy server, a cancelled request or a failing model says nothing
	// about the photo: answering "photo unusable" would send the caller to
	// fix a registry entry that is fine.
	return Face{}, fmt.Errorf("service: registry photo: %w", err)
}

// photoUnusable reports whether err is about the registry photo itself: no
// face in it, or bytes that are not an acceptable image.
func photoUnusable(err error) bool {
	for _, target := range []error{ErrNoFace, imageio.ErrEmpty, imageio.ErrImageFormat, imageio.ErrImageCorrupt,
		imageio.ErrImageDimensions, imageio.ErrImageTooLarge, imageio.ErrBase64} {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}
