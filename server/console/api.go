package console

import (
	"context"
	"errors"
	"fmt"
	"image"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/facekit/facekit/engine/imageio"
	"github.com/facekit/facekit/quality"
	"github.com/facekit/facekit/quality/facegeom"
	"github.com/facekit/facekit/server/baidu"
	"github.com/facekit/facekit/server/linkface"
	"github.com/facekit/facekit/server/tencent"
	"github.com/facekit/facekit/service"
	"github.com/facekit/facekit/store"
)

// maxDetectFaces bounds detection in the console (a group photo).
const maxDetectFaces = 20

// ---- wire types of the console API ----

type box struct {
	X int `json:"x"`
	Y int `json:"y"`
	W int `json:"w"`
	H int `json:"h"`
}

type pose struct {
	Yaw   float64 `json:"yaw"`
	Pitch float64 `json:"pitch"`
	Roll  float64 `json:"roll"`
}

// faceQuality are measurements an operator uses to judge an enrollment
// photo; each is cheap and computed from the box, landmarks and pixels.
type faceQuality struct {
	// FaceWidth is the detector box width in pixels.
	FaceWidth int `json:"face_width"`
	// EyeDistance is the distance between the eye centres in pixels
	// (vendors ask for at least 30, ideally 90).
	EyeDistance float64 `json:"eye_distance"`
	// Brightness is the mean luma of the face box, 0–255.
	Brightness float64 `json:"brightness"`
	// Contrast is the standard deviation of luma over the face box.
	Contrast float64 `json:"contrast"`
}

type detectedFace struct {
	Token       string      `json:"face_token"`
	Box         box         `json:"box"`
	Probability float64     `json:"probability"`
	Pose        pose        `json:"pose"`
	Landmarks   [][2]int    `json:"landmarks"` // 68 points, iBUG 300-W order
	Quality     faceQuality `json:"quality"`
	// Report is the quality package's measurement (blur, illumination,
	// completeness, occlusion per region); nil when it cannot be measured.
	Report *quality.Report `json:"quality_report,omitempty"`
	// Level is the strictest quality_control level the face passes
	// (NONE when it fails LOW); Failures say what the next level refused.
	Level    string   `json:"quality_level,omitempty"`
	Failures []string `json:"quality_failures,omitempty"`
	// Attributes are the landmark-geometry attributes (eye openness,
	// expression, face shape).
	Attributes *facegeom.Attributes `json:"attributes,omitempty"`
}

type detectResult struct {
	Width  int            `json:"width"`
	Height int            `json:"height"`
	Faces  []detectedFace `json:"faces"`
}

// scores is one comparison on every vendor's scale.
type scores struct {
	Distance float64 `json:"distance"`
	FAR      float64 `json:"far"`
	Baidu    float64 `json:"baidu"`    // 0–100, 80 ≈ FAR 1e-4
	Linkface float64 `json:"linkface"` // 0–1, 0.7 ≈ FAR 1e-4
	Tencent  float64 `json:"tencent"`  // 0–100, 75 recommended
}

func (d *Dialect) scoresOf(distance float64) scores {
	far := d.core.FAR(distance)
	return scores{
		Distance: math.Round(distance*1e4) / 1e4,
		FAR:      far,
		Baidu:    baidu.ScoreFromFAR(far),
		Linkface: linkface.Confidence(far),
		Tencent:  tencent.Similarity(far),
	}
}

// ---- handlers ----

func (d *Dialect) whoami(c *gin.Context) {
	app := appOf(c)
	c.JSON(http.StatusOK, gin.H{"app_id": app.ID, "name": app.Name, "api_key": app.APIKey})
}

// detectUpload detects up to maxFaces faces of the uploaded field.
func (d *Dialect) detectUpload(c *gin.Context, field string, maxFaces int) (*service.Detection, error) {
	data, err := d.upload(c, field)
	if err != nil {
		return nil, err
	}
	return d.core.DetectFaces(c.Request.Context(), appOf(c).ID, service.ImageSource{Kind: service.ImageBytes, Bytes: data},
		service.DetectOptions{MaxFaces: maxFaces})
}

func (d *Dialect) detect(c *gin.Context) {
	det, err := d.detectUpload(c, "image", maxDetectFaces)
	if err != nil {
		d.fail(c, err)
		return
	}
	res := detectResult{Width: det.Image.Width, Height: det.Image.Height, Faces: make([]detectedFace, 0, len(det.Faces))}
	for _, f := range det.Faces {
		r := f.Rect
		df := detectedFace{
			Token:       f.Token,
			Box:         box{r.Min.X, r.Min.Y, r.Dx(), r.Dy()},
			Probability: math.Round(f.Probability*1e4) / 1e4,
			Pose:        pose{round1(f.Pose.Yaw), round1(f.Pose.Pitch), round1(f.Pose.Roll)},
			Landmarks:   make([][2]int, len(f.Landmarks)),
			Quality:     measure(det.Image, f.Rect, f.Landmarks),
		}
		for i, p := range f.Landmarks {
			df.Landmarks[i] = [2]int{p.X, p.Y}
		}
		if r, err := quality.Measure(det.Image, f.Face); err == nil {
			df.Report = &r
			df.Level, df.Failures = strictestLevel(r)
		}
		if a, err := facegeom.Analyze(f.Landmarks); err == nil {
			df.Attributes = &a
		}
		res.Faces = append(res.Faces, df)
	}
	c.JSON(http.StatusOK, res)
}

// strictestLevel returns the strictest control level r passes and the
// failures of the level above it (none above HIGH).
func strictestLevel(r quality.Report) (string, []string) {
	passed := quality.LevelNone
	for _, l := range []quality.Level{quality.LevelLow, quality.LevelNormal, quality.LevelHigh} {
		err := quality.Check(r, l)
		if err == nil {
			passed = l
			continue
		}
		var ce *quality.CheckError
		if errors.As(err, &ce) {
			fails := make([]string, len(ce.Failures))
			for i, f := range ce.Failures {
				fails[i] = strings.TrimPrefix(f.Error(), "quality: ")
			}
			return passed.String(), fails
		}
		return passed.String(), []string{err.Error()}
	}
	return passed.String(), nil
}

func round1(v float64) float64 { return math.Round(v*10) / 10 }

// measure computes the operator-facing measurements of one face.
func measure(img *imageio.Image, r image.Rectangle, lm []image.Point) faceQuality {
	q := faceQuality{FaceWidth: r.Dx()}
	if len(lm) == 68 {
		centre := func(from, to int) (float64, float64) {
			var x, y float64
			for _, p := range lm[from : to+1] {
				x += float64(p.X)
				y += float64(p.Y)
			}
			n := float64(to - from + 1)
			return x / n, y / n
		}
		lx, ly := centre(36, 41)
		rx, ry := centre(42, 47)
		q.EyeDistance = round1(math.Hypot(rx-lx, ry-ly))
	}
	r = r.Intersect(img.Bounds())
	if r.Empty() {
		return q
	}
	var sum, sq float64
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			cr, cg, cb := img.RGBAt(x, y)
			l := 0.299*float64(cr) + 0.587*float64(cg) + 0.114*float64(cb)
			sum += l
			sq += l * l
		}
	}
	n := float64(r.Dx() * r.Dy())
	mean := sum / n
	q.Brightness = round1(mean)
	q.Contrast = round1(math.Sqrt(math.Max(0, sq/n-mean*mean)))
	return q
}

func (d *Dialect) compare(c *gin.Context) {
	a, err := d.detectUpload(c, "a", 1)
	if err != nil {
		d.fail(c, fmt.Errorf("photo A: %w", err))
		return
	}
	b, err := d.detectUpload(c, "b", 1)
	if err != nil {
		d.fail(c, fmt.Errorf("photo B: %w", err))
		return
	}
	fa, fb := a.Faces[0], b.Faces[0]
	boxOf := func(f service.Face) box { return box{f.Rect.Min.X, f.Rect.Min.Y, f.Rect.Dx(), f.Rect.Dy()} }
	c.JSON(http.StatusOK, gin.H{
		"scores": d.scoresOf(service.Distance(fa, fb)),
		"a":      gin.H{"face_token": fa.Token, "box": boxOf(fa), "width": a.Image.Width, "height": a.Image.Height},
		"b":      gin.H{"face_token": fb.Token, "box": boxOf(fb), "width": b.Image.Width, "height": b.Image.Height},
	})
}

// page reads ?start=&length= (defaults 0 and 100).
func page(c *gin.Context) (int, int, error) {
	start, length := 0, 100
	var err error
	if s := c.Query("start"); s != "" {
		if start, err = strconv.Atoi(s); err != nil {
			return 0, 0, fmt.Errorf("%w: start %q", errBadRequest, s)
		}
	}
	if s := c.Query("length"); s != "" {
		if length, err = strconv.Atoi(s); err != nil {
			return 0, 0, fmt.Errorf("%w: length %q", errBadRequest, s)
		}
	}
	if start < 0 || length < 1 || length > store.MaxPageLength {
		return 0, 0, fmt.Errorf("%w: %w", errBadRequest, store.ErrInvalidPage)
	}
	return start, length, nil
}

func (d *Dialect) listGroups(c *gin.Context) {
	start, length, err := page(c)
	if err != nil {
		d.fail(c, err)
		return
	}
	groups, err := d.core.Library().ListGroups(c.Request.Context(), appOf(c).ID, start, length)
	if err != nil {
		d.fail(c, err)
		return
	}
	if groups == nil {
		groups = []string{}
	}
	c.JSON(http.StatusOK, gin.H{"groups": groups})
}

func (d *Dialect) createGroup(c *gin.Context) {
	var body struct {
		GroupID string `json:"group_id"`
	}
	if err := c.ShouldBindJSON(&body); err != nil {
		d.fail(c, fmt.Errorf("%w: %v", errBadRequest, err))
		return
	}
	if err := d.core.Library().CreateGroup(c.Request.Context(), appOf(c).ID, body.GroupID); err != nil {
		d.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, gin.H{"group_id": body.GroupID})
}

func (d *Dialect) deleteGroup(c *gin.Context) {
	if err := d.core.Library().DeleteGroup(c.Request.Context(), appOf(c).ID, c.Param("group")); err != nil {
		d.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

type faceEntry struct {
	Token   string    `json:"face_token"`
	Created time.Time `json:"created"`
}

type userEntry struct {
	UserID string      `json:"user_id"`
	Info   string      `json:"user_info"`
	Faces  []faceEntry `json:"faces"`
}

// userEntry reads a user with its faces.
func (d *Dialect) userEntry(ctx context.Context, app, group, user string) (userEntry, error) {
	lib := d.core.Library()
	us, err := lib.GetUser(ctx, app, group, user)
	if err != nil {
		return userEntry{}, err
	}
	faces, err := lib.ListFaces(ctx, app, group, user)
	if err != nil {
		return userEntry{}, err
	}
	e := userEntry{UserID: user, Faces: make([]faceEntry, len(faces))}
	if len(us) > 0 {
		e.Info = us[0].Info
	}
	for i, f := range faces {
		e.Faces[i] = faceEntry{Token: f.Token, Created: f.Created}
	}
	return e, nil
}

func (d *Dialect) listUsers(c *gin.Context) {
	start, length, err := page(c)
	if err != nil {
		d.fail(c, err)
		return
	}
	ctx, app, group := c.Request.Context(), appOf(c).ID, c.Param("group")
	ids, err := d.core.Library().ListUsers(ctx, app, group, start, length)
	if err != nil {
		d.fail(c, err)
		return
	}
	users := make([]userEntry, 0, len(ids))
	for _, id := range ids {
		e, err := d.userEntry(ctx, app, group, id)
		if err != nil {
			d.fail(c, err)
			return
		}
		users = append(users, e)
	}
	c.JSON(http.StatusOK, gin.H{"group_id": group, "users": users})
}

// enroll adds the largest face of the uploaded image to user in group.
func (d *Dialect) enroll(c *gin.Context, user store.User) {
	det, err := d.detectUpload(c, "image", 1)
	if err != nil {
		d.fail(c, err)
		return
	}
	f := det.Faces[0]
	ctx, app := c.Request.Context(), appOf(c).ID
	added, err := d.core.Library().AddFace(ctx, app, user, store.Face{
		Token:     f.Token,
		Embedding: f.Embedding(),
		Thumbnail: d.makeThumbnail(det.Image, f.Face),
		Source:    d.core.SourceCrop(f),
	}, store.ActionAppend)
	if err != nil {
		d.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, gin.H{
		"group_id": user.GroupID, "user_id": user.UserID, "face_token": added.Token,
		"box": box{f.Rect.Min.X, f.Rect.Min.Y, f.Rect.Dx(), f.Rect.Dy()},
	})
}

func (d *Dialect) addUser(c *gin.Context) {
	user := store.User{GroupID: c.Param("group"), UserID: c.PostForm("user_id"), Info: c.PostForm("user_info")}
	if !store.ValidID(user.UserID) {
		d.fail(c, fmt.Errorf("user id %q: %w", user.UserID, store.ErrInvalidID))
		return
	}
	d.enroll(c, user)
}

func (d *Dialect) addFace(c *gin.Context) {
	d.enroll(c, store.User{GroupID: c.Param("group"), UserID: c.Param("user")})
}

func (d *Dialect) deleteUser(c *gin.Context) {
	if err := d.core.Library().DeleteUser(c.Request.Context(), appOf(c).ID, c.Param("group"), c.Param("user")); err != nil {
		d.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (d *Dialect) listFaces(c *gin.Context) {
	e, err := d.userEntry(c.Request.Context(), appOf(c).ID, c.Param("group"), c.Param("user"))
	if err != nil {
		d.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, e)
}

func (d *Dialect) deleteFace(c *gin.Context) {
	err := d.core.Library().DeleteFace(c.Request.Context(), appOf(c).ID, c.Param("group"), c.Param("user"), c.Param("token"))
	if err != nil {
		d.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// maxHits is how many users a console search lists.
const maxHits = 10

type hit struct {
	UserID string `json:"user_id"`
	Info   string `json:"user_info"`
	Token  string `json:"face_token"`
	scores
}

func (d *Dialect) search(c *gin.Context) {
	group := c.Param("group")
	det, err := d.detectUpload(c, "image", 1)
	if err != nil {
		d.fail(c, err)
		return
	}
	f := det.Faces[0]
	cands, err := d.core.Search(c.Request.Context(), appOf(c).ID, []string{group}, f, "", maxHits)
	if err != nil {
		d.fail(c, err)
		return
	}
	hits := make([]hit, len(cands))
	for i, cd := range cands {
		hits[i] = hit{UserID: cd.UserID, Info: cd.Info, Token: cd.Token, scores: d.scoresOf(cd.Distance)}
	}
	c.JSON(http.StatusOK, gin.H{
		"group_id": group,
		"probe":    gin.H{"face_token": f.Token, "box": box{f.Rect.Min.X, f.Rect.Min.Y, f.Rect.Dx(), f.Rect.Dy()}},
		"hits":     hits,
	})
}
