package baidu

import (
	"context"
	"errors"
	"fmt"

	"github.com/facekit/facekit/store"
)

// allGroups is the group_id the cloud API accepts in user/get and
// user/delete to mean "every group".
const allGroups = "@ALL"

type enrollResult struct {
	FaceToken string    `json:"face_token"`
	Location  *location `json:"location,omitempty"`
}

// enroll is user/add and user/update: actions maps the request's
// action_type to the library's action, def is the default action_type.
func (d *Dialect) enroll(ctx context.Context, app store.App, p params, def string, actions map[string]store.AddAction) (any, error) {
	group, err := p.id("group_id", CodeGroupIDFormat)
	if err != nil {
		return nil, err
	}
	user, err := p.id("user_id", CodeUserIDFormat)
	if err != nil {
		return nil, err
	}
	info, _, err := p.str("user_info", CodeUserInfoFormat)
	if err != nil {
		return nil, err
	}
	if len(info) > store.MaxUserInfo {
		return nil, errCode(CodeUserInfoFormat, fmt.Errorf("user_info is %d bytes, limit %d", len(info), store.MaxUserInfo))
	}
	names := make([]string, 0, len(actions))
	for n := range actions {
		names = append(names, n)
	}
	act, err := p.oneOf("action_type", def, CodeInvalidParameter, names...)
	if err != nil {
		return nil, err
	}
	face, err := d.probe(ctx, app, p, "image", "image_type", "", "")
	if err != nil {
		return nil, err
	}
	f, err := d.core.Enroll(ctx, app.ID, store.User{GroupID: group, UserID: user, Info: info}, face, actions[act])
	if err != nil {
		return nil, err
	}
	return enrollResult{FaceToken: f.Token, Location: locate(face)}, nil
}

func (d *Dialect) userAdd(ctx context.Context, app store.App, req request) (any, error) {
	return d.enroll(ctx, app, req.obj, "APPEND", map[string]store.AddAction{
		"APPEND":  store.ActionAppend,
		"REPLACE": store.ActionReplace,
	})
}

func (d *Dialect) userUpdate(ctx context.Context, app store.App, req request) (any, error) {
	return d.enroll(ctx, app, req.obj, "UPDATE", map[string]store.AddAction{
		"UPDATE":  store.ActionUpdate,
		"REPLACE": store.ActionUpdateReplace,
	})
}

func (d *Dialect) faceDelete(ctx context.Context, app store.App, req request) (any, error) {
	p := req.obj
	user, err := p.id("user_id", CodeUserIDFormat)
	if err != nil {
		return nil, err
	}
	group, err := p.id("group_id", CodeGroupIDFormat)
	if err != nil {
		return nil, err
	}
	token, err := p.id("face_token", CodeFaceTokenFormat)
	if err != nil {
		return nil, err
	}
	return nil, d.core.Library().DeleteFace(ctx, app.ID, group, user, token)
}

// groupOrAll reads group_id, mapping "@ALL" to "" (every group).
func groupOrAll(p params) (string, error) {
	if s, ok, _ := p.str("group_id", CodeGroupIDFormat); ok && s == allGroups {
		return "", nil
	}
	return p.id("group_id", CodeGroupIDFormat)
}

type userGetResult struct {
	UserList []userInfo `json:"user_list"`
}

type userInfo struct {
	UserInfo string `json:"user_info"`
	GroupID  string `json:"group_id"`
}

func (d *Dialect) userGet(ctx context.Context, app store.App, req request) (any, error) {
	p := req.obj
	user, err := p.id("user_id", CodeUserIDFormat)
	if err != nil {
		return nil, err
	}
	group, err := groupOrAll(p)
	if err != nil {
		return nil, err
	}
	users, err := d.core.Library().GetUser(ctx, app.ID, group, user)
	if err != nil {
		return nil, err
	}
	res := userGetResult{UserList: make([]userInfo, len(users))}
	for i, u := range users {
		res.UserList[i] = userInfo{UserInfo: u.Info, GroupID: u.GroupID}
	}
	return res, nil
}

type faceListResult struct {
	FaceList []faceEntry `json:"face_list"`
}

type faceEntry struct {
	FaceToken string `json:"face_token"`
	Ctime     string `json:"ctime"`
}

func (d *Dialect) faceGetlist(ctx context.Context, app store.App, req request) (any, error) {
	p := req.obj
	user, err := p.id("user_id", CodeUserIDFormat)
	if err != nil {
		return nil, err
	}
	group, err := p.id("group_id", CodeGroupIDFormat)
	if err != nil {
		return nil, err
	}
	faces, err := d.core.Library().ListFaces(ctx, app.ID, group, user)
	if err != nil {
		return nil, err
	}
	res := faceListResult{FaceList: make([]faceEntry, len(faces))}
	for i, f := range faces {
		res.FaceList[i] = faceEntry{FaceToken: f.Token, Ctime: f.Created.Local().Format("2006-01-02 15:04:05")}
	}
	return res, nil
}

// page reads start (default 0) and length (default 100, at most 1000).
func page(p params) (int, int, error) {
	start, err := p.intIn("start", 0, 0, 1<<31-1, CodeStartFormat)
	if err != nil {
		return 0, 0, err
	}
	length, err := p.intIn("length", defaultPageLength, 1, store.MaxPageLength, CodeLengthFormat)
	if err != nil {
		return 0, 0, err
	}
	return start, length, nil
}

type userIDList struct {
	UserIDList []string `json:"user_id_list"`
}

func (d *Dialect) groupGetusers(ctx context.Context, app store.App, req request) (any, error) {
	p := req.obj
	group, err := p.id("group_id", CodeGroupIDFormat)
	if err != nil {
		return nil, err
	}
	start, length, err := page(p)
	if err != nil {
		return nil, err
	}
	users, err := d.core.Library().ListUsers(ctx, app.ID, group, start, length)
	if err != nil {
		return nil, err
	}
	if users == nil {
		users = []string{}
	}
	return userIDList{UserIDList: users}, nil
}

func (d *Dialect) userCopy(ctx context.Context, app store.App, req request) (any, error) {
	p := req.obj
	user, err := p.id("user_id", CodeUserIDFormat)
	if err != nil {
		return nil, err
	}
	src, err := p.id("src_group_id", CodeGroupIDFormat)
	if err != nil {
		return nil, err
	}
	dst, err := p.id("dst_group_id", CodeGroupIDFormat)
	if err != nil {
		return nil, err
	}
	lib := d.core.Library()
	// The library reports a missing group without saying which; the
	// cloud API has a code of its own for the destination.
	if _, err := lib.ListUsers(ctx, app.ID, dst, 0, 1); errors.Is(err, store.ErrGroupNotFound) {
		return nil, errCode(CodeDstGroupNotExist, err)
	}
	return nil, lib.CopyUser(ctx, app.ID, user, src, dst)
}

func (d *Dialect) userDelete(ctx context.Context, app store.App, req request) (any, error) {
	p := req.obj
	group, err := groupOrAll(p)
	if err != nil {
		return nil, err
	}
	user, err := p.id("user_id", CodeUserIDFormat)
	if err != nil {
		return nil, err
	}
	return nil, d.core.Library().DeleteUser(ctx, app.ID, group, user)
}

func (d *Dialect) groupAdd(ctx context.Context, app store.App, req request) (any, error) {
	group, err := req.obj.id("group_id", CodeGroupIDFormat)
	if err != nil {
		return nil, err
	}
	return nil, d.core.Library().CreateGroup(ctx, app.ID, group)
}

func (d *Dialect) groupDelete(ctx context.Context, app store.App, req request) (any, error) {
	group, err := req.obj.id("group_id", CodeGroupIDFormat)
	if err != nil {
		return nil, err
	}
	return nil, d.core.Library().DeleteGroup(ctx, app.ID, group)
}

type groupIDList struct {
	GroupIDList []string `json:"group_id_list"`
}

func (d *Dialect) groupGetlist(ctx context.Context, app store.App, req request) (any, error) {
	start, length, err := page(req.obj)
	if err != nil {
		return nil, err
	}
	groups, err := d.core.Library().ListGroups(ctx, app.ID, start, length)
	if err != nil {
		return nil, err
	}
	if groups == nil {
		groups = []string{}
	}
	return groupIDList{GroupIDList: groups}, nil
}
