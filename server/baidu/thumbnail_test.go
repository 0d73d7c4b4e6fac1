package baidu_test

import (
	"bytes"
	"context"
	"image/jpeg"
	"testing"

	"github.com/facekit/facekit/internal/testenv"
	"github.com/facekit/facekit/server"
	"github.com/facekit/facekit/service"
)

// Faces enrolled through user/add keep a thumbnail when the server is
// configured to, and none when it is not (privacy).
func TestUserAddStoresThumbnail(t *testing.T) {
	eng := testenv.Engine(t)
	testenv.Photo(t, "jimin.jpg")
	tests := []struct {
		name string
		on   bool
	}{{"On", true}, {"Off", false}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := mustStart(t, eng, func(c *service.Config, _ *service.Deps, _ *server.Config) { c.Thumbnails = tt.on })
			var res struct {
				FaceToken string `json:"face_token"`
			}
			e.must(v3+"/faceset/user/add", obj{
				"image": b64(testenv.Photo(t, "jimin.jpg")), "image_type": "BASE64", "group_id": "g", "user_id": "jimin",
			}, &res)
			data, err := e.db.Thumbnail(context.Background(), e.app.ID, "g", "jimin", res.FaceToken)
			if err != nil {
				t.Fatal(err)
			}
			if !tt.on {
				if data != nil {
					t.Fatalf("thumbnail stored with thumbnails off (%d bytes)", len(data))
				}
				return
			}
			img, err := jpeg.Decode(bytes.NewReader(data))
			if err != nil {
				t.Fatalf("stored thumbnail is not a JPEG: %v", err)
			}
			if b := img.Bounds(); b.Dx() != 112 || b.Dy() != 112 {
				t.Errorf("thumbnail is %v, want 112x112", b)
			}
		})
	}
}
