package baidu_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"image"
	"image/draw"
	"image/jpeg"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"

	"github.com/facekit/facekit/internal/testenv"
	"github.com/facekit/facekit/server"
	"github.com/facekit/facekit/server/baidu"
	"github.com/facekit/facekit/service"
	"github.com/facekit/facekit/store/registry"
)

type hit struct {
	GroupID  string  `json:"group_id"`
	UserID   string  `json:"user_id"`
	UserInfo string  `json:"user_info"`
	Score    float64 `json:"score"`
}

type searchRes struct {
	FaceToken string `json:"face_token"`
	UserList  []hit  `json:"user_list"`
}

type loc struct {
	Left, Top, Width, Height float64
	Rotation                 int
}

type detectRes struct {
	FaceNum  int `json:"face_num"`
	FaceList []struct {
		FaceToken       string   `json:"face_token"`
		Location        *loc     `json:"location"`
		FaceProbability *float64 `json:"face_probability"`
		Angle           *struct{ Yaw, Pitch, Roll float64 }
	} `json:"face_list"`
}

// enrolled are the people put in the library, each by one photo; probes
// holds the other photo of some of them used to search.
//
// dlib's descriptor separates these particular faces (young East Asian
// women, several photographed alike) much worse than LFW: some impostor
// pairs are as close as 0.36 while some genuine pairs are past 0.5. The
// probes are the genuine pairs the descriptor does recognise (distance
// <= 0.43, the photo's nearest neighbour among the enrolled), and the
// strangers are people whose nearest enrolled face is farther than every
// probe pair, so the assertions below test the server's search, scoring
// and ordering rather than the descriptor's known weakness.
var enrolled = []string{"jimin", "bona", "chaeyeon", "eunseo", "luda", "tzuyu", "chaeyoung"}

var enrollPhoto = map[string]string{"eunseo": "eunseo2.jpg"}
var probePhoto = map[string]string{"jimin": "jimin6.jpg", "bona": "bona3.jpg", "chaeyeon": "chaeyeon3.jpg", "tzuyu": "tzuyu2.jpg", "chaeyoung": "chaeyoung2.jpg"}

func enrollOf(name string) string {
	if p, ok := enrollPhoto[name]; ok {
		return p
	}
	return name + ".jpg"
}

func probeOf(name string) string { return probePhoto[name] }

// strangers have photos but are never enrolled.
var strangers = []string{"elkie", "yujin", "eunwoo"}

func TestRecognitionEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("enrolls and searches a few dozen photos; run without -short")
	}
	eng := testenv.Engine(t)
	testenv.Photo(t, "jimin.jpg") // skip early without the photo set
	e := mustStart(t, eng)

	e.must(v3+"/faceset/group/add", obj{"group_id": "idols"}, nil)
	tokens := map[string]string{}
	for _, name := range enrolled {
		var res struct {
			FaceToken string `json:"face_token"`
			Location  *loc   `json:"location"`
		}
		e.must(v3+"/faceset/user/add", obj{
			"image": b64(testenv.Photo(t, enrollOf(name))), "image_type": "BASE64",
			"group_id": "idols", "user_id": name, "user_info": name + " info",
		}, &res)
		if len(res.FaceToken) != 32 || res.Location == nil || res.Location.Width <= 0 {
			t.Fatalf("user/add %s: %+v", name, res)
		}
		tokens[name] = res.FaceToken
	}

	t.Run("Detect", func(t *testing.T) {
		e := e.with(t)
		var res detectRes
		e.must(v3+"/detect", obj{"image": b64(testenv.Photo(t, "jimin.jpg")), "image_type": "BASE64"}, &res)
		if res.FaceNum != 1 || len(res.FaceList) != 1 {
			t.Fatalf("face_num %d", res.FaceNum)
		}
		f := res.FaceList[0]
		if _, err := hex.DecodeString(f.FaceToken); err != nil || len(f.FaceToken) != 32 {
			t.Fatalf("face_token %q is not 32 hex digits", f.FaceToken)
		}
		if f.FaceToken != tokens["jimin"] {
			t.Fatalf("same image, different token: detect %s, user/add %s", f.FaceToken, tokens["jimin"])
		}
		if f.Location == nil || f.Location.Width < 40 || f.FaceProbability == nil || *f.FaceProbability <= 0 || *f.FaceProbability > 1 || f.Angle == nil {
			t.Fatalf("face %+v", f)
		}
	})
	t.Run("DetectLandmarks", func(t *testing.T) {
		e := e.with(t)
		type pt struct{ X, Y float64 }
		var res struct {
			FaceList []struct {
				Location    loc           `json:"location"`
				Landmark    []pt          `json:"landmark"`
				Landmark72  []pt          `json:"landmark72"`
				Landmark150 map[string]pt `json:"landmark150"`
			} `json:"face_list"`
		}
		e.must(v3+"/detect", obj{"image": b64(testenv.Photo(t, "tzuyu.jpg")), "image_type": "BASE64", "face_field": "landmark,landmark150"}, &res)
		f := res.FaceList[0]
		if len(f.Landmark) != 4 || len(f.Landmark72) != 72 || len(f.Landmark150) != 150 {
			t.Fatalf("landmark %d, landmark72 %d, landmark150 %d points", len(f.Landmark), len(f.Landmark72), len(f.Landmark150))
		}
		l := f.Location
		for _, p := range append(f.Landmark, f.Landmark72...) {
			// Landmarks lie on the face: inside the box grown by half.
			if p.X < l.Left-l.Width/2 || p.X > l.Left+1.5*l.Width || p.Y < l.Top-l.Height/2 || p.Y > l.Top+1.5*l.Height {
				t.Fatalf("point %+v far outside the face box %+v", p, l)
			}
		}
		if f.Landmark[0].X >= f.Landmark[1].X {
			t.Fatalf("left eye %+v not left of right eye %+v", f.Landmark[0], f.Landmark[1])
		}
		a := e.must(v3+"/detect", obj{"image": b64(testenv.Photo(t, "tzuyu.jpg")), "image_type": "BASE64"}, nil)
		if strings.Contains(string(a.Result), "landmark") || strings.Contains(string(a.Result), "quality") {
			t.Fatalf("landmarks without face_field: %s", a.Result)
		}
	})
	t.Run("DetectQuality", func(t *testing.T) {
		e := e.with(t)
		var res struct {
			FaceList []struct {
				EyeStatus *struct {
					LeftEye  float64 `json:"left_eye"`
					RightEye float64 `json:"right_eye"`
				} `json:"eye_status"`
				Expression *struct{ Type string } `json:"expression"`
				FaceShape  *struct{ Type string } `json:"face_shape"`
				Age        *float64               `json:"age"`
				Quality    *struct {
					Occlusion    map[string]float64 `json:"occlusion"`
					Blur         float64            `json:"blur"`
					Illumination float64            `json:"illumination"`
					Completeness *int               `json:"completeness"`
				} `json:"quality"`
			} `json:"face_list"`
		}
		e.must(v3+"/detect", obj{"image": b64(testenv.Photo(t, "tzuyu.jpg")), "image_type": "BASE64", "face_field": "quality,eye_status,expression,faceshape,age"}, &res)
		q := res.FaceList[0].Quality
		if q == nil || q.Completeness == nil || *q.Completeness != 1 || len(q.Occlusion) != 7 {
			t.Fatalf("quality %+v", q)
		}
		if q.Blur < 0 || q.Blur > 1 || q.Illumination <= 0 || q.Illumination > 255 {
			t.Fatalf("quality out of range: %+v", q)
		}
		f := res.FaceList[0]
		if f.EyeStatus == nil || f.EyeStatus.LeftEye < 0 || f.EyeStatus.LeftEye > 1 || f.Expression == nil || f.FaceShape == nil {
			t.Fatalf("geometry attributes missing: %+v", f)
		}
		if f.Age != nil {
			t.Fatal("age reported, but nothing measures it yet")
		}
		for part, v := range q.Occlusion {
			if v < 0 || v > 1 {
				t.Fatalf("occlusion %s = %g", part, v)
			}
		}
	})
	t.Run("DetectNoFace222202", func(t *testing.T) {
		e := e.with(t)
		e.expect(baidu.CodeNoFace, v3+"/detect", obj{"image": b64(tinyJPEG(t)), "image_type": "BASE64"})
	})
	t.Run("DetectGroupPhotoMaxFaces", func(t *testing.T) {
		e := e.with(t)
		var res detectRes
		e.must(v3+"/detect", obj{"image": b64(testenv.Photo(t, "pristin.jpg")), "image_type": "BASE64", "max_face_num": 10}, &res)
		if res.FaceNum != 10 {
			t.Fatalf("face_num %d, want 10", res.FaceNum)
		}
		seen := map[string]bool{}
		for _, f := range res.FaceList {
			seen[f.FaceToken] = true
		}
		if len(seen) != 10 {
			t.Fatalf("%d distinct tokens for 10 faces", len(seen))
		}
		e.must(v3+"/detect", obj{"image": b64(testenv.Photo(t, "pristin.jpg")), "image_type": "BASE64"}, &res)
		if res.FaceNum != 1 {
			t.Fatalf("default max_face_num gave %d faces, want 1", res.FaceNum)
		}
	})

	genuine := map[string]float64{}
	t.Run("SearchFindsTheRightPerson", func(t *testing.T) {
		e := e.with(t)
		for name := range probePhoto {
			var res searchRes
			e.must(v3+"/search", obj{
				"image": b64(testenv.Photo(t, probeOf(name))), "image_type": "BASE64",
				"group_id_list": "idols", "match_threshold": 0, "max_user_num": 3,
			}, &res)
			if len(res.UserList) == 0 || res.UserList[0].UserID != name {
				t.Fatalf("%s: top hits %+v", probeOf(name), res.UserList)
			}
			top := res.UserList[0]
			if top.GroupID != "idols" || top.UserInfo != name+" info" {
				t.Fatalf("hit %+v", top)
			}
			if !sort.SliceIsSorted(res.UserList, func(i, j int) bool { return res.UserList[i].Score > res.UserList[j].Score }) {
				t.Fatalf("user_list not best first: %+v", res.UserList)
			}
			genuine[name] = top.Score
			t.Logf("%s -> %s %.2f (next %+v)", probeOf(name), top.UserID, top.Score, res.UserList[1:])
		}
	})
	t.Run("StrangersScoreBelowGenuine", func(t *testing.T) {
		e := e.with(t)
		lowestGenuine := 101.0
		for _, s := range genuine {
			lowestGenuine = min(lowestGenuine, s)
		}
		for _, name := range strangers {
			var res searchRes
			e.must(v3+"/search", obj{
				"image": b64(testenv.Photo(t, name+".jpg")), "image_type": "BASE64",
				"group_id_list": "idols", "match_threshold": 0,
			}, &res)
			t.Logf("stranger %s -> %+v", name, res.UserList)
			if res.UserList[0].Score >= lowestGenuine {
				t.Errorf("stranger %s scores %.2f against %s, genuine pairs go down to %.2f",
					name, res.UserList[0].Score, res.UserList[0].UserID, lowestGenuine)
			}
		}
	})
	t.Run("ConcurrentSearches", func(t *testing.T) {
		// More requests than analysis slots and engine instances: all
		// must be answered, each with its own right person.
		type outcome struct {
			name string
			res  searchRes
			err  error
		}
		images := map[string]string{}
		for name := range probePhoto {
			images[name] = b64(testenv.Photo(t, probeOf(name)))
		}
		out := make(chan outcome)
		n := 0
		for round := range 2 {
			for name := range probePhoto {
				n++
				go func() {
					body, _ := json.Marshal(obj{"image": images[name], "image_type": "BASE64", "group_id_list": "idols", "match_threshold": 0})
					resp, err := http.Post(e.base+v3+"/search?access_token="+e.token, "application/json", bytes.NewReader(body))
					if err != nil {
						out <- outcome{name: name, err: err}
						return
					}
					defer resp.Body.Close()
					var a struct {
						ErrorCode int       `json:"error_code"`
						Result    searchRes `json:"result"`
					}
					err = json.NewDecoder(resp.Body).Decode(&a)
					if err == nil && a.ErrorCode != 0 {
						err = fmt.Errorf("round %d: error_code %d", round, a.ErrorCode)
					}
					out <- outcome{name: name, res: a.Result, err: err}
				}()
			}
		}
		for range n {
			o := <-out
			if o.err != nil {
				t.Errorf("%s: %v", o.name, o.err)
				continue
			}
			if len(o.res.UserList) == 0 || o.res.UserList[0].UserID != o.name {
				t.Errorf("%s: top hits %+v", o.name, o.res.UserList)
			}
		}
	})
	t.Run("SearchDefaultThreshold", func(t *testing.T) {
		e := e.with(t)
		var res searchRes
		e.must(v3+"/search", obj{"image": b64(testenv.Photo(t, "tzuyu2.jpg")), "image_type": "BASE64", "group_id_list": "idols"}, &res)
		if len(res.UserList) != 1 || res.UserList[0].UserID != "tzuyu" || res.UserList[0].Score < 80 {
			t.Fatalf("tzuyu2 at the default threshold: %+v", res.UserList)
		}
	})
	t.Run("SearchByFaceToken", func(t *testing.T) {
		e := e.with(t)
		var det detectRes
		e.must(v3+"/detect", obj{"image": b64(testenv.Photo(t, "bona3.jpg")), "image_type": "BASE64"}, &det)
		var res searchRes
		e.must(v3+"/search", obj{"image": det.FaceList[0].FaceToken, "image_type": "FACE_TOKEN", "group_id_list": "idols", "match_threshold": 0}, &res)
		if res.UserList[0].UserID != "bona" || res.FaceToken != det.FaceList[0].FaceToken {
			t.Fatalf("search by token: %+v", res)
		}
	})
	t.Run("SearchOneToOne", func(t *testing.T) {
		e := e.with(t)
		var res searchRes
		e.must(v3+"/search", obj{"image": b64(testenv.Photo(t, "jimin2.jpg")), "image_type": "BASE64", "group_id_list": "idols", "user_id": "jimin", "match_threshold": 0}, &res)
		if len(res.UserList) != 1 || res.UserList[0].UserID != "jimin" {
			t.Fatalf("1:1: %+v", res.UserList)
		}
		e.expect(baidu.CodeUserNotExist, v3+"/search", obj{"image": b64(testenv.Photo(t, "jimin2.jpg")), "image_type": "BASE64", "group_id_list": "idols", "user_id": "nobody"})
	})
	t.Run("SearchNoMatch222207", func(t *testing.T) {
		e := e.with(t)
		e.expect(baidu.CodeMatchUserNotFound, v3+"/search", obj{"image": b64(testenv.Photo(t, "elkie.jpg")), "image_type": "BASE64", "group_id_list": "idols", "match_threshold": 99})
	})
	t.Run("SearchUnknownGroup223100", func(t *testing.T) {
		e := e.with(t)
		e.expect(baidu.CodeGroupNotExist, v3+"/search", obj{"image": b64(testenv.Photo(t, "jimin2.jpg")), "image_type": "BASE64", "group_id_list": "idols,nope"})
	})
	t.Run("SearchNoFace222202", func(t *testing.T) {
		e := e.with(t)
		e.expect(baidu.CodeNoFace, v3+"/search", obj{"image": b64(tinyJPEG(t)), "image_type": "BASE64", "group_id_list": "idols"})
	})

	t.Run("Match", func(t *testing.T) {
		e := e.with(t)
		var same, diff struct {
			Score    float64 `json:"score"`
			FaceList []struct {
				FaceToken string `json:"face_token"`
			} `json:"face_list"`
		}
		e.must(v3+"/match", []obj{
			{"image": b64(testenv.Photo(t, "tzuyu.jpg")), "image_type": "BASE64"},
			{"image": b64(testenv.Photo(t, "tzuyu2.jpg")), "image_type": "BASE64", "face_type": "LIVE"},
		}, &same)
		e.must(v3+"/match", []obj{
			{"image": tokens["tzuyu"], "image_type": "FACE_TOKEN"},
			{"image": b64(testenv.Photo(t, "elkie.jpg")), "image_type": "BASE64"},
		}, &diff)
		t.Logf("tzuyu/tzuyu2 %.2f, tzuyu/elkie %.2f", same.Score, diff.Score)
		if same.Score <= diff.Score || same.Score < 0 || same.Score > 100 || diff.Score < 0 {
			t.Fatalf("same %.2f, different %.2f", same.Score, diff.Score)
		}
		if len(same.FaceList) != 2 || same.FaceList[0].FaceToken != tokens["tzuyu"] {
			t.Fatalf("face_list not in input order: %+v (tzuyu.jpg is %s)", same.FaceList, tokens["tzuyu"])
		}
		if diff.FaceList[0].FaceToken != tokens["tzuyu"] {
			t.Fatalf("face_list[0] %s, want the token passed in", diff.FaceList[0].FaceToken)
		}
	})
	t.Run("MingjingMatch", func(t *testing.T) {
		e := e.with(t)
		var res struct {
			Score float64 `json:"score"`
		}
		e.must("/rest/2.0/face/v4/mingjing/match", obj{
			"image": b64(testenv.Photo(t, "tzuyu.jpg")), "register_image": b64(testenv.Photo(t, "tzuyu2.jpg")),
		}, &res)
		if res.Score < 60 {
			t.Fatalf("tzuyu vs tzuyu2 scores %.2f", res.Score)
		}
	})

	t.Run("MultiSearchGroupPhoto", func(t *testing.T) {
		e := e.with(t)
		e.must(v3+"/faceset/group/add", obj{"group_id": "pristin"}, nil)
		for _, name := range []string{"nayoung", "rena", "eunwoo"} {
			e.must(v3+"/faceset/user/add", obj{"image": b64(testenv.Photo(t, name+".jpg")), "image_type": "BASE64", "group_id": "pristin", "user_id": name}, nil)
		}
		var res struct {
			FaceNum  int `json:"face_num"`
			FaceList []struct {
				FaceToken string `json:"face_token"`
				Location  *loc   `json:"location"`
				UserList  []hit  `json:"user_list"`
			} `json:"face_list"`
		}
		e.must(v3+"/multi-search", obj{
			"image": b64(testenv.Photo(t, "pristin.jpg")), "image_type": "BASE64",
			"group_id_list": "pristin,idols", "max_face_num": 10, "match_threshold": 70, "max_user_num": 2,
		}, &res)
		if res.FaceNum != 10 || len(res.FaceList) != 10 {
			t.Fatalf("face_num %d, want 10", res.FaceNum)
		}
		found := map[string]bool{}
		for _, f := range res.FaceList {
			if f.Location == nil || len(f.UserList) > 2 {
				t.Fatalf("face %+v", f)
			}
			if len(f.UserList) > 0 {
				found[f.UserList[0].UserID] = true
			}
			t.Logf("face %v -> %+v", f.Location, f.UserList)
		}
		for _, name := range []string{"nayoung", "rena", "eunwoo"} {
			if !found[name] {
				t.Errorf("%s not found in the group photo", name)
			}
		}
	})

	t.Run("Faceset", func(t *testing.T) {
		e := e.with(t)
		// A second photo for jimin, then the library views.
		var add struct {
			FaceToken string `json:"face_token"`
		}
		e.must(v3+"/faceset/user/add", obj{"image": b64(testenv.Photo(t, "jimin5.jpg")), "image_type": "BASE64", "group_id": "idols", "user_id": "jimin"}, &add)
		e.expect(baidu.CodeFaceExists, v3+"/faceset/user/add", obj{"image": b64(testenv.Photo(t, "jimin5.jpg")), "image_type": "BASE64", "group_id": "idols", "user_id": "jimin"})

		var faces struct {
			FaceList []struct {
				FaceToken string `json:"face_token"`
				Ctime     string `json:"ctime"`
			} `json:"face_list"`
		}
		e.must(v3+"/faceset/face/getlist", obj{"user_id": "jimin", "group_id": "idols"}, &faces)
		if len(faces.FaceList) != 2 || faces.FaceList[0].Ctime == "" || faces.FaceList[1].FaceToken != add.FaceToken {
			t.Fatalf("face list %+v", faces)
		}
		var users struct {
			UserIDList []string `json:"user_id_list"`
		}
		e.must(v3+"/faceset/group/getusers", obj{"group_id": "idols", "start": 0, "length": 100}, &users)
		if len(users.UserIDList) != len(enrolled) {
			t.Fatalf("users %v", users.UserIDList)
		}
		e.must(v3+"/faceset/group/getusers", obj{"group_id": "idols", "start": 1, "length": 2}, &users)
		if len(users.UserIDList) != 2 {
			t.Fatalf("page of 2: %v", users.UserIDList)
		}

		// Copy into a new group; the copy is searchable there.
		e.must(v3+"/faceset/group/add", obj{"group_id": "vip"}, nil)
		e.must(v3+"/faceset/user/copy", obj{"user_id": "jimin", "src_group_id": "idols", "dst_group_id": "vip"}, nil)
		e.expect(baidu.CodeUserExists, v3+"/faceset/user/copy", obj{"user_id": "jimin", "src_group_id": "idols", "dst_group_id": "vip"})
		var got struct {
			UserList []struct {
				UserInfo string `json:"user_info"`
				GroupID  string `json:"group_id"`
			} `json:"user_list"`
		}
		e.must(v3+"/faceset/user/get", obj{"user_id": "jimin", "group_id": "@ALL"}, &got)
		if len(got.UserList) != 2 || got.UserList[0].GroupID == got.UserList[1].GroupID || got.UserList[0].UserInfo != "jimin info" {
			t.Fatalf("jimin in %+v, want idols and vip", got.UserList)
		}
		var res searchRes
		e.must(v3+"/search", obj{"image": b64(testenv.Photo(t, "jimin6.jpg")), "image_type": "BASE64", "group_id_list": "vip", "match_threshold": 0}, &res)
		if res.UserList[0].UserID != "jimin" || res.UserList[0].GroupID != "vip" {
			t.Fatalf("search in vip: %+v", res.UserList)
		}

		// update: UPDATE needs the user; REPLACE leaves one face.
		e.expect(baidu.CodeUserNotExist, v3+"/faceset/user/update", obj{"image": b64(testenv.Photo(t, "luda2.jpg")), "image_type": "BASE64", "group_id": "idols", "user_id": "nobody"})
		e.must(v3+"/faceset/user/update", obj{"image": b64(testenv.Photo(t, "jimin7.jpg")), "image_type": "BASE64", "group_id": "vip", "user_id": "jimin", "user_info": "new info", "action_type": "REPLACE"}, nil)
		e.must(v3+"/faceset/face/getlist", obj{"user_id": "jimin", "group_id": "vip"}, &faces)
		if len(faces.FaceList) != 1 {
			t.Fatalf("after REPLACE %d faces", len(faces.FaceList))
		}
		e.must(v3+"/faceset/user/get", obj{"user_id": "jimin", "group_id": "vip"}, &got)
		if len(got.UserList) != 1 || got.UserList[0].UserInfo != "new info" {
			t.Fatalf("after update: %+v", got.UserList)
		}

		// Deleting: one face, then an unknown face, a user, a group.
		e.must(v3+"/faceset/face/delete", obj{"user_id": "jimin", "group_id": "idols", "face_token": add.FaceToken}, nil)
		e.expect(baidu.CodeFaceNotExist, v3+"/faceset/face/delete", obj{"user_id": "jimin", "group_id": "idols", "face_token": add.FaceToken})
		e.must(v3+"/faceset/user/delete", obj{"user_id": "jimin", "group_id": "vip"}, nil)
		e.expect(baidu.CodeUserNotExist, v3+"/faceset/user/get", obj{"user_id": "jimin", "group_id": "vip"})
		e.must(v3+"/faceset/group/delete", obj{"group_id": "vip"}, nil)
		e.expect(baidu.CodeGroupNotExist, v3+"/search", obj{"image": b64(testenv.Photo(t, "jimin6.jpg")), "image_type": "BASE64", "group_id_list": "vip"})
	})
}

func TestImageURL(t *testing.T) {
	eng := testenv.Engine(t)
	img := testenv.Photo(t, "bona.jpg")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/jpeg")
		w.Write(img)
	}))
	defer srv.Close()
	e := mustStart(t, eng, func(c *service.Config, _ *service.Deps, _ *server.Config) { c.Fetch.AllowPrivate = true })
	var byURL, byB64 detectRes
	e.must(v3+"/detect", obj{"image": srv.URL + "/bona.jpg", "image_type": "URL"}, &byURL)
	e.must(v3+"/detect", obj{"image": b64(img), "image_type": "BASE64"}, &byB64)
	if byURL.FaceNum != 1 || byURL.FaceList[0].FaceToken != byB64.FaceList[0].FaceToken {
		t.Fatalf("URL and BASE64 of the same image disagree: %+v vs %+v", byURL, byB64)
	}
}

// photoRegistry is a registry holding test photos, so that person/verify
// and mingjing/verify run against real images.
type photoRegistry map[string]registry.Photo

func (r photoRegistry) Lookup(_ context.Context, id, name string) (registry.Photo, error) {
	p, ok := r[id]
	switch {
	case !ok:
		return registry.Photo{}, registry.ErrNotFound
	case p.Name != name:
		return registry.Photo{}, registry.ErrNameMismatch
	}
	return p, nil
}

func TestPersonVerify(t *testing.T) {
	if testing.Short() {
		t.Skip("analyses several photos; run without -short")
	}
	eng := testenv.Engine(t)
	const id = "11010519491231002X"
	reg := photoRegistry{id: {IDNumber: id, Name: "张三", Image: testenv.Photo(t, "eunseo2.jpg"), ContentType: "image/jpeg"}}
	e := mustStart(t, eng, func(_ *service.Config, d *service.Deps, _ *server.Config) { d.Registry = reg })

	var same, diff struct {
		Score float64 `json:"score"`
	}
	e.must(v3+"/person/verify", obj{"image": b64(testenv.Photo(t, "eunseo3.jpg")), "image_type": "BASE64", "id_card_number": id, "name": "张三"}, &same)
	e.must(v3+"/person/verify", obj{"image": b64(testenv.Photo(t, "nana.jpg")), "image_type": "BASE64", "id_card_number": id, "name": "张三"}, &diff)
	t.Logf("eunseo3 %.2f, nana %.2f", same.Score, diff.Score)
	if same.Score <= diff.Score {
		t.Fatalf("same person %.2f <= stranger %.2f", same.Score, diff.Score)
	}
	e.expect(baidu.CodeIDNameMismatch, v3+"/person/verify", obj{"image": b64(testenv.Photo(t, "eunseo2.jpg")), "image_type": "BASE64", "id_card_number": id, "name": "李四"})
	e.expect(baidu.CodeIDNumberNotExist, v3+"/person/verify", obj{"image": b64(testenv.Photo(t, "eunseo2.jpg")), "image_type": "BASE64", "id_card_number": "110101199003077777", "name": "张三"})

	var mj struct {
		Score        float64 `json:"score"`
		VerifyStatus int     `json:"verify_status"`
	}
	e.must("/rest/2.0/face/v4/mingjing/verify", obj{"image": b64(testenv.Photo(t, "eunseo3.jpg")), "id_card_number": id, "name": "张三"}, &mj)
	if mj.VerifyStatus != 0 || mj.Score <= diff.Score {
		t.Fatalf("mingjing verify %+v", mj)
	}
	a := e.must("/rest/2.0/face/v4/mingjing/verify", obj{"image": b64(testenv.Photo(t, "eunseo3.jpg")), "id_card_number": id, "name": "李四"}, &mj)
	if mj.VerifyStatus != 1 {
		t.Fatalf("mismatched name: %s", a.raw)
	}
}

// croppedFace returns tzuyu.jpg with the left fifth of her face cut off,
// so that the detector's box reaches past the image's left edge.
func croppedFace(t *testing.T, e *env) []byte {
	t.Helper()
	data := testenv.Photo(t, "tzuyu.jpg")
	var det detectRes
	e.must(v3+"/detect", obj{"image": b64(data), "image_type": "BASE64"}, &det)
	l := det.FaceList[0].Location
	src, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	cut := int(l.Left + 0.2*l.Width)
	b := src.Bounds()
	dst := image.NewRGBA(image.Rect(0, 0, b.Dx()-cut, b.Dy()))
	draw.Draw(dst, dst.Bounds(), src, image.Pt(b.Min.X+cut, b.Min.Y), draw.Src)
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, dst, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestQualityControlCompleteness(t *testing.T) {
	eng := testenv.Engine(t)
	e := mustStart(t, eng)
	img := b64(croppedFace(t, e))
	add := func(user, level string) obj {
		return obj{"image": img, "image_type": "BASE64", "group_id": "g", "user_id": user, "quality_control": level}
	}
	e.expect(baidu.CodeIncompleteFace, v3+"/faceset/user/add", add("u1", "NORMAL"))
	e.expect(baidu.CodeIncompleteFace, v3+"/faceset/user/add", add("u1", "HIGH"))
	// LOW and NONE do not require a complete face.
	e.must(v3+"/faceset/user/add", add("u2", "LOW"), nil)
	e.must(v3+"/faceset/user/add", add("u3", "NONE"), nil)
	// A whole face passes NORMAL.
	e.must(v3+"/faceset/user/add", obj{"image": b64(testenv.Photo(t, "tzuyu.jpg")), "image_type": "BASE64", "group_id": "g", "user_id": "u4", "quality_control": "NORMAL"}, nil)
}

// BenchmarkSearch measures one search request end to end (HTTP, JSON,
// base64, decode, detection, descriptor, index search) against a library
// of the enrolled test people.
func BenchmarkSearch(b *testing.B) {
	eng := testenv.Engine(b)
	e := mustStart(b, eng)
	for _, name := range enrolled {
		e.must(v3+"/faceset/user/add", obj{"image": b64(testenv.Photo(b, enrollOf(name))), "image_type": "BASE64", "group_id": "bench", "user_id": name}, nil)
	}
	body := obj{"image": b64(testenv.Photo(b, "tzuyu2.jpg")), "image_type": "BASE64", "group_id_list": "bench", "match_threshold": 0}
	for b.Loop() {
		e.must(v3+"/search", body, nil)
	}
}
