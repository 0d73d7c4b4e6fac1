package baidu

import (
	"errors"
	"fmt"
	"testing"

	"github.com/facekit/facekit/engine/imageio"
	"github.com/facekit/facekit/quality"
	"github.com/facekit/facekit/server"
	"github.com/facekit/facekit/service"
	"github.com/facekit/facekit/service/imagesrc"
	"github.com/facekit/facekit/store"
	"github.com/facekit/facekit/store/registry"
)

func TestErrorTable(t *testing.T) {
	cases := []struct {
		err  error
		code int
	}{
		{service.ErrRateLimited, CodeQPSLimit},
		{store.ErrQuotaExceeded, CodeTotalLimit},
		{service.ErrBusy, CodeRequestLimit},
		{store.ErrTokenNotFound, CodeTokenInvalid},
		{store.ErrTokenExpired, CodeTokenExpired},
		{service.ErrNotAvailable, CodeNoPermission},
		{server.ErrBodyTooLarge, CodeImageFormat},
		{imageio.ErrBase64, CodeImageFormat},
		{imageio.ErrImageTooLarge, CodeImageFormat},
		{imageio.ErrImageFormat, CodeImageCheck},
		{imageio.ErrImageCorrupt, CodeImageCheck},
		{imageio.ErrImageDimensions, CodeImageCheck},
		{imagesrc.ErrForbidden, CodeDownload},
		{imagesrc.ErrDownload, CodeDownload},
		{service.ErrNoFace, CodeNoFace},
		{service.ErrFaceTokenNotFound, CodeFaceTokenNotExist},
		{store.ErrGroupNotFound, CodeGroupNotExist},
		{store.ErrGroupExists, CodeGroupExists},
		{store.ErrUserExists, CodeUserExists},
		{store.ErrUserNotFound, CodeUserNotExist},
		{store.ErrFaceExists, CodeFaceExists},
		{store.ErrFaceNotFound, CodeFaceNotExist},
		{store.ErrTooManyFaces, CodeAddFaceFail},
		{store.ErrUserInfoLength, CodeUserInfoFormat},
		{quality.ErrIncomplete, CodeIncompleteFace},
		{quality.ErrBlur, CodeFaceFuzzy},
		{quality.ErrIllumination, CodeFaceLight},
		{quality.ErrPose, CodeFaceNotForward},
		{quality.ErrFaceTooSmall, CodeQualityControl},
		{quality.ErrOcclusionLeftEye, CodeLeftEyeOccluded},
		{quality.ErrOcclusionChin, CodeChinOccluded},
		{quality.ErrOcclusionMouth, CodeMouthOccluded},
		{registry.ErrNameMismatch, CodeIDNameMismatch},
		{registry.ErrNotFound, CodeIDNumberNotExist},
		{registry.ErrPhotoMissing, CodePolicePhotoMissing},
		{registry.ErrInvalidIDNumber, CodeIDNumberFormatError},
		{registry.ErrUnavailable, CodeNetwork},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%d_%v", tc.code, tc.err), func(t *testing.T) {
			// Domain errors arrive wrapped, often twice.
			wrapped := fmt.Errorf("server: outer: %w", fmt.Errorf("inner detail: %w", tc.err))
			be, known := toError(wrapped)
			if !known || be.Code != tc.code {
				t.Fatalf("toError(%v) = %d (known %v), want %d", wrapped, be.Code, known, tc.code)
			}
			if be.Msg != Message(tc.code) || be.Msg == "" {
				t.Fatalf("message %q, want %q", be.Msg, Message(tc.code))
			}
			if !errors.Is(be, tc.err) {
				t.Fatal("the Baidu error does not keep its cause")
			}
		})
	}
	t.Run("QualityReportsFirstFailure", func(t *testing.T) {
		// Blur sits before illumination in the table too; the order of
		// the failures, not of the table, must decide.
		err := fmt.Errorf("ctx: %w", &quality.CheckError{Level: quality.LevelNormal,
			Failures: []error{quality.ErrIllumination, quality.ErrBlur}})
		if be, _ := toError(err); be.Code != CodeFaceLight {
			t.Fatalf("code %d, want %d (the first failure)", be.Code, CodeFaceLight)
		}
	})
	t.Run("UnknownIsInternal", func(t *testing.T) {
		be, known := toError(errors.New("disk on fire"))
		if known || be.Code != CodeUnknown || be.Msg != "Unknown error" {
			t.Fatalf("toError = %+v, known %v", be, known)
		}
	})
	t.Run("BaiduErrorPassesThrough", func(t *testing.T) {
		be, known := toError(fmt.Errorf("ctx: %w", errParamNull("image")))
		if !known || be.Code != CodeParamNull || be.Msg != "param[image] is null" {
			t.Fatalf("toError = %+v", be)
		}
	})
	t.Run("EveryTableCodeHasAMessage", func(t *testing.T) {
		for _, row := range errorTable {
			if _, ok := messages[row.code]; !ok {
				t.Errorf("code %d (for %v) has no message", row.code, row.err)
			}
		}
	})
}
