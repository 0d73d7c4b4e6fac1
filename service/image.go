package service

import (
	"context"
	"fmt"
	"strings"

	"github.com/facekit/facekit/engine/imageio"
)

// ImageKind says how an ImageSource carries its image.
type ImageKind int

// The image kinds every vendor API uses in some spelling.
const (
	ImageBase64    ImageKind = iota + 1 // Value is base64 image data
	ImageURL                            // Value is an http(s) URL
	ImageFaceToken                      // Value is a face token from an earlier detection
	ImageBytes                          // Bytes holds the encoded image (files, multipart uploads, registry photos)
)

// ImageSource is an image as a request names it.
type ImageSource struct {
	Kind  ImageKind
	Value string
	Bytes []byte
}

// LoadedImage is a decoded image together with its encoded bytes (which
// name it in face tokens).
type LoadedImage struct {
	Image *imageio.Image
	Raw   []byte
}

// LoadImage fetches and decodes a BASE64, URL or bytes source. A FACE_TOKEN
// source has no image and is ErrImageType here; use DetectFaces for it.
// Returns imageio errors, imagesrc errors or ErrImageType.
func (s *Service) LoadImage(ctx context.Context, src ImageSource) (*LoadedImage, error) {
	raw, err := s.imageBytes(ctx, src)
	if err != nil {
		return nil, err
	}
	return s.decode(raw)
}

// imageBytes returns the encoded image of a BASE64, URL or bytes source.
// The bytes themselves, not only the decoded pixels, are needed because
// face tokens are derived from them.
func (s *Service) imageBytes(ctx context.Context, src ImageSource) ([]byte, error) {
	switch src.Kind {
	case ImageBase64:
		return imageio.DecodeBase64Bytes(src.Value, s.cfg.Image.MaxBytes)
	case ImageURL:
		return s.fetcher.Fetch(ctx, strings.TrimSpace(src.Value))
	case ImageBytes:
		if len(src.Bytes) == 0 {
			return nil, imageio.ErrEmpty
		}
		return src.Bytes, nil
	}
	return nil, fmt.Errorf("%w: kind %d", ErrImageType, src.Kind)
}

func (s *Service) decode(raw []byte) (*LoadedImage, error) {
	img, err := imageio.Decode(raw, s.cfg.Image)
	if err != nil {
		return nil, err
	}
	return &LoadedImage{Image: img, Raw: raw}, nil
}
