package baidu

import (
	"bytes"
	"encoding/json"
	"math"
	"net/url"
	"strconv"
	"strings"

	"github.com/facekit/facekit/service"
	"github.com/facekit/facekit/store"
)

// params is one request's parameters. The official SDKs send a JSON object
// whose values are strings or numbers (PHP's json_encode keeps ints as
// numbers), sometimes with a form content type; hand-written clients send
// form-encoded bodies. Both end up here as raw JSON values.
type params map[string]json.RawMessage

// request is a parsed body: an object (most endpoints) or an array of
// objects (match, faceverify).
type request struct {
	obj  params
	list []params
}

// parseBody decides the body's format by its first non-space byte rather
// than by Content-Type, because the PHP SDK posts JSON text with curl's
// default form content type.
func parseBody(body []byte) (request, error) {
	trimmed := bytes.TrimSpace(body)
	switch {
	case len(trimmed) == 0:
		return request{obj: params{}}, nil
	case trimmed[0] == '{':
		var p params
		if err := json.Unmarshal(trimmed, &p); err != nil {
			return request{}, errCode(CodeBodyNotJSON, err)
		}
		if p == nil {
			p = params{}
		}
		return request{obj: p}, nil
	case trimmed[0] == '[':
		var list []params
		if err := json.Unmarshal(trimmed, &list); err != nil {
			return request{}, errCode(CodeBodyNotJSON, err)
		}
		for i := range list {
			if list[i] == nil {
				list[i] = params{}
			}
		}
		return request{list: list, obj: params{}}, nil
	}
	vals, err := url.ParseQuery(string(trimmed))
	if err != nil {
		return request{}, errCode(CodeBodyNotJSON, err)
	}
	p := make(params, len(vals))
	for k, v := range vals {
		if len(v) == 0 {
			continue
		}
		raw, _ := json.Marshal(v[0]) // marshalling a string cannot fail
		p[k] = raw
	}
	return request{obj: p}, nil
}

// str returns a parameter as text: strings as they are, numbers and
// booleans as their literal. ok is false for an absent or null parameter or
// an empty string. Objects and arrays are a format error with code.
func (p params) str(name string, code int) (string, bool, error) {
	raw, present := p[name]
	if !present {
		return "", false, nil
	}
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return "", false, nil
	}
	switch raw[0] {
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", false, errCode(code, err)
		}
		return s, s != "", nil
	case '{', '[':
		return "", false, errCode(code, nil)
	}
	return string(raw), true, nil
}

// required is str for a parameter that must be present (222001 otherwise).
func (p params) required(name string, code int) (string, error) {
	s, ok, err := p.str(name, code)
	if err != nil {
		return "", err
	}
	if !ok || strings.TrimSpace(s) == "" {
		return "", errParamNull(name)
	}
	return s, nil
}

// intIn returns an integer parameter in [lo, hi], def when absent, and the
// format error code otherwise. "3" and 3 and 3.0 are all accepted.
func (p params) intIn(name string, def, lo, hi, code int) (int, error) {
	s, ok, err := p.str(name, code)
	if err != nil || !ok {
		return def, err
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || f != float64(int(f)) || f < float64(lo) || f > float64(hi) {
		return 0, errCode(code, nil)
	}
	return int(f), nil
}

// floatIn is intIn for real numbers.
func (p params) floatIn(name string, def, lo, hi float64, code int) (float64, error) {
	s, ok, err := p.str(name, code)
	if err != nil || !ok {
		return def, err
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || math.IsNaN(f) || f < lo || f > hi {
		return 0, errCode(code, nil)
	}
	return f, nil
}

// id returns a required group/user id, checked against [A-Za-z0-9_]{1,128}.
func (p params) id(name string, code int) (string, error) {
	s, err := p.required(name, code)
	if err != nil {
		return "", err
	}
	if !store.ValidID(s) {
		return "", errCode(code, nil)
	}
	return s, nil
}

// oneOf returns an upper-cased enumerated parameter, def when absent.
func (p params) oneOf(name, def string, code int, allowed ...string) (string, error) {
	s, ok, err := p.str(name, code)
	if err != nil {
		return "", err
	}
	if !ok {
		return def, nil
	}
	s = strings.ToUpper(strings.TrimSpace(s))
	for _, a := range allowed {
		if s == a {
			return s, nil
		}
	}
	return "", errCode(code, nil)
}

// image reads an image parameter pair (image + image_type by default).
// defType is used when the type is absent; "" makes the type required.
func (p params) image(imageKey, typeKey, defType string) (service.ImageSource, error) {
	kind, err := p.oneOf(typeKey, defType, CodeImageTypeFormat, "BASE64", "URL", "FACE_TOKEN")
	if err != nil {
		return service.ImageSource{}, err
	}
	if kind == "" {
		return service.ImageSource{}, errParamNull(typeKey)
	}
	val, err := p.required(imageKey, CodeImageFormat)
	if err != nil {
		return service.ImageSource{}, err
	}
	switch kind {
	case "URL":
		return service.ImageSource{Kind: service.ImageURL, Value: val}, nil
	case "FACE_TOKEN":
		return service.ImageSource{Kind: service.ImageFaceToken, Value: val}, nil
	}
	return service.ImageSource{Kind: service.ImageBase64, Value: val}, nil
}

// controls are the quality/liveness control levels a request asks for.
type controls struct {
	quality  string
	liveness string
}

var controlLevels = []string{"NONE", "LOW", "NORMAL", "HIGH"}

// wantsLiveness reports whether a liveness check was asked for.
func (c controls) wantsLiveness() bool { return c.liveness != "" && c.liveness != "NONE" }

// controls reads quality_control and liveness_control (with an optional
// key prefix such as "register_").
func (p params) controls(prefix string) (controls, error) {
	q, err := p.oneOf(prefix+"quality_control", "NONE", CodeQualityFormat, controlLevels...)
	if err != nil {
		return controls{}, err
	}
	l, err := p.oneOf(prefix+"liveness_control", "NONE", CodeLivenessFormat, controlLevels...)
	if err != nil {
		return controls{}, err
	}
	return controls{quality: q, liveness: l}, nil
}

// faceType validates face_type (LIVE, IDCARD, WATERMARK, CERT, INFRARED).
// The descriptor model treats every type alike, so the value only has to
// be valid.
func (p params) faceType(name string) error {
	_, err := p.oneOf(name, "LIVE", CodeFaceTypeFormat, "LIVE", "IDCARD", "WATERMARK", "CERT", "INFRARED")
	return err
}

// groupList parses group_id_list: comma separated, 1 to 10 valid ids.
func (p params) groupList() ([]string, error) {
	s, err := p.required("group_id_list", CodeGroupListFormat)
	if err != nil {
		return nil, err
	}
	var groups []string
	seen := map[string]bool{}
	for _, g := range strings.Split(s, ",") {
		g = strings.TrimSpace(g)
		if !store.ValidID(g) {
			return nil, errCode(CodeGroupListFormat, nil)
		}
		if !seen[g] {
			seen[g] = true
			groups = append(groups, g)
		}
	}
	if len(groups) > maxGroups {
		return nil, errCode(CodeGroupListTooLarge, nil)
	}
	return groups, nil
}

// faceFields parses face_field into a set. Unknown names are ignored, as
// the cloud API does; the spellings of the different endpoints' docs
// (faceshape/face_shape, facetype/face_type) are normalised.
func (p params) faceFields() (map[string]bool, error) {
	s, _, err := p.str("face_field", CodeFaceFieldFormat)
	if err != nil {
		return nil, err
	}
	fields := map[string]bool{}
	for _, f := range strings.Split(s, ",") {
		f = strings.ToLower(strings.TrimSpace(f))
		switch f {
		case "":
			continue
		case "faceshape":
			f = "face_shape"
		case "facetype":
			f = "face_type"
		}
		fields[f] = true
	}
	return fields, nil
}
