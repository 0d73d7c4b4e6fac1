package service

import "errors"

// Domain errors of the service. Callers map them, together with the errors
// of engine/imageio, service/imagesrc, store and store/registry, to their
// codes (each dialect under server/ in its one error table).
var (
	// ErrNoFace means the image holds no detectable face.
	ErrNoFace = errors.New("service: no face in the image")
	// ErrFaceTokenNotFound means a FACE_TOKEN image names no cached face.
	ErrFaceTokenNotFound = errors.New("service: face token not found")
	// ErrImageType means the image source kind is not one the service knows.
	ErrImageType = errors.New("service: unsupported image type")
	// ErrBusy means no analysis slot became free within QueueTimeout.
	ErrBusy = errors.New("service: too many concurrent requests")
	// ErrRateLimited means the application exceeded its QPS limit.
	ErrRateLimited = errors.New("service: application QPS limit exceeded")
	// ErrBadCredentials means an API key / secret key pair did not verify.
	ErrBadCredentials = errors.New("service: invalid client credentials")
	// ErrNotAvailable means the feature needs a component this service was
	// not given (a registry source, a liveness model, ...).
	ErrNotAvailable = errors.New("service: feature not available on this server")
	// ErrInternal marks unexpected failures (and recovered panics).
	ErrInternal = errors.New("service: internal error")
)
