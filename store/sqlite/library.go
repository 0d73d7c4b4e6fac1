package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

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
	return db.write(ctx, func(tx *sql.Tx) (indexUpdate, error) {
		if err := checkApp(ctx, tx, app); err != nil {
			return nil, err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO groups (app_id, group_id, created) VALUES (?, ?, ?)`, app, group, nanos(db.opts.Now()))
		if isUnique(err) {
			return nil, fmt.Errorf("sqlite: group %q: %w", group, store.ErrGroupExists)
		}
		if err != nil {
			return nil, fmt.Errorf("sqlite: create group %q: %w", group, err)
		}
		return func(w *index.Writer) error { w.AddGroup(app, group); return nil }, nil
	})
}

// DeleteGroup removes a group with its users and faces. It returns
// store.ErrInvalidID or store.ErrGroupNotFound.
func (db *DB) DeleteGroup(ctx context.Context, app, group string) error {
	if err := validIDs(group); err != nil {
		return err
	}
	return db.write(ctx, func(tx *sql.Tx) (indexUpdate, error) {
		res, err := tx.ExecContext(ctx, `DELETE FROM groups WHERE app_id = ? AND group_id = ?`, app, group)
		if err != nil {
			return nil, fmt.Errorf("sqlite: delete group %q: %w", group, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil, fmt.Errorf("sqlite: group %q: %w", group, store.ErrGroupNotFound)
		}
		return func(w *index.Writer) error { w.RemoveGroup(app, group); return nil }, nil
	})
}

// ListGroups returns group ids in creation order. It returns
// store.ErrInvalidPage.
func (db *DB) ListGroups(ctx context.Context, app string, start, length int) ([]string, error) {
	if err := validPage(start, length); err != nil {
		return nil, err
	}
	ids := []string{}
	err := db.read(ctx, func(tx *sql.Tx) error {
		var err error
		ids, err = queryStrings(ctx, tx, `SELECT group_id FROM groups WHERE app_id = ? ORDER BY id LIMIT ? OFFSET ?`, app, length, start)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: list groups: %w", err)
	}
	return ids, nil
}

// AddFace enrolls face for user according to action, creating the group
// when absent. A non-empty user.Info replaces the stored info; an empty one
// keeps it. An empty face.Token gets a random 32-hex-digit token. It
// returns store.ErrInvalidID, store.ErrUserInfoLength,
// store.ErrInvalidEmbedding, store.ErrAppNotFound, store.ErrUserNotFound
// (ActionUpdate), store.ErrFaceExists, store.ErrTooManyFaces or
// store.ErrModelMismatch (the group holds faces of another model).
func (db *DB) AddFace(ctx context.Context, app string, user store.User, face store.Face, action store.AddAction) (store.Face, error) {
	if face.Token == "" {
		face.Token = randomHex(16)
	}
	if err := validIDs(user.GroupID, user.UserID, face.Token); err != nil {
		return store.Face{}, err
	}
	if len(user.Info) > store.MaxUserInfo {
		return store.Face{}, fmt.Errorf("sqlite: user_info of %d bytes: %w", len(user.Info), store.ErrUserInfoLength)
	}
	if err := face.Embedding.Validate(); err != nil {
		return store.Face{}, err
	}
	if action < store.ActionAppend || action > store.ActionUpdateReplace {
		return store.Face{}, fmt.Errorf("sqlite: unknown add action %d", action)
	}
	group := user.GroupID
	face.GroupID, face.UserID = group, user.UserID
	face.Created = db.opts.Now()
	// Keep our own copy: the index must not alias the caller's slice.
	face.Embedding.Vector = append([]float32(nil), face.Embedding.Vector...)
	replace := action == store.ActionReplace || action == store.ActionUpdateReplace

	err := db.write(ctx, func(tx *sql.Tx) (indexUpdate, error) {
		if err := checkApp(ctx, tx, app); err != nil {
			return nil, err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO groups (app_id, group_id, created) VALUES (?, ?, ?)
			ON CONFLICT (app_id, group_id) DO NOTHING`, app, group, nanos(face.Created)); err != nil {
			return nil, fmt.Errorf("sqlite: create group %q: %w", group, err)
		}
		gref, err := groupRef(ctx, tx, app, group)
		if err != nil {
			return nil, err
		}
		uref, info, err := userRef(ctx, tx, gref, user.UserID)
		exists := err == nil
		if err != nil && !errors.Is(err, store.ErrUserNotFound) {
			return nil, err
		}
		if !exists && action == store.ActionUpdate {
			return nil, err
		}
		if user.Info != "" {
			info = user.Info
		}
		if exists && replace {
			if _, err := tx.ExecContext(ctx, `DELETE FROM faces WHERE user_ref = ?`, uref); err != nil {
				return nil, fmt.Errorf("sqlite: replace faces of %q: %w", user.UserID, err)
			}
		}
		if exists && !replace {
			var n, same int
			if err := tx.QueryRowContext(ctx, `SELECT count(*), count(CASE WHEN face_token = ? THEN 1 END) FROM faces WHERE user_ref = ?`,
				face.Token, uref).Scan(&n, &same); err != nil {
				return nil, fmt.Errorf("sqlite: count faces of %q: %w", user.UserID, err)
			}
			if same > 0 {
				return nil, fmt.Errorf("sqlite: face %s of user %q: %w", face.Token, user.UserID, store.ErrFaceExists)
			}
			if n >= store.MaxFacesPerUser {
				return nil, fmt.Errorf("sqlite: user %q has %d faces: %w", user.UserID, n, store.ErrTooManyFaces)
			}
		}
		// After a replace the user's old faces are gone, so a user alone
		// in its group may switch models.
		if err := checkModel(ctx, tx, gref, group, face.Embedding.Model, len(face.Embedding.Vector)); err != nil {
			return nil, err
		}
		if exists {
			if _, err := tx.ExecContext(ctx, `UPDATE users SET info = ? WHERE id = ?`, info, uref); err != nil {
				return nil, fmt.Errorf("sqlite: update user %q: %w", user.UserID, err)
			}
		} else {
			res, err := tx.ExecContext(ctx, `INSERT INTO users (group_ref, user_id, info, created) VALUES (?, ?, ?, ?)`,
				gref, user.UserID, info, nanos(face.Created))
			if err != nil {
				return nil, fmt.Errorf("sqlite: create user %q: %w", user.UserID, err)
			}
			if uref, err = res.LastInsertId(); err != nil {
				return nil, fmt.Errorf("sqlite: create user %q: %w", user.UserID, err)
			}
		}
		crop, marks, err := blob.EncodeSource(face.Source)
		if err != nil {
			return nil, fmt.Errorf("sqlite: face %s: %w", face.Token, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO faces (user_ref, face_token, model, vector, created, thumbnail, source_crop, source_landmarks)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			uref, face.Token, face.Embedding.Model, blob.EncodeVector(face.Embedding.Vector), nanos(face.Created), face.Thumbnail, crop, marks); err != nil {
			return nil, fmt.Errorf("sqlite: add face %s: %w", face.Token, err)
		}
		u := store.User{GroupID: group, UserID: user.UserID, Info: info}
		return func(w *index.Writer) error {
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

// DeleteFace removes one face; a user left without faces is removed, as
// the cloud API does. It returns store.ErrInvalidID, store.ErrUserNotFound
// (also for an absent group) or store.ErrFaceNotFound.
func (db *DB) DeleteFace(ctx context.Context, app, group, user, token string) error {
	if err := validIDs(group, user, token); err != nil {
		return err
	}
	return db.write(ctx, func(tx *sql.Tx) (indexUpdate, error) {
		uref, err := findUser(ctx, tx, app, group, user)
		if err != nil {
			return nil, err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM faces WHERE user_ref = ? AND face_token = ?`, uref, token)
		if err != nil {
			return nil, fmt.Errorf("sqlite: delete face %s: %w", token, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil, fmt.Errorf("sqlite: face %s: %w", token, store.ErrFaceNotFound)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM users WHERE id = ? AND NOT EXISTS (SELECT 1 FROM faces WHERE user_ref = ?)`, uref, uref); err != nil {
			return nil, fmt.Errorf("sqlite: drop faceless user %q: %w", user, err)
		}
		return func(w *index.Writer) error { w.RemoveFace(app, group, user, token); return nil }, nil
	})
}

// findUser returns the row id of user in (app, group) or
// store.ErrUserNotFound, also when the group is absent.
func findUser(ctx context.Context, tx *sql.Tx, app, group, user string) (int64, error) {
	var id int64
	err := tx.QueryRowContext(ctx, `SELECT u.id FROM users u JOIN groups g ON g.id = u.group_ref
		WHERE g.app_id = ? AND g.group_id = ? AND u.user_id = ?`, app, group, user).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("sqlite: user %q in group %q: %w", user, group, store.ErrUserNotFound)
	}
	if err != nil {
		return 0, fmt.Errorf("sqlite: look up user %q: %w", user, err)
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
	err := db.read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT g.group_id, u.info FROM users u JOIN groups g ON g.id = u.group_ref
			WHERE g.app_id = ? AND u.user_id = ? AND (? = '' OR g.group_id = ?) ORDER BY g.id`, app, user, group, group)
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
		return nil, fmt.Errorf("sqlite: get user %q: %w", user, err)
	}
	if len(users) == 0 {
		return nil, fmt.Errorf("sqlite: user %q: %w", user, store.ErrUserNotFound)
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
	err := db.read(ctx, func(tx *sql.Tx) error {
		uref, err := findUser(ctx, tx, app, group, user)
		if err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT face_token, model, vector, created FROM faces WHERE user_ref = ? ORDER BY id`, uref)
		if err != nil {
			return fmt.Errorf("sqlite: list faces: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			f := store.Face{GroupID: group, UserID: user}
			var (
				raw     []byte
				created int64
			)
			if err := rows.Scan(&f.Token, &f.Embedding.Model, &raw, &created); err != nil {
				return fmt.Errorf("sqlite: list faces: %w", err)
			}
			if f.Embedding.Vector, err = blob.DecodeVector(nil, raw); err != nil {
				return fmt.Errorf("sqlite: face %s: %w", f.Token, err)
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
	err := db.read(ctx, func(tx *sql.Tx) error {
		gref, err := groupRef(ctx, tx, app, group)
		if err != nil {
			return err
		}
		ids, err = queryStrings(ctx, tx, `SELECT user_id FROM users WHERE group_ref = ? ORDER BY id LIMIT ? OFFSET ?`, gref, length, start)
		if err != nil {
			return fmt.Errorf("sqlite: list users: %w", err)
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
	return db.write(ctx, func(tx *sql.Tx) (indexUpdate, error) {
		src, err := groupRef(ctx, tx, app, srcGroup)
		if err != nil {
			return nil, err
		}
		dst, err := groupRef(ctx, tx, app, dstGroup)
		if err != nil {
			return nil, err
		}
		uref, info, err := userRef(ctx, tx, src, user)
		if err != nil {
			return nil, err
		}
		if _, _, err := userRef(ctx, tx, dst, user); err == nil {
			return nil, fmt.Errorf("sqlite: user %q in group %q: %w", user, dstGroup, store.ErrUserExists)
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
		res, err := tx.ExecContext(ctx, `INSERT INTO users (group_ref, user_id, info, created) VALUES (?, ?, ?, ?)`,
			dst, user, info, nanos(db.opts.Now()))
		if err != nil {
			return nil, fmt.Errorf("sqlite: copy user %q: %w", user, err)
		}
		newRef, err := res.LastInsertId()
		if err != nil {
			return nil, fmt.Errorf("sqlite: copy user %q: %w", user, err)
		}
		// A copy is the same face: it keeps its source crop, and a vector
		// staged by a running reembed, which was computed from that crop.
		if _, err := tx.ExecContext(ctx, `INSERT INTO faces (user_ref, face_token, model, vector, created, thumbnail,
				source_crop, source_landmarks, next_model, next_vector)
			SELECT ?, face_token, model, vector, created, thumbnail, source_crop, source_landmarks, next_model, next_vector
			FROM faces WHERE user_ref = ? ORDER BY id`, newRef, uref); err != nil {
			return nil, fmt.Errorf("sqlite: copy faces of %q: %w", user, err)
		}
		faces, err := userEmbeddings(ctx, tx, newRef)
		if err != nil {
			return nil, err
		}
		u := store.User{GroupID: dstGroup, UserID: user, Info: info}
		return func(w *index.Writer) error {
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
func userEmbeddings(ctx context.Context, tx *sql.Tx, uref int64) ([]store.Face, error) {
	rows, err := tx.QueryContext(ctx, `SELECT face_token, model, vector FROM faces WHERE user_ref = ? ORDER BY id`, uref)
	if err != nil {
		return nil, fmt.Errorf("sqlite: read faces: %w", err)
	}
	defer rows.Close()
	var faces []store.Face
	for rows.Next() {
		var (
			f   store.Face
			raw []byte
		)
		if err := rows.Scan(&f.Token, &f.Embedding.Model, &raw); err != nil {
			return nil, fmt.Errorf("sqlite: read faces: %w", err)
		}
		if f.Embedding.Vector, err = blob.DecodeVector(nil, raw); err != nil {
			return nil, fmt.Errorf("sqlite: face %s: %w", f.Token, err)
		}
		faces = append(faces, f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: read faces: %w", err)
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
	return db.write(ctx, func(tx *sql.Tx) (indexUpdate, error) {
		groups, err := queryStrings(ctx, tx, `SELECT g.group_id FROM users u JOIN groups g ON g.id = u.group_ref
			WHERE g.app_id = ? AND u.user_id = ? AND (? = '' OR g.group_id = ?)`, app, user, group, group)
		if err != nil {
			return nil, fmt.Errorf("sqlite: find user %q: %w", user, err)
		}
		if len(groups) == 0 {
			return nil, fmt.Errorf("sqlite: user %q: %w", user, store.ErrUserNotFound)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM users WHERE user_id = ? AND group_ref IN
			(SELECT id FROM groups WHERE app_id = ? AND (? = '' OR group_id = ?))`, user, app, group, group); err != nil {
			return nil, fmt.Errorf("sqlite: delete user %q: %w", user, err)
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
	err := db.r.QueryRowContext(ctx, `SELECT f.thumbnail FROM faces f JOIN users u ON u.id = f.user_ref JOIN groups g ON g.id = u.group_ref
		WHERE g.app_id = ? AND g.group_id = ? AND u.user_id = ? AND f.face_token = ?`, app, group, user, token).Scan(&thumb)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("sqlite: face %s: %w", token, store.ErrFaceNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: thumbnail %s: %w", token, err)
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
	err := db.r.QueryRowContext(ctx, `SELECT f.source_crop, f.source_landmarks FROM faces f JOIN users u ON u.id = f.user_ref
		JOIN groups g ON g.id = u.group_ref
		WHERE g.app_id = ? AND g.group_id = ? AND u.user_id = ? AND f.face_token = ?`, app, group, user, token).Scan(&crop, &marks)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("sqlite: face %s: %w", token, store.ErrFaceNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: source crop %s: %w", token, err)
	}
	src, err := blob.DecodeSource(crop, marks)
	if err != nil {
		return nil, fmt.Errorf("sqlite: source crop %s: %w", token, err)
	}
	return src, nil
}

// Search finds the k users nearest to probe in the in-memory index; see
// store.Searcher and index.Index.Search for the order and errors.
func (db *DB) Search(ctx context.Context, app string, groups []string, probe store.Embedding, userID string, k int) ([]store.Candidate, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return db.idx.Search(app, groups, probe, userID, k)
}

// queryStrings runs a query returning one text column.
func queryStrings(ctx context.Context, tx *sql.Tx, query string, args ...any) ([]string, error) {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}
