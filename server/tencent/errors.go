package tencent

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/facekit/facekit/engine/imageio"
	"github.com/facekit/facekit/server"
	"github.com/facekit/facekit/service"
	"github.com/facekit/facekit/service/imagesrc"
	"github.com/facekit/facekit/store"
	"github.com/facekit/facekit/store/registry"
)

// Errors of this dialect without a domain counterpart.
var (
	errBadRequest      = errors.New("tencent: bad request")
	errInvalidParam    = errors.New("tencent: invalid parameter")
	errBodyTooLarge    = errors.New("tencent: request body too large")
	errMissingIdentity = errors.New("tencent: idcard_number or idcard_name missing")
	errNoImage         = errors.New("tencent: no image or url")
	errPathNotFound    = errors.New("tencent: no such path")
	// errSelfie marks failures of the caller's photo, as opposed to the
	// registered one (Tencent codes them apart).
	errSelfie = errors.New("tencent: photo")
)

// Codes, with the messages the documentation gives them.
const (
	CodeOK               = 0
	CodeBadRequest       = 3
	CodeNoSignature      = 4
	CodeMalformed        = 5
	CodeTargetMismatch   = 6
	CodeExpired          = 9
	CodeAppIDUnknown     = 10
	CodeSecretIDUnknown  = 11
	CodeAppIDMismatch    = 12
	CodeReplay           = 13
	CodeBadSignature     = 14
	CodeTooFrequent      = 15
	CodeInvalidParam     = 21
	CodeBodyTooLarge     = 23
	CodeNoPermission     = 24
	CodeInternal         = 213
	CodeSelfieNoFace     = -4015
	CodeSelfieDecode     = -4016
	CodeMissingIdentity  = -5801
	CodeServiceDown      = -5802
	CodeNameMismatch     = -5803
	CodeIDInvalid        = -5804
	CodeNoImage          = -5805
	CodePhotoInvalid     = -5809
	CodePhotoPoorQuality = -5817
)

var messages = map[int]string{
	CodeOK:               "OK",
	CodeBadRequest:       "错误的请求",
	CodeNoSignature:      "签名为空",
	CodeMalformed:        "签名串错误",
	CodeTargetMismatch:   "签名中的 APPID/Bucket 与操作目标不匹配",
	CodeExpired:          "签名过期",
	CodeAppIDUnknown:     "APPID 不存在",
	CodeSecretIDUnknown:  "SecretId 不存在",
	CodeAppIDMismatch:    "APPID 和 SecretId 不匹配",
	CodeReplay:           "重放攻击",
	CodeBadSignature:     "签名校验失败",
	CodeTooFrequent:      "操作太频繁,触发频控",
	CodeInvalidParam:     "无效参数",
	CodeBodyTooLarge:     "请求包体过大",
	CodeNoPermission:     "无权限,未申请服务",
	CodeInternal:         "内部错误",
	CodeSelfieNoFace:     "自拍照人脸检测失败",
	CodeSelfieDecode:     "自拍照解码失败",
	CodeMissingIdentity:  "请求缺少身份证号码或身份证姓名",
	CodeServiceDown:      "服务器内部错误,服务暂时不可用",
	CodeNameMismatch:     "身份证姓名与身份证号码不一致",
	CodeIDInvalid:        "身份证号码无效",
	CodeNoImage:          "用户未输入图像或者 url 下载失败",
	CodePhotoInvalid:     "用户身份证登记照无效",
	CodePhotoPoorQuality: "证件照质量较差,请到户籍所在地派出所进行核实",
}

// Message returns the documented message of a code.
func Message(code int) string { return messages[code] }

// quotaMessage is what the service says when an account is cut off for
// non-payment, code 3 with this message; an exhausted quota is that case.
const quotaMessage = "account abnormal,errorno is:2"

// errorTable maps errors to codes; the first matching row wins, so
// specific rows come first. It is the only place codes are chosen.
var errorTable = []struct {
	match func(error) bool
	code  int
}{
	// Signature.
	{is(errNoSignature), CodeNoSignature},
	{is(errMalformed), CodeMalformed},
	{is(errAppIDUnknown), CodeAppIDUnknown},
	{is(errSecretIDUnknown), CodeSecretIDUnknown},
	{is(errAppIDMismatch), CodeAppIDMismatch},
	{is(errBadSignature), CodeBadSignature},
	{is(errExpired), CodeExpired},
	{is(errReplay), CodeReplay},
	{is(errTargetMismatch), CodeTargetMismatch},

	// Request.
	{is(errBodyTooLarge), CodeBodyTooLarge},
	{is(server.ErrBodyTooLarge), CodeBodyTooLarge},
	{is(errBadRequest), CodeBadRequest},
	{is(errInvalidParam), CodeInvalidParam},
	{is(errMissingIdentity), CodeMissingIdentity},
	// A malformed number is "invalid"; a malformed name cannot be anyone's
	// registered name, so it is the name/number disagreement.
	{is(registry.ErrInvalidIDNumber), CodeIDInvalid},
	{is(registry.ErrInvalidName), CodeNameMismatch},

	// The caller's photo.
	{is(errNoImage), CodeNoImage},
	{both(errSelfie, imagesrc.ErrDownload), CodeNoImage},
	{both(errSelfie, imagesrc.ErrURL), CodeNoImage},
	{both(errSelfie, imagesrc.ErrForbidden), CodeNoImage},
	{both(errSelfie, imagesrc.ErrTooLarge), CodeBodyTooLarge},
	{both(errSelfie, imageio.ErrImageTooLarge), CodeBodyTooLarge},
	{both(errSelfie, service.ErrNoFace), CodeSelfieNoFace},
	{both(errSelfie, imageio.ErrImageFormat), CodeSelfieDecode},
	{both(errSelfie, imageio.ErrImageCorrupt), CodeSelfieDecode},
	{both(errSelfie, imageio.ErrImageDimensions), CodeSelfieDecode},
	{both(errSelfie, imageio.ErrEmpty), CodeSelfieDecode},

	// The registry.
	{is(registry.ErrNotFound), CodeIDInvalid},
	{is(registry.ErrNameMismatch), CodeNameMismatch},
	{is(registry.ErrPhotoMissing), CodePhotoInvalid},
	{is(registry.ErrPhotoUnusable), CodePhotoPoorQuality},
	{is(registry.ErrUnavailable), CodeServiceDown},

	// Account and server.
	{is(service.ErrRateLimited), CodeTooFrequent},
	{is(service.ErrBusy), CodeTooFrequent},
	{is(store.ErrQuotaExceeded), CodeBadRequest},
	{is(service.ErrNotAvailable), CodeNoPermission},
	{is(errPathNotFound), CodeBadRequest},
}

func is(target error) func(error) bool {
	return func(err error) bool { return errors.Is(err, target) }
}

func both(a, b error) func(error) bool {
	return func(err error) bool { return errors.Is(err, a) && errors.Is(err, b) }
}

// toCode looks err up in the table; unknown errors are CodeInternal.
func toCode(err error) (int, bool) {
	for _, row := range errorTable {
		if row.match(err) {
			return row.code, true
		}
	}
	return CodeInternal, false
}

// fail answers err with its code, HTTP 200 as the service does (404 for an
// unknown path). Errors outside the table are logged with the request id.
func (d *Dialect) fail(c *gin.Context, err error, sessionID string) {
	code, known := toCode(err)
	if !known {
		d.core.Logger().Error("internal error", "log_id", server.RequestID(c), "path", c.Request.URL.Path, "error", err)
	}
	_ = c.Error(err)
	msg := messages[code]
	if errors.Is(err, store.ErrQuotaExceeded) {
		msg = quotaMessage
	}
	status := http.StatusOK
	if errors.Is(err, errPathNotFound) {
		status = http.StatusNotFound
	}
	c.JSON(status, response{Data: data{SessionID: sessionID}, Code: code, Message: msg})
}
