package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/facekit/facekit/store"
	"github.com/facekit/facekit/store/index"
	"github.com/facekit/facekit/store/internal/blob"
)

// CreateGroup creates an empty group. It returns store.ErrInvalidID,
// store.ErrAppNotFound or store.ErrGroupExists.
func (db *DB) CreateGroup(ctx context.Context, app, group string) error {
	if err := validIDs(group); err != nil {
		return err
	}
	return db.write(ctx, func(tx *wtx) (indexUpdate, error) {
		if err := checkApp(ctx, tx, app); err != nil {
			return nil, err
		}
		tag, err := tx.Exec(ctx, `INSERT INTO groups (app_id, group_id, created) VALUES ($1, $2, $3)
			ON CONFLICT (app_id, group_id) DO NOTHING`, app, group, nanos(db.opts.Now()))
		if err != nil {
			return nil, fmt.Errorf("postgres: create group %q: %w", group, err)
		}
		if tag.RowsAffected() == 0 {
			return nil, fmt.Errorf("postgres: group %q: %w", group, store.ErrGroupExists)
		}
		tx.touched(app, group, "")
		return func(w *index.Writer) error {
			if db.holds(group) {
				w.AddGroup(app, group)
			}
			return nil
		}, nil
	})
}

// DeleteGroup removes a group with its users and faces. It returns
// store.ErrInvalidID or store.ErrGroupNotFound.
func (db *DB) DeleteGroup(ctx context.Context, app, group string) error {
	if err := validIDs(group); err != nil {
		return err
	}
	return db.write(ctx, func(tx *wtx) (indexUpdate, error) {
		tag, err := tx.Exec(ctx, `DELETE FROM groups WHERE app_id = $1 AND group_id = $2`, app, group)
		if err != nil {
			return nil, fmt.Errorf("postgres: delete group %q: %w", group, err)
		}
		if tag.RowsAffected() == 0 {
			return nil, fmt.Errorf("postgres: group %q: %w", group, store.ErrGroupNotFound)
		}
		tx.touched(app, group, "")
		return func(w *index.Writer) error { w.RemoveGroup(app, group); return nil }, nil
	})
}

// ListGroups returns group ids in creation order. It returns
// store.ErrInvalidPage.
func (db *DB) ListGroups(ctx context.Context, app string, start, length int) ([]string, error) {
	if err := validPage(start, length); err != nil {
		return nil, err
	}
	var ids []string
	err := db.read(ctx, func(tx pgx.Tx) error {
		var err error
		ids, err = queryStrings(ctx, tx, `SELECT group_id FROM groups WHERE app_id = $1 ORDER BY id LIMIT $2 OFFSET $3`, app, length, start)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: list groups: %w", err)
	}
	return ids, nil
}

// AddFace enrolls face for user according to action, creating the group
// when absent; see the SQLite backend for the rules, which are the same.
// The user's row is locked (FOR UPDATE) before its faces are counted, so
// concurrent writers on any node cannot exceed store.MaxFacesPerUser
// together, and a REPLACE deletes and inserts in one transaction.
func (db *DB) AddFace(ctx context.Context, app string, user store.User, face store.Face, action store.AddAction) (store.Face, error) {
	if face.Token == "" {
		face.Token = randomHex(16)
	}
	if err := validIDs(user.GroupID, user.UserID, face.Token); err != nil {
		return store.Face{}, err
	}
	if len(user.Info) > store.MaxUserInfo {
		return store.Face{}, fmt.Errorf("postgres: user_info of %d bytes: %w", len(user.Info), store.ErrUserInfoLength)
	}
	if err := face.Embedding.Validate(); err != nil {
		return store.Face{}, err
	}
	if action < store.ActionAppend || action > store.ActionUpdateReplace {
		return store.Face{}, fmt.Errorf("postgres: unknown add action %d", action)
	}
	crop, marks, err := blob.EncodeSource(face.Source)
	if err != nil {
		return store.Face{}, fmt.Errorf("postgres: face %s: %w", face.Token, err)
	}
	group := user.GroupID
	face.GroupID, face.UserID = group, user.UserID
	face.Created = db.opts.Now()
	// Keep our own copy: the index must not alias the caller's slice.
	face.Embedding.Vector = append([]float32(nil), face.Embedding.Vector...)
	replace := action == store.ActionReplace || action == store.ActionUpdateReplace

	err = db.write(ctx, func(tx *wtx) (indexUpdate, error) {
		if err := checkApp(ctx, tx, app); err != nil {
			return nil, err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO groups (app_id, group_id, created) VALUES ($1, $2, $3)
			ON CONFLICT (app_id, group_id) DO NOTHING`, app, group, nanos(face.Created)); err != nil {
			return nil, fmt.Errorf("postgres: create group %q: %w", group, err)
		}
		// FOR SHARE: a concurrent DeleteGroup waits for this transaction.
		gref, err := groupRef(ctx, tx, app, group, "FOR SHARE")
		if err != nil {
			return nil, err
		}
		uref, info, exists, err := lockOrCreateUser(ctx, tx, gref, user, action == store.ActionUpdate, face.Created)
		if err != nil {
			return nil, err
		}
		if user.Info != "" {
			info = user.Info
		}
		if exists && replace {
			if _, err := tx.Exec(ctx, `DELETE FROM faces WHERE user_ref = $1`, uref); err != nil {
				return nil, fmt.Errorf("postgres: replace faces of %q: %w", user.UserID, err)
			}
		}
		if exists && !replace {
			var n, same int
			if err := tx.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE face_token = $1) FROM faces WHERE user_ref = $2`,
				face.Token, uref).Scan(&n, &same); err != nil {
				return nil, fmt.Errorf("postgres: count faces of %q: %w", user.UserID, err)
			}
			if same > 0 {
				return nil, fmt.Errorf("postgres: face %s of user %q: %w", face.Token, user.UserID, store.ErrFaceExists)
			}
			if n >= store.MaxFacesPerUser {
				return nil, fmt.Errorf("postgres: user %q has %d faces: %w", user.UserID, n, store.ErrTooManyFaces)
			}
		}
		if err := checkModel(ctx, tx, gref, group, face.Embedding.Model, len(face.Embedding.Vector)); err != nil {
			return nil, err
		}
		if _, err := tx.Exec(ctx, `UPDATE users SET info = $1 WHERE id = $2`, info, uref); err != nil {
			return nil, fmt.Errorf("postgres: update user %q: %w", user.UserID, err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO faces (user_ref, face_token, model, vector, created, thumbnail, source_crop, source_landmarks)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
			uref, face.Token, face.Embedding.Model, encodeVector(face.Embedding.Vector), nanos(face.Created), face.Thumbnail, crop, marks); err != nil {
			return nil, fmt.Errorf("postgres: add face %s: %w", face.Token, err)
		}
		tx.touched(app, group, "")
		tx.touched(app, group, user.UserID)
		u := store.User{GroupID: group, UserID: user.UserID, Info: info}
		return func(w *index.Writer) error {
			if !db.holds(group) {
				return nil
			}
			w.AddGroup(app, group)
			if replace {
				w.RemoveUser(app, group, user.UserID)
			}
			return w.AddFace(app, group, u, face.Token, face.Embedding)
		}, nil
	})
	if err != nil {
		return store.Face{}, err
	}
	return face, nil
}

// lockOrCreateUser returns the user's row locked FOR UPDATE, creating it
// unless mustExist (then store.ErrUserNotFound). exists says whether the
// user was there before. Two nodes creating the same user race on the
// unique key: the loser sees the winner's row on its next look.
func lockOrCreateUser(ctx context.Context, tx *wtx, gref int64, user store.User, mustExist bool, created interface{ UnixNano() int64 }) (int64, string, bool, error) {
	for range 3 {
		uref, info, err := userRef(ctx, tx, gref, user.UserID, "FOR UPDATE")
		if err == nil {
			return uref, info, true, nil
		}
		if !errors.Is(err, store.ErrUserNotFound) || mustExist {
			return 0, "", false, err
		}
		err = tx.QueryRow(ctx, `INSERT INTO users (group_ref, user_id, info, created) VALUES ($1, $2, '', $3)
			ON CONFLICT (group_ref, user_id) DO NOTHING RETURNING id`, gref, user.UserID, created.UnixNano()).Scan(&uref)
		if err == nil {
			return uref, "", false, nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return 0, "", false, fmt.Errorf("postgres: create user %q: %w", user.UserID, err)
		}
	}
	return 0, "", false, fmt.Errorf("postgres: create user %q: lost the race three times", user.UserID)
}

// DeleteFace removes one face; a user left without faces is removed. It
// returns store.ErrInvalidID, store.ErrUserNotFound (also for an absent
// group) or store.ErrFaceNotFound.
func (db *DB) DeleteFace(ctx context.Context, app, group, user, token string) error {
	if err := validIDs(group, user, token); err != nil {
		return err
	}
	return db.write(ctx, func(tx *wtx) (indexUpdate, error) {
		uref, err := findUser(ctx, tx, app, group, user, "FOR UPDATE OF u")
		if err != nil {
			return nil, err
		}
		tag, err := tx.Exec(ctx, `DELETE FROM faces WHERE user_ref = $1 AND face_token = $2`, uref, token)
		if err != nil {
			return nil, fmt.Errorf("postgres: delete face %s: %w", token, err)
		}
		if tag.RowsAffected() == 0 {
			return nil, fmt.Errorf("postgres: face %s: %w", token, store.ErrFaceNotFound)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM users WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM faces WHERE user_ref = $1)`, uref); err != nil {
			return nil, fmt.Errorf("postgres: drop faceless user %q: %w", user, err)
		}
		tx.touched(app, group, user)
		return func(w *index.Writer) error { w.RemoveFace(app, group, user, token); return nil }, nil
	})
}

// findUser returns the row id of user in (app, group) or
// store.ErrUserNotFound, also when the group is absent.
func findUser(ctx context.Context, tx pgx.Tx, app, group, user, lock string) (int64, error) {
	var id int64
	err := tx.QueryRow(ctx, `SELECT u.id FROM users u JOIN groups g ON g.id = u.group_ref
		WHERE g.app_id = $1 AND g.group_id = $2 AND u.user_id = $3 `+lock, app, group, user).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, fmt.Errorf("postgres: user %q in group %q: %w", user, group, store.ErrUserNotFound)
	}
	if err != nil {
		return 0, fmt.Errorf("postgres: look up user %q: %w", user, err)
	}
	return id, nil
}

// GetUser returns the user in group, or in every group (in group creation
// order) when group is "". It returns store.ErrInvalidID or
// store.ErrUserNotFound.
func (db *DB) GetUser(ctx context.Context, app, group, user string) ([]store.User, error) {
	if err := validIDs(user); err != nil {
		return nil, err
	}
	if group != "" {
		if err := validIDs(group); err != nil {
			return nil, err
		}
	}
	var users []store.User
	err := db.read(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT g.group_id, u.info FROM users u JOIN groups g ON g.id = u.group_ref
			WHERE g.app_id = $1 AND u.user_id = $2 AND ($3 = '' OR g.group_id = $3) ORDER BY g.id`, app, user, group)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			u := store.User{UserID: user}
			if err := rows.Scan(&u.GroupID, &u.Info); err != nil {
				return err
			}
			users = append(users, u)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: get user %q: %w", user, err)
	}
	if len(users) == 0 {
		return nil, fmt.Errorf("postgres: user %q: %w", user, store.ErrUserNotFound)
	}
	return users, nil
}

// ListFaces returns the user's faces in enrollment order, without
// thumbnails. It returns store.ErrInvalidID or store.ErrUserNotFound.
func (db *DB) ListFaces(ctx context.Context, app, group, user string) ([]store.Face, error) {
	if err := validIDs(group, user); err != nil {
		return nil, err
	}
	var faces []store.Face
	err := db.read(ctx, func(tx pgx.Tx) error {
		uref, err := findUser(ctx, tx, app, group, user, "")
		if err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT face_token, model, vector, created FROM faces WHERE user_ref = $1 ORDER BY id`, uref)
		if err != nil {
			return fmt.Errorf("postgres: list faces: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			f := store.Face{GroupID: group, UserID: user}
			var (
				raw     []byte
				created int64
			)
			if err := rows.Scan(&f.Token, &f.Embedding.Model, &raw, &created); err != nil {
				return fmt.Errorf("postgres: list faces: %w", err)
			}
			if f.Embedding.Vector, err = decodeVector(nil, raw); err != nil {
				return fmt.Errorf("postgres: face %s: %w", f.Token, err)
			}
			f.Created = fromNanos(created)
			faces = append(faces, f)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	return faces, nil
}

// ListUsers returns the user ids of a group in enrollment order. It
// returns store.ErrInvalidID, store.ErrInvalidPage or store.ErrGroupNotFound.
func (db *DB) ListUsers(ctx context.Context, app, group string, start, length int) ([]string, error) {
	if err := validIDs(group); err != nil {
		return nil, err
	}
	if err := validPage(start, length); err != nil {
		return nil, err
	}
	var ids []string
	err := db.read(ctx, func(tx pgx.Tx) error {
		gref, err := groupRef(ctx, tx, app, group, "")
		if err != nil {
			return err
		}
		ids, err = queryStrings(ctx, tx, `SELECT user_id FROM users WHERE group_ref = $1 ORDER BY id LIMIT $2 OFFSET $3`, gref, length, start)
		if err != nil {
			return fmt.Errorf("postgres: list users: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return ids, nil
}

// CopyUser copies a user with its info and faces from srcGroup to
// dstGroup. It returns store.ErrInvalidID, store.ErrGroupNotFound (either
// group), store.ErrUserNotFound, store.ErrUserExists or
// store.ErrModelMismatch.
func (db *DB) CopyUser(ctx context.Context, app, user, srcGroup, dstGroup string) error {
	if err := validIDs(user, srcGroup, dstGroup); err != nil {
		return err
	}
	return db.write(ctx, func(tx *wtx) (indexUpdate, error) {
		src, err := groupRef(ctx, tx, app, srcGroup, "FOR SHARE")
		if err != nil {
			return nil, err
		}
		dst, err := groupRef(ctx, tx, app, dstGroup, "FOR SHARE")
		if err != nil {
			return nil, err
		}
		uref, info, err := userRef(ctx, tx, src, user, "FOR SHARE")
		if err != nil {
			return nil, err
		}
		if _, _, err := userRef(ctx, tx, dst, user, ""); err == nil {
			return nil, fmt.Errorf("postgres: user %q in group %q: %w", user, dstGroup, store.ErrUserExists)
		} else if !errors.Is(err, store.ErrUserNotFound) {
			return nil, err
		}
		model, dim, err := groupModel(ctx, tx, src)
		if err != nil {
			return nil, err
		}
		if err := checkModel(ctx, tx, dst, dstGroup, model, dim); err != nil {
			return nil, err
		}
		var newRef int64
		err = tx.QueryRow(ctx, `INSERT INTO users (group_ref, user_id, info, created) VALUES ($1, $2, $3, $4)
			ON CONFLICT (group_ref, user_id) DO NOTHING RETURNING id`, dst, user, info, nanos(db.opts.Now())).Scan(&newRef)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, fmt.Errorf("postgres: user %q in group %q: %w", user, dstGroup, store.ErrUserExists)
		}
		if err != nil {
			return nil, fmt.Errorf("postgres: copy user %q: %w", user, err)
		}
		// A copy is the same face: it keeps its source crop, and a vector
		// staged by a running reembed, which was computed from that crop.
		if _, err := tx.Exec(ctx, `INSERT INTO faces (user_ref, face_token, model, vector, created, thumbnail,
				source_crop, source_landmarks, next_model, next_vector)
			SELECT $1, face_token, model, vector, created, thumbnail, source_crop, source_landmarks, next_model, next_vector
			FROM faces WHERE user_ref = $2 ORDER BY id`, newRef, uref); err != nil {
			return nil, fmt.Errorf("postgres: copy faces of %q: %w", user, err)
		}
		faces, err := userEmbeddings(ctx, tx, newRef)
		if err != nil {
			return nil, err
		}
		tx.touched(app, dstGroup, user)
		u := store.User{GroupID: dstGroup, UserID: user, Info: info}
		return func(w *index.Writer) error {
			if !db.holds(dstGroup) {
				return nil
			}
			for _, f := range faces {
				if err := w.AddFace(app, dstGroup, u, f.Token, f.Embedding); err != nil {
					return err
				}
			}
			return nil
		}, nil
	})
}

// userEmbeddings returns token and embedding of a user's faces.
func userEmbeddings(ctx context.Context, tx pgx.Tx, uref int64) ([]store.Face, error) {
	rows, err := tx.Query(ctx, `SELECT face_token, model, vector FROM faces WHERE user_ref = $1 ORDER BY id`, uref)
	if err != nil {
		return nil, fmt.Errorf("postgres: read faces: %w", err)
	}
	defer rows.Close()
	var faces []store.Face
	for rows.Next() {
		var (
			f   store.Face
			raw []byte
		)
		if err := rows.Scan(&f.Token, &f.Embedding.Model, &raw); err != nil {
			return nil, fmt.Errorf("postgres: read faces: %w", err)
		}
		if f.Embedding.Vector, err = decodeVector(nil, raw); err != nil {
			return nil, fmt.Errorf("postgres: face %s: %w", f.Token, err)
		}
		faces = append(faces, f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: read faces: %w", err)
	}
	return faces, nil
}

// DeleteUser removes a user from group, or from every group of the app
// when group is "". It returns store.ErrInvalidID or store.ErrUserNotFound.
func (db *DB) DeleteUser(ctx context.Context, app, group, user string) error {
	if err := validIDs(user); err != nil {
		return err
	}
	if group != "" {
		if err := validIDs(group); err != nil {
			return err
		}
	}
	return db.write(ctx, func(tx *wtx) (indexUpdate, error) {
		groups, err := queryStrings(ctx, tx, `DELETE FROM users u USING groups g
			WHERE g.id = u.group_ref AND g.app_id = $1 AND u.user_id = $2 AND ($3 = '' OR g.group_id = $3)
			RETURNING g.group_id`, app, user, group)
		if err != nil {
			return nil, fmt.Errorf("postgres: delete user %q: %w", user, err)
		}
		if len(groups) == 0 {
			return nil, fmt.Errorf("postgres: user %q: %w", user, store.ErrUserNotFound)
		}
		for _, g := range groups {
			tx.touched(app, g, user)
		}
		return func(w *index.Writer) error {
			for _, g := range groups {
				w.RemoveUser(app, g, user)
			}
			return nil
		}, nil
	})
}

// Thumbnail returns a face's stored crop, nil when it was enrolled
// without one. It returns store.ErrInvalidID or store.ErrFaceNotFound.
func (db *DB) Thumbnail(ctx context.Context, app, group, user, token string) ([]byte, error) {
	if err := validIDs(group, user, token); err != nil {
		return nil, err
	}
	var thumb []byte
	err := db.pool.QueryRow(ctx, `SELECT f.thumbnail FROM faces f JOIN users u ON u.id = f.user_ref JOIN groups g ON g.id = u.group_ref
		WHERE g.app_id = $1 AND g.group_id = $2 AND u.user_id = $3 AND f.face_token = $4`, app, group, user, token).Scan(&thumb)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("postgres: face %s: %w", token, store.ErrFaceNotFound)
	}
	if err != nil {
		return nil, db.fail("thumbnail "+token, err)
	}
	return thumb, nil
}

// SourceCrop returns a face's stored source crop, nil when it was enrolled
// without one. It returns store.ErrInvalidID or store.ErrFaceNotFound.
func (db *DB) SourceCrop(ctx context.Context, app, group, user, token string) (*store.SourceCrop, error) {
	if err := validIDs(group, user, token); err != nil {
		return nil, err
	}
	var crop, marks []byte
	err := db.pool.QueryRow(ctx, `SELECT f.source_crop, f.source_landmarks FROM faces f JOIN users u ON u.id = f.user_ref
		JOIN groups g ON g.id = u.group_ref
		WHERE g.app_id = $1 AND g.group_id = $2 AND u.user_id = $3 AND f.face_token = $4`, app, group, user, token).Scan(&crop, &marks)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("postgres: face %s: %w", token, store.ErrFaceNotFound)
	}
	if err != nil {
		return nil, db.fail("source crop "+token, err)
	}
	src, err := blob.DecodeSource(crop, marks)
	if err != nil {
		return nil, fmt.Errorf("postgres: source crop %s: %w", token, err)
	}
	return src, nil
}

// Search finds the k users nearest to probe in the in-memory index; see
// store.Searcher. It needs no database: it answers while PostgreSQL is
// unreachable, from the last state the node followed.
func (db *DB) Search(ctx context.Context, app string, groups []string, probe store.Embedding, userID string, k int) ([]store.Candidate, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return db.idx.Search(app, groups, probe, userID, k)
}
