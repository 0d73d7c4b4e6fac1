package baidu

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/facekit/facekit/engine/attributes"
	"github.com/facekit/facekit/engine/control"
	"github.com/facekit/facekit/engine/liveness"
	"github.com/facekit/facekit/quality"
	"github.com/facekit/facekit/quality/facegeom"
	"github.com/facekit/facekit/service"
	"github.com/facekit/facekit/store"
	"github.com/facekit/facekit/store/registry"
)

// location is a face box as Baidu reports it.
type location struct {
	Left     float64 `json:"left"`
	Top      float64 `json:"top"`
	Width    float64 `json:"width"`
	Height   float64 `json:"height"`
	Rotation int     `json:"rotation"`
}

type angle struct {
	Yaw   float64 `json:"yaw"`
	Pitch float64 `json:"pitch"`
	Roll  float64 `json:"roll"`
}

// locate returns a face's location, nil for a face recalled by a token
// whose box the cache did not keep (entries from before boxes were kept).
// The box is the engine's (dlib HOG convention) mapped to Baidu's (the
// extent of its 72 landmarks) by wholeFaceBox.
// rotation is the in-plane angle of the eye line (the pose's roll), which
// is what Baidu's box rotation measures.
func locate(f service.Face) *location {
	if !f.Located {
		return nil
	}
	l := wholeFaceBox(f.Rect, int(math.Round(f.Pose.Roll)))
	return &l
}

// score maps the distance between two faces to Baidu's scale.
func (d *Dialect) score(distance float64) float64 {
	return MatchScore(d.core.FAR(distance))
}

// checkControls applies quality_control and then liveness_control to a
// face, in the order the API documents (quality, liveness, recognition).
//
// Quality is measured by package quality (blur, illumination, occlusion per
// region, completeness, size and pose) and judged against its LOW, NORMAL
// and HIGH thresholds; a face recalled by FACE_TOKEN has no pixels left to
// measure and passes. Liveness compares the face's face_liveness (package
// engine/liveness, scored during detection when ctl.wantsLiveness) with the
// level's FRR threshold; a face recalled by FACE_TOKEN cannot be scored and
// fails (223120) rather than passing unchecked.
func (d *Dialect) checkControls(ctl controls, f service.Face, det *service.Detection) error {
	level, err := control.ParseLevel(ctl.quality)
	if err != nil {
		return errCode(CodeQualityFormat, err)
	}
	if err := d.core.CheckQuality(det, f, level); err != nil {
		return err
	}
	return d.checkLiveness(ctl, f)
}

// checkLiveness applies liveness_control alone.
func (d *Dialect) checkLiveness(ctl controls, f service.Face) error {
	lv, err := control.ParseLevel(ctl.liveness)
	if err != nil {
		return errCode(CodeLivenessFormat, err)
	}
	return d.core.CheckLiveness(f, lv)
}

// requireLiveness answers "No permission" (6) before any image work when a
// liveness level is asked of a server without the liveness models: the
// check cannot be made, and passing the face unchecked would be a lie.
func (d *Dialect) requireLiveness(ctl controls) error {
	if ctl.wantsLiveness() && !d.core.HasLiveness() {
		return fmt.Errorf("%w: liveness_control %s needs the liveness models", service.ErrNotAvailable, ctl.liveness)
	}
	return nil
}

// probe reads one image of a request with its controls and returns its
// largest face, checked against the controls.
func (d *Dialect) probe(ctx context.Context, app store.App, p params, imageKey, typeKey, defType, ctlPrefix string) (service.Face, error) {
	src, err := p.image(imageKey, typeKey, defType)
	if err != nil {
		return service.Face{}, err
	}
	ctl, err := p.controls(ctlPrefix)
	if err != nil {
		return service.Face{}, err
	}
	if err := p.faceType(ctlPrefix + "face_type"); err != nil {
		return service.Face{}, err
	}
	if err := d.requireLiveness(ctl); err != nil {
		return service.Face{}, err
	}
	det, err := d.core.DetectFaces(ctx, app.ID, src, service.DetectOptions{MaxFaces: 1, Liveness: ctl.wantsLiveness()})
	if err != nil {
		return service.Face{}, err
	}
	f := det.Faces[0]
	if err := d.checkControls(ctl, f, det); err != nil {
		return service.Face{}, err
	}
	return f, nil
}

// ---- detect ----

type detectResult struct {
	FaceNum  int          `json:"face_num"`
	FaceList []detectFace `json:"face_list"`
}

type detectFace struct {
	FaceToken       string               `json:"face_token"`
	Location        *location            `json:"location,omitempty"`
	FaceProbability *float64             `json:"face_probability,omitempty"`
	Angle           *angle               `json:"angle,omitempty"`
	Landmark        []point              `json:"landmark,omitempty"`
	Landmark72      []point              `json:"landmark72,omitempty"`
	Landmark150     map[string]point     `json:"landmark150,omitempty"`
	Quality         *faceQuality         `json:"quality,omitempty"`
	EyeStatus       *facegeom.EyeStatus  `json:"eye_status,omitempty"`
	Expression      *facegeom.Expression `json:"expression,omitempty"`
	FaceShape       *facegeom.FaceShape  `json:"face_shape,omitempty"`
	Age             *float64             `json:"age,omitempty"`
	Gender          *typedProbability    `json:"gender,omitempty"`
	Emotion         *typedProbability    `json:"emotion,omitempty"`
	Glasses         *typedProbability    `json:"glasses,omitempty"`
	// Liveness is only in faceverify's face_list.
	Liveness *faceLiveness `json:"liveness,omitempty"`
}

// faceLiveness is faceverify's per-image liveness. Baidu's v3 example also
// has faceliveness, a second score of its own; facekit has one score, the
// one face_liveness is the best of, which is livemapscore in the example.
type faceLiveness struct {
	LiveMapScore float64 `json:"livemapscore"`
}

// faceQuality is detect's quality field, on Baidu's scales.
type faceQuality struct {
	Occlusion    occlusion `json:"occlusion"`
	Blur         float64   `json:"blur"`
	Illumination float64   `json:"illumination"`
	Completeness int       `json:"completeness"`
}

func qualityOf(r quality.Report) *faceQuality {
	return &faceQuality{Occlusion: occlusionOf(r.Occlusion), Blur: round4(r.Blur), Illumination: math.Round(r.Illumination), Completeness: r.Completeness}
}

type point struct {
	X float64 `json:"x"`
	Y float64 `json:"y"`
}

func (d *Dialect) detect(ctx context.Context, app store.App, req request) (any, error) {
	p := req.obj
	src, err := p.image("image", "image_type", "")
	if err != nil {
		return nil, err
	}
	fields, err := p.faceFields()
	if err != nil {
		return nil, err
	}
	maxFaces, err := p.intIn("max_face_num", 1, 1, maxDetectFaces, CodeMaxFaceNumFormat)
	if err != nil {
		return nil, err
	}
	sortType, err := p.intIn("face_sort_type", 0, 0, 1, CodeSortTypeFormat)
	if err != nil {
		return nil, err
	}
	if err := p.faceType("face_type"); err != nil {
		return nil, err
	}
	ctl, err := p.controls("")
	if err != nil {
		return nil, err
	}
	if err := d.requireLiveness(ctl); err != nil {
		return nil, err
	}
	det, err := d.core.DetectFaces(ctx, app.ID, src, service.DetectOptions{
		MaxFaces: maxFaces, SortByCenter: sortType == 1,
		Attributes: attributeFields(fields), Liveness: ctl.wantsLiveness(),
	})
	if err != nil {
		return nil, err
	}
	res := detectResult{FaceNum: len(det.Faces), FaceList: make([]detectFace, len(det.Faces))}
	for i, f := range det.Faces {
		// detect documents liveness_control (not quality_control) but no
		// per-face liveness field: every face it returns must pass the
		// level.
		if err := d.checkLiveness(ctl, f); err != nil {
			return nil, err
		}
		out, err := d.describe(det, f, fields)
		if err != nil {
			return nil, err
		}
		res.FaceList[i] = out
	}
	return res, nil
}

// describe builds detect's face entry (also faceverify's): box,
// probability and pose, then what face_field asks for. A face recalled by
// token has only its token.
func (d *Dialect) describe(det *service.Detection, f service.Face, fields map[string]bool) (detectFace, error) {
	out := detectFace{FaceToken: f.Token, Location: locate(f)}
	if !f.HasBox {
		return out, nil
	}
	prob := round4(f.Probability)
	out.FaceProbability = &prob
	if len(f.Landmarks) > 0 {
		out.Angle = &angle{Yaw: round2(f.Pose.Yaw), Pitch: round2(f.Pose.Pitch), Roll: round2(f.Pose.Roll)}
	}
	addLandmarks(&out, f, fields)
	addGeometry(&out, f, fields)
	addAttributes(&out, f, fields)
	if fields["quality"] {
		r, ok, err := d.core.MeasureQuality(det, f)
		if err != nil {
			return out, err
		}
		if ok {
			out.Quality = qualityOf(r)
		}
	}
	return out, nil
}

// attributeFields picks the face_field names engine/attributes estimates
// (age, gender, emotion, glasses). face_type and beauty are not among
// them: no model here measures them, so they stay absent.
func attributeFields(fields map[string]bool) attributes.Fields {
	names := make([]string, 0, len(fields))
	for n := range fields {
		names = append(names, n)
	}
	f, _ := attributes.ParseFields(names)
	return f
}

// addAttributes copies the model attributes face_field asked for. A field
// stays absent when the server has no attribute models or the face gave
// them nothing to crop.
func addAttributes(out *detectFace, f service.Face, fields map[string]bool) {
	a := f.Attributes
	if a == nil {
		return
	}
	if fields["age"] && a.Age != nil {
		age := round2(*a.Age)
		out.Age = &age
	}
	if fields["gender"] && a.Gender != nil {
		out.Gender = genderOf(*a.Gender)
	}
	if fields["emotion"] && a.Emotion != nil {
		out.Emotion = emotionOf(*a.Emotion)
	}
	if fields["glasses"] && a.Glasses != nil {
		out.Glasses = glassesOf(*a.Glasses)
	}
}

func round4(v float64) float64 { return math.Round(v*1e4) / 1e4 }

// ---- search ----

type userHit struct {
	GroupID  string  `json:"group_id"`
	UserID   string  `json:"user_id"`
	UserInfo string  `json:"user_info"`
	Score    float64 `json:"score"`
}

type searchResult struct {
	FaceToken string    `json:"face_token"`
	UserList  []userHit `json:"user_list"`
}

// searchParams are the parameters search and multi-search share.
type searchParams struct {
	groups    []string
	threshold float64
	maxUsers  int
	userID    string
}

func readSearchParams(p params, maxUsers int, allowUserID bool) (searchParams, error) {
	var sp searchParams
	var err error
	if sp.groups, err = p.groupList(); err != nil {
		return sp, err
	}
	if sp.threshold, err = p.floatIn("match_threshold", defaultThreshold, 0, 100, CodeThresholdFormat); err != nil {
		return sp, err
	}
	if sp.maxUsers, err = p.intIn("max_user_num", 1, 1, maxUsers, CodeMaxUserNumFormat); err != nil {
		return sp, err
	}
	if allowUserID {
		uid, ok, err := p.str("user_id", CodeUserIDFormat)
		if err != nil {
			return sp, err
		}
		if ok {
			if !store.ValidID(uid) {
				return sp, errCode(CodeUserIDFormat, nil)
			}
			sp.userID = uid
		}
	}
	return sp, nil
}

// hits searches for face and returns the users scoring at least the
// threshold, best first.
func (d *Dialect) hits(ctx context.Context, app store.App, sp searchParams, face service.Face) ([]userHit, error) {
	k := sp.maxUsers
	if sp.userID != "" {
		k = len(sp.groups) // one entry per group the user is in
	}
	cands, err := d.core.Search(ctx, app.ID, sp.groups, face, sp.userID, k)
	if err != nil {
		return nil, err
	}
	if sp.userID != "" && len(cands) == 0 {
		return nil, fmt.Errorf("%w: %q in %v", store.ErrUserNotFound, sp.userID, sp.groups)
	}
	hits := []userHit{}
	for _, c := range cands {
		s := d.score(c.Distance)
		if s < sp.threshold {
			continue
		}
		hits = append(hits, userHit{GroupID: c.GroupID, UserID: c.UserID, UserInfo: c.Info, Score: s})
		if len(hits) == sp.maxUsers {
			break
		}
	}
	return hits, nil
}

func (d *Dialect) search(ctx context.Context, app store.App, req request) (any, error) {
	p := req.obj
	sp, err := readSearchParams(p, maxSearchUsers, true)
	if err != nil {
		return nil, err
	}
	face, err := d.probe(ctx, app, p, "image", "image_type", "", "")
	if err != nil {
		return nil, err
	}
	hits, err := d.hits(ctx, app, sp, face)
	if err != nil {
		return nil, err
	}
	if len(hits) == 0 {
		return nil, errCode(CodeMatchUserNotFound, nil)
	}
	return searchResult{FaceToken: face.Token, UserList: hits}, nil
}

// ---- multi-search ----

type multiFace struct {
	FaceToken string    `json:"face_token"`
	Location  *location `json:"location,omitempty"`
	UserList  []userHit `json:"user_list"`
}

type multiResult struct {
	FaceNum  int         `json:"face_num"`
	FaceList []multiFace `json:"face_list"`
}

func (d *Dialect) multiSearch(ctx context.Context, app store.App, req request) (any, error) {
	p := req.obj
	sp, err := readSearchParams(p, maxMultiUsers, false)
	if err != nil {
		return nil, err
	}
	src, err := p.image("image", "image_type", "")
	if err != nil {
		return nil, err
	}
	maxFaces, err := p.intIn("max_face_num", 1, 1, maxMultiFaces, CodeMaxFaceNumFormat)
	if err != nil {
		return nil, err
	}
	ctl, err := p.controls("")
	if err != nil {
		return nil, err
	}
	if err := d.requireLiveness(ctl); err != nil {
		return nil, err
	}
	det, err := d.core.DetectFaces(ctx, app.ID, src, service.DetectOptions{MaxFaces: maxFaces, Liveness: ctl.wantsLiveness()})
	if err != nil {
		return nil, err
	}
	res := multiResult{FaceList: []multiFace{}}
	matched := false
	for _, f := range det.Faces {
		// A face failing the quality or liveness control is left out, as
		// the cloud API drops faces it cannot recognise; the others still
		// count.
		var failed *quality.CheckError
		if err := d.checkControls(ctl, f, det); errors.As(err, &failed) || errors.Is(err, liveness.ErrLivenessFailed) {
			continue
		} else if err != nil {
			return nil, err
		}
		hits, err := d.hits(ctx, app, sp, f)
		if err != nil {
			return nil, err
		}
		matched = matched || len(hits) > 0
		res.FaceList = append(res.FaceList, multiFace{FaceToken: f.Token, Location: locate(f), UserList: hits})
	}
	if !matched {
		return nil, errCode(CodeMatchUserNotFound, nil)
	}
	res.FaceNum = len(res.FaceList)
	return res, nil
}

// ---- match ----

type tokenOnly struct {
	FaceToken string `json:"face_token"`
}

type matchResult struct {
	Score    float64     `json:"score"`
	FaceList []tokenOnly `json:"face_list"`
}

func (d *Dialect) match(ctx context.Context, app store.App, req request) (any, error) {
	if len(req.list) != 2 {
		return nil, errCode(CodeImageCount, fmt.Errorf("got %d images, want a JSON array of 2", len(req.list)))
	}
	var faces [2]service.Face
	for i, p := range req.list {
		f, err := d.probe(ctx, app, p, "image", "image_type", "", "")
		if err != nil {
			return nil, err
		}
		faces[i] = f
	}
	return matchResult{
		Score:    d.score(service.Distance(faces[0], faces[1])),
		FaceList: []tokenOnly{{faces[0].Token}, {faces[1].Token}},
	}, nil
}

// ---- faceverify (image liveness) ----

type faceverifyResult struct {
	FaceLiveness float64            `json:"face_liveness"`
	Thresholds   livenessThresholds `json:"thresholds"`
	FaceList     []detectFace       `json:"face_list"`
}

// faceverify scores the liveness of 1, 3 or 8 photos of one person (the
// counts the API documents). Each photo's largest face is scored by
// engine/liveness; face_liveness is the best score, as the API documents
// ("the highest score of each group"), and thresholds are the liveness
// package's calibrated FRR thresholds to compare it with. Each face_list
// entry is detect's face entry with its liveness.livemapscore, plus what
// that image's face_field asks for. A FACE_TOKEN image is refused (6): the
// token cache keeps no pixels to score.
func (d *Dialect) faceverify(ctx context.Context, app store.App, req request) (any, error) {
	if n := len(req.list); n != 1 && n != 3 && n != maxFaceverifyImage {
		return nil, errCode(CodeImageCount, fmt.Errorf("got %d images, want 1, 3 or %d", n, maxFaceverifyImage))
	}
	srcs := make([]service.ImageSource, len(req.list))
	fieldSets := make([]map[string]bool, len(req.list))
	for i, p := range req.list {
		src, err := p.image("image", "image_type", "")
		if err != nil {
			return nil, err
		}
		if fieldSets[i], err = p.faceFields(); err != nil {
			return nil, err
		}
		if src.Kind == service.ImageFaceToken {
			return nil, fmt.Errorf("%w: image %d is a FACE_TOKEN, which keeps no pixels to score liveness on", service.ErrNotAvailable, i)
		}
		srcs[i] = src
	}
	if !d.core.HasLiveness() {
		return nil, fmt.Errorf("%w: image liveness needs the liveness models", service.ErrNotAvailable)
	}
	res := faceverifyResult{Thresholds: thresholdsOf(d.core.LivenessThresholds()), FaceList: make([]detectFace, len(srcs))}
	scored := false
	for i, src := range srcs {
		det, err := d.core.DetectFaces(ctx, app.ID, src, service.DetectOptions{
			MaxFaces: 1, Liveness: true, Attributes: attributeFields(fieldSets[i]),
		})
		if err != nil {
			return nil, err
		}
		f := det.Faces[0]
		out, err := d.describe(det, f, fieldSets[i])
		if err != nil {
			return nil, err
		}
		if f.LivenessScored {
			s := round4(f.Liveness)
			out.Liveness = &faceLiveness{LiveMapScore: s}
			if !scored || s > res.FaceLiveness {
				res.FaceLiveness = s
			}
			scored = true
		}
		res.FaceList[i] = out
	}
	if !scored {
		return nil, fmt.Errorf("%w: no image had a face the liveness models could score", liveness.ErrLivenessFailed)
	}
	return res, nil
}

// ---- person/verify and mingjing (registry photos) ----

type verifyResult struct {
	Score float64 `json:"score"`
}

// identity reads and checks id_card_number and name.
func identity(p params) (string, string, error) {
	id, err := p.required("id_card_number", CodeIDCardFormat)
	if err != nil {
		return "", "", err
	}
	name, err := p.required("name", CodeNameFormat)
	if err != nil {
		return "", "", err
	}
	return id, name, nil
}

func (d *Dialect) personVerify(ctx context.Context, app store.App, req request) (any, error) {
	p := req.obj
	id, name, err := identity(p)
	if err != nil {
		return nil, err
	}
	if d.core.Registry() == nil {
		return nil, fmt.Errorf("%w: no registry source configured", service.ErrNotAvailable)
	}
	face, err := d.probe(ctx, app, p, "image", "image_type", "", "")
	if err != nil {
		return nil, err
	}
	reg, err := d.core.RegistryFace(ctx, app.ID, id, name)
	if err != nil {
		return nil, err
	}
	return verifyResult{Score: d.score(service.Distance(face, reg))}, nil
}

type mingjingVerifyResult struct {
	Score        float64 `json:"score"`
	VerifyStatus int     `json:"verify_status"`
}

// secLevel refuses the encrypted capture-SDK variants (sec_level other than
// common, or a data payload): decrypting them needs Baidu's device keys.
func secLevel(p params) error {
	lvl, err := p.oneOf("sec_level", "COMMON", CodeInvalidParameter, "COMMON", "LITE")
	if err != nil {
		return err
	}
	if _, ok, _ := p.str("data", CodeInvalidParameter); ok || lvl != "COMMON" {
		return fmt.Errorf("%w: encrypted capture-SDK images", service.ErrNotAvailable)
	}
	return nil
}

func (d *Dialect) mingjingVerify(ctx context.Context, app store.App, req request) (any, error) {
	p := req.obj
	if err := secLevel(p); err != nil {
		return nil, err
	}
	id, name, err := identity(p)
	if err != nil {
		return nil, err
	}
	// spoofing_control asks for a synthetic-image (face swap, generated
	// face) check. No model here measures that, so any level but NONE is
	// refused rather than passed unchecked.
	spoof, err := p.oneOf("spoofing_control", "NONE", CodeInvalidParameter, controlLevels...)
	if err != nil {
		return nil, err
	}
	if spoof != "NONE" {
		return nil, fmt.Errorf("%w: spoofing_control %s needs a synthetic-image model", service.ErrNotAvailable, spoof)
	}
	if d.core.Registry() == nil {
		return nil, fmt.Errorf("%w: no registry source configured", service.ErrNotAvailable)
	}
	face, err := d.probe(ctx, app, p, "image", "image_type", "BASE64", "")
	if err != nil {
		return nil, err
	}
	reg, err := d.core.RegistryFace(ctx, app.ID, id, name)
	switch {
	// The v4 call reports a failed lookup in verify_status rather than as
	// an error: 1 = number/name mismatch or unknown, 2 = no usable photo.
	case errors.Is(err, registry.ErrNotFound), errors.Is(err, registry.ErrNameMismatch):
		return mingjingVerifyResult{VerifyStatus: 1}, nil
	case errors.Is(err, registry.ErrPhotoMissing), errors.Is(err, registry.ErrPhotoUnusable):
		return mingjingVerifyResult{VerifyStatus: 2}, nil
	case err != nil:
		return nil, err
	}
	return mingjingVerifyResult{Score: d.score(service.Distance(face, reg))}, nil
}

type mingjingMatchResult struct {
	Score    float64     `json:"score"`
	FaceList []tokenOnly `json:"face_list"`
}

func (d *Dialect) mingjingMatch(ctx context.Context, app store.App, req request) (any, error) {
	p := req.obj
	if err := secLevel(p); err != nil {
		return nil, err
	}
	if _, err := p.intIn("face_sort_type", 0, 0, 1, CodeSortTypeFormat); err != nil {
		return nil, err
	}
	face, err := d.probe(ctx, app, p, "image", "image_type", "BASE64", "")
	if err != nil {
		return nil, err
	}
	reg, err := d.probe(ctx, app, p, "register_image", "register_image_type", "BASE64", "register_")
	if err != nil {
		return nil, err
	}
	return mingjingMatchResult{
		Score:    d.score(service.Distance(face, reg)),
		FaceList: []tokenOnly{{face.Token}, {reg.Token}},
	}, nil
}

// ---- session code ----

type sessionResult struct {
	SessionID string `json:"session_id"`
	Code      string `json:"code"`
}

// sessionCode hands out a 3–6 digit code to read aloud in a video liveness
// check. Only the code is issued and stored; facekit does not check videos.
func (d *Dialect) sessionCode(ctx context.Context, app store.App, req request) (any, error) {
	if _, _, err := req.obj.str("appid", CodeInvalidParameter); err != nil {
		return nil, err
	}
	sc, err := d.core.NewSessionCode(ctx, app.ID, 3, 6)
	if err != nil {
		return nil, err
	}
	return sessionResult{SessionID: sc.SessionID, Code: sc.Code}, nil
}
