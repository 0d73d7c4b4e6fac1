// Package registry defines the registry-photo source: given a Chinese
// resident ID number and a name it returns the photo registered for that
// person (the stand-in for the public-security photo database that identity
// verification APIs compare a selfie against). Implementations live in
// registry/dir (a directory of photos), registry/sqlitesrc (a SQLite table)
// and registry/httpsrc (an HTTP upstream).
//
// Every implementation validates the ID number and name with Validate before
// it touches its data, so malformed input never reaches an upstream.
package registry

import (
	"context"
	"errors"
	"fmt"
)

// MaxPhotoBytes caps a registered photo. ID photos are small (a few tens of
// kilobytes); the cap only protects the process from a broken source.
const MaxPhotoBytes = 10 << 20

// Domain errors. Vendor packages map these (with errors.Is) to their own
// codes; implementations wrap them with detail.
var (
	// ErrInvalidIDNumber: the ID number is not a well-formed resident ID
	// number (length, characters, check digit, birth date or region).
	ErrInvalidIDNumber = errors.New("registry: invalid ID number")
	// ErrInvalidName: the name is not a plausible resident name.
	ErrInvalidName = errors.New("registry: invalid name")
	// ErrNotFound: the source has no record for the ID number.
	ErrNotFound = errors.New("registry: ID number not found")
	// ErrNameMismatch: the ID number exists but is registered under a
	// different name.
	ErrNameMismatch = errors.New("registry: name does not match ID number")
	// ErrPhotoMissing: the record exists and the name matches, but no photo
	// is registered.
	ErrPhotoMissing = errors.New("registry: no photo registered")
	// ErrPhotoUnusable: the registered photo cannot be used (undecodable, no
	// face, poor quality). Sources return it for photos they cannot even
	// read; callers wrap it when the engine finds no usable face.
	ErrPhotoUnusable = errors.New("registry: registered photo unusable")
	// ErrUnavailable: the source could not answer (timeout, upstream down,
	// I/O error). A timeout additionally wraps context.DeadlineExceeded.
	ErrUnavailable = errors.New("registry: source unavailable")
)

// Photo is a registered photo with the record it belongs to. IDNumber is
// always the normalised 18-character form and Name the normalised name.
type Photo struct {
	IDNumber    string
	Name        string
	Image       []byte // encoded image (JPEG or PNG as stored)
	ContentType string // MIME type of Image, e.g. "image/jpeg"
}

// Source looks up registered photos. Implementations are safe for
// concurrent use.
type Source interface {
	// Lookup returns the photo registered for idNumber when name matches
	// the registered name. 15-digit legacy numbers are accepted and looked
	// up under their 18-digit form.
	//
	// Returns ErrInvalidIDNumber or ErrInvalidName (before any lookup),
	// ErrNotFound, ErrNameMismatch, ErrPhotoMissing, ErrPhotoUnusable (a
	// stored photo that cannot be read as an image), or ErrUnavailable.
	Lookup(ctx context.Context, idNumber, name string) (Photo, error)
}

// Validate checks and normalises an ID number and a name, the ID number
// first (so a request with both wrong reports the ID number, as the vendor
// APIs do). It returns the 18-character ID number and the normalised name.
// Returns ErrInvalidIDNumber or ErrInvalidName, wrapped with the reason.
func Validate(idNumber, name string) (string, string, error) {
	id, err := NormalizeIDNumber(idNumber)
	if err != nil {
		return "", "", err
	}
	n, err := NormalizeName(name)
	if err != nil {
		return "", "", err
	}
	return id, n, nil
}

// Validating wraps src so that Lookup validates and normalises its input
// before src sees it. Use it for Source implementations outside this module;
// the ones here validate on their own.
func Validating(src Source) Source { return validating{src} }

type validating struct{ src Source }

func (v validating) Lookup(ctx context.Context, idNumber, name string) (Photo, error) {
	id, n, err := Validate(idNumber, name)
	if err != nil {
		return Photo{}, err
	}
	return v.src.Lookup(ctx, id, n)
}

// Check compares the name a source has on record with name, the caller's
// name already normalised by Validate, and returns ErrNameMismatch unless
// they agree. Implementations share it so that "agree" means the same
// everywhere: equal after normalisation (trimmed, middle-dot variants
// unified).
func Check(registeredName, name string) error {
	reg, err := NormalizeName(registeredName)
	if err != nil {
		// A source holding an unparsable name cannot match anything; say so
		// instead of pretending the caller's name is wrong.
		return fmt.Errorf("%w: registered name is malformed: %v", ErrUnavailable, err)
	}
	if reg != name {
		return ErrNameMismatch
	}
	return nil
}
