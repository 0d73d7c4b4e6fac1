package baidu

import (
	"errors"
	"fmt"

	"github.com/facekit/facekit/engine/imageio"
	"github.com/facekit/facekit/engine/liveness"
	"github.com/facekit/facekit/quality"
	"github.com/facekit/facekit/server"
	"github.com/facekit/facekit/service"
	"github.com/facekit/facekit/service/imagesrc"
	"github.com/facekit/facekit/store"
	"github.com/facekit/facekit/store/registry"
)

// Error is an answer in Baidu's error vocabulary: the error_code and the
// error_msg clients see. The cause, if any, is for logs only.
type Error struct {
	Code  int
	Msg   string
	cause error
}

func (e *Error) Error() string {
	if e.cause != nil {
		return fmt.Sprintf("baidu %d %s: %v", e.Code, e.Msg, e.cause)
	}
	return fmt.Sprintf("baidu %d %s", e.Code, e.Msg)
}

// Unwrap returns the domain error behind the code.
func (e *Error) Unwrap() error { return e.cause }

// Error codes. The messages are the ones in Baidu's published error table
// (vendor-docs/baidu-aipface-php-sdk.txt); codes marked "cloud" are in the
// cloud API's full list but not in the SDK document.
const (
	CodeSuccess             = 0
	CodeUnknown             = 1
	CodeUnavailable         = 2
	CodeUnsupportedMethod   = 3
	CodeRequestLimit        = 4
	CodeNoPermission        = 6
	CodeDailyLimit          = 17
	CodeQPSLimit            = 18
	CodeTotalLimit          = 19
	CodeInvalidParameter    = 100
	CodeTokenInvalid        = 110
	CodeTokenExpired        = 111
	CodeParamNull           = 222001
	CodeStartFormat         = 222002
	CodeLengthFormat        = 222003
	CodeGroupListFormat     = 222005
	CodeGroupIDFormat       = 222006
	CodeUIDFormat           = 222007
	CodeUserInfoFormat      = 222010
	CodeImageFormat         = 222013
	CodeImageTypeFormat     = 222015
	CodeMaxFaceNumFormat    = 222016
	CodeFaceFieldFormat     = 222017
	CodeUserIDFormat        = 222018
	CodeQualityFormat       = 222019
	CodeLivenessFormat      = 222020
	CodeMaxUserNumFormat    = 222021
	CodeIDCardFormat        = 222022
	CodeNameFormat          = 222023
	CodeFaceTypeFormat      = 222024
	CodeFaceTokenFormat     = 222025
	CodeThresholdFormat     = 222027 // cloud
	CodeSortTypeFormat      = 222029 // cloud
	CodeNetwork             = 222201
	CodeNoFace              = 222202
	CodeImageCheck          = 222203
	CodeDownload            = 222204
	CodeNetwork2            = 222205
	CodeServiceFail         = 222206
	CodeMatchUserNotFound   = 222207
	CodeImageCount          = 222208
	CodeFaceTokenNotExist   = 222209
	CodeAddFaceFail         = 222300
	CodeGetFaceFail         = 222301
	CodeSystemError         = 222302
	CodeGroupNotExist       = 223100
	CodeGroupExists         = 223101
	CodeUserExists          = 223102
	CodeUserNotExist        = 223103
	CodeGroupListTooLarge   = 223104
	CodeFaceExists          = 223105
	CodeFaceNotExist        = 223106
	CodeDstGroupNotExist    = 223111
	CodeFaceCovered         = 223113
	CodeFaceFuzzy           = 223114
	CodeFaceLight           = 223115
	CodeIncompleteFace      = 223116
	CodeQualityControl      = 223118
	CodeLivenessControl     = 223119
	CodeLivenessFail        = 223120
	CodeLeftEyeOccluded     = 223121
	CodeRightEyeOccluded    = 223122
	CodeLeftCheekOccluded   = 223123
	CodeRightCheekOccluded  = 223124
	CodeChinOccluded        = 223125
	CodeNoseOccluded        = 223126
	CodeMouthOccluded       = 223127
	CodeFaceNotForward      = 223129 // cloud
	CodePolicePhotoLow      = 222350
	CodeIDNameMismatch      = 222351
	CodeNameFormatError     = 222352
	CodeIDNumberFormatError = 222353
	CodeIDNumberNotExist    = 222354
	CodePolicePhotoMissing  = 222355
	CodeInvalidNameOrID     = 222360
	CodeSystemBusy          = 222901
	CodeBodyNotJSON         = 222200 // cloud
)

// messages holds error_msg for every code facekit answers with, plus the
// rest of the SDK document's table so that the vocabulary is in one place.
var messages = map[int]string{
	CodeSuccess:             "SUCCESS",
	CodeUnknown:             "Unknown error",
	CodeUnavailable:         "Service temporarily unavailable",
	CodeUnsupportedMethod:   "Unsupported openapi method",
	CodeRequestLimit:        "Open api request limit reached",
	CodeNoPermission:        "No permission to access data",
	13:                      "Get service token failed",
	14:                      "IAM Certification failed",
	15:                      "app not exsits or create failed",
	CodeDailyLimit:          "Open api daily request limit reached",
	CodeQPSLimit:            "Open api qps request limit reached",
	CodeTotalLimit:          "Open api total request limit reached",
	CodeInvalidParameter:    "Invalid parameter",
	CodeTokenInvalid:        "Access token invalid or no longer valid",
	CodeTokenExpired:        "Access token expired",
	CodeParamNull:           "param[] is null",
	CodeStartFormat:         "param[start] format error",
	CodeLengthFormat:        "param[length] format error",
	222004:                  "param[op_app_id_list] format error",
	CodeGroupListFormat:     "param[group_id_list] format error",
	CodeGroupIDFormat:       "group_id format error",
	CodeUIDFormat:           "uid format error",
	222008:                  "face_id format error",
	222009:                  "quality_conf format error",
	CodeUserInfoFormat:      "user_info format error",
	222011:                  "param[uid_list] format error",
	222012:                  "param[op_app_id] format error",
	CodeImageFormat:         "param[image] format error",
	222014:                  "param[app_id] format error",
	CodeImageTypeFormat:     "param[image_type] format error",
	CodeMaxFaceNumFormat:    "param[max_face_num] format error",
	CodeFaceFieldFormat:     "param[face_field] format error",
	CodeUserIDFormat:        "param[user_id] format error",
	CodeQualityFormat:       "param[quality_control] format error",
	CodeLivenessFormat:      "param[liveness_control] format error",
	CodeMaxUserNumFormat:    "param[max_user_num] format error",
	CodeIDCardFormat:        "param[id_card_number] format error",
	CodeNameFormat:          "param[name] format error",
	CodeFaceTypeFormat:      "param[face_type] format error",
	CodeFaceTokenFormat:     "param[face_token] format error",
	222026:                  "param[max_star_num] format error",
	CodeThresholdFormat:     "param[match_threshold] format error",
	CodeSortTypeFormat:      "param[face_sort_type] format error",
	CodeBodyNotJSON:         "request body should be json format",
	CodeNetwork:             "network not available",
	CodeNoFace:              "pic not has face",
	CodeImageCheck:          "image check fail",
	CodeDownload:            "image_url_download_fail",
	CodeNetwork2:            "network not availablel",
	CodeServiceFail:         "rtse service return fail",
	CodeMatchUserNotFound:   "match user is not found",
	CodeImageCount:          "the number of image is incorrect",
	CodeFaceTokenNotExist:   "face token not exist",
	CodeAddFaceFail:         "add face fail",
	CodeGetFaceFail:         "get face fail",
	CodeSystemError:         "system error",
	222303:                  "get face fail",
	CodeGroupNotExist:       "group is not exist",
	CodeGroupExists:         "group is already exist",
	CodeUserExists:          "user is already exist",
	CodeUserNotExist:        "user is not exist",
	CodeGroupListTooLarge:   "group_list is too large",
	CodeFaceExists:          "face is already exist",
	CodeFaceNotExist:        "face is not exist",
	223110:                  "uid_list is too large",
	CodeDstGroupNotExist:    "dst group is not exist",
	223112:                  "quality_conf format error",
	CodeFaceCovered:         "face is covered",
	CodeFaceFuzzy:           "face is fuzzy",
	CodeFaceLight:           "face light is not good",
	CodeIncompleteFace:      "incomplete face",
	223117:                  "app_list is too large",
	CodeQualityControl:      "quality control error",
	CodeLivenessControl:     "liveness control item error",
	CodeLivenessFail:        "liveness check fail",
	CodeLeftEyeOccluded:     "left eye is occlusion",
	CodeRightEyeOccluded:    "right eye is occlusion",
	CodeLeftCheekOccluded:   "left cheek is occlusion",
	CodeRightCheekOccluded:  "right cheek is occlusion",
	CodeChinOccluded:        "chin contour is occlusion",
	CodeNoseOccluded:        "nose is occlusion",
	CodeMouthOccluded:       "mouth is occlusion",
	CodeFaceNotForward:      "face not forward",
	CodePolicePhotoLow:      "police picture is none or low quality",
	CodeIDNameMismatch:      "id number and name not match or id number not exist",
	CodeNameFormatError:     "name format error",
	CodeIDNumberFormatError: "id number format error",
	CodeIDNumberNotExist:    "id number not exist",
	CodePolicePhotoMissing:  "police picture not exist",
	CodeInvalidNameOrID:     "invalid name or id number",
	CodeSystemBusy:          "system busy",
}

// Message returns the error_msg of a code ("Unknown error" if the code is
// not in the table).
func Message(code int) string {
	if m, ok := messages[code]; ok {
		return m
	}
	return messages[CodeUnknown]
}

// errCode returns the Error for code, with cause kept for the logs.
func errCode(code int, cause error) *Error {
	return &Error{Code: code, Msg: Message(code), cause: cause}
}

// errParamNull is the answer for a missing required parameter; Baidu names
// the parameter inside the brackets.
func errParamNull(name string) *Error {
	return &Error{Code: CodeParamNull, Msg: "param[" + name + "] is null"}
}

// errorTable is the one mapping from domain errors to Baidu codes. Order
// matters: the first entry that errors.Is matches wins, so specific errors
// come before general ones.
var errorTable = []struct {
	err  error
	code int
}{
	// Limits and credentials.
	{service.ErrRateLimited, CodeQPSLimit},
	{store.ErrQuotaExceeded, CodeTotalLimit},
	{service.ErrBusy, CodeRequestLimit},
	{store.ErrTokenExpired, CodeTokenExpired},
	{store.ErrTokenNotFound, CodeTokenInvalid},
	{store.ErrAppNotFound, CodeTokenInvalid},
	{service.ErrNotAvailable, CodeNoPermission},

	// Request bodies and images.
	{server.ErrBodyTooLarge, CodeImageFormat},
	{service.ErrImageType, CodeImageTypeFormat},
	{imageio.ErrEmpty, CodeImageFormat},
	{imageio.ErrBase64, CodeImageFormat},
	{imageio.ErrImageTooLarge, CodeImageFormat},
	{imageio.ErrImageFormat, CodeImageCheck},
	{imageio.ErrImageCorrupt, CodeImageCheck},
	{imageio.ErrImageDimensions, CodeImageCheck},
	{imagesrc.ErrURL, CodeDownload},
	{imagesrc.ErrForbidden, CodeDownload},
	{imagesrc.ErrDownload, CodeDownload},
	{imagesrc.ErrTooLarge, CodeDownload},
	{service.ErrNoFace, CodeNoFace},
	{service.ErrFaceTokenNotFound, CodeFaceTokenNotExist},

	// Face library.
	{store.ErrGroupNotFound, CodeGroupNotExist},
	{store.ErrGroupExists, CodeGroupExists},
	{store.ErrUserExists, CodeUserExists},
	{store.ErrUserNotFound, CodeUserNotExist},
	{store.ErrFaceExists, CodeFaceExists},
	{store.ErrFaceNotFound, CodeFaceNotExist},
	{store.ErrTooManyFaces, CodeAddFaceFail},
	{store.ErrModelMismatch, CodeAddFaceFail},
	{store.ErrInvalidEmbedding, CodeAddFaceFail},
	{store.ErrInvalidID, CodeGroupIDFormat},
	{store.ErrUserInfoLength, CodeUserInfoFormat},
	{store.ErrInvalidPage, CodeLengthFormat},

	// Quality control (a *quality.CheckError is reported by its first
	// failure, see toError). Face size has no code of its own; 223118
	// "quality control error" is the documented catch-all.
	{quality.ErrIncomplete, CodeIncompleteFace},
	{quality.ErrFaceTooSmall, CodeQualityControl},
	{quality.ErrPose, CodeFaceNotForward},
	{quality.ErrBlur, CodeFaceFuzzy},
	{quality.ErrIllumination, CodeFaceLight},
	{quality.ErrOcclusionLeftEye, CodeLeftEyeOccluded},
	{quality.ErrOcclusionRightEye, CodeRightEyeOccluded},
	{quality.ErrOcclusionNose, CodeNoseOccluded},
	{quality.ErrOcclusionMouth, CodeMouthOccluded},
	{quality.ErrOcclusionLeftCheek, CodeLeftCheekOccluded},
	{quality.ErrOcclusionRightCheek, CodeRightCheekOccluded},
	{quality.ErrOcclusionChin, CodeChinOccluded},
	{quality.ErrLandmarks, CodeQualityControl},
	{quality.ErrDegenerateFace, CodeQualityControl},

	// Liveness control.
	{liveness.ErrLivenessFailed, CodeLivenessFail},
	{liveness.ErrUnknownLevel, CodeLivenessFormat},

	// Registry photos (person/verify, mingjing/verify).
	{registry.ErrInvalidIDNumber, CodeIDNumberFormatError},
	{registry.ErrInvalidName, CodeNameFormatError},
	{registry.ErrNotFound, CodeIDNumberNotExist},
	{registry.ErrNameMismatch, CodeIDNameMismatch},
	{registry.ErrPhotoMissing, CodePolicePhotoMissing},
	{registry.ErrPhotoUnusable, CodePolicePhotoLow},
	{registry.ErrUnavailable, CodeNetwork},
}

// toError maps any error to the Baidu answer. An *Error passes through;
// domain errors go through errorTable; anything else is Baidu's generic
// internal error (the caller logs it with the log_id).
func toError(err error) (*Error, bool) {
	var be *Error
	if errors.As(err, &be) {
		return be, true
	}
	// A failed quality check lists every failed criterion; the answer has
	// room for one code, the first (the most fundamental) one.
	var qe *quality.CheckError
	if errors.As(err, &qe) && len(qe.Failures) > 0 {
		for _, row := range errorTable {
			if errors.Is(qe.Failures[0], row.err) {
				return errCode(row.code, err), true
			}
		}
	}
	for _, row := range errorTable {
		if errors.Is(err, row.err) {
			return errCode(row.code, err), true
		}
	}
	return errCode(CodeUnknown, err), false
}
