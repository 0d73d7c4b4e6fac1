package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/facekit/facekit/store"
	"github.com/facekit/facekit/store/index"
)

// maxReplay is how many change entries a catch-up applies one by one;
// beyond it (a node that was cut off for long) reloading the whole index
// is cheaper.
const maxReplay = 20000

// keepChanges is how many change numbers the log keeps; older entries are
// pruned by the poll. A node further behind reloads its index.
const keepChanges = 100000

// CatchUp applies the changes other nodes committed since the index's last
// change number. It is what a notification or a poll triggers; tests call
// it to wait for a node to be current.
func (db *DB) CatchUp(ctx context.Context) error {
	db.followMu.Lock()
	defer db.followMu.Unlock()
	return db.catchUpLocked(ctx)
}

// catchUpLocked reads, in one snapshot, the change number, the entries
// after the index's and the current state of everything they touched, and
// applies that state: the result is the index of the snapshot whatever
// order the entries came in, and applying an entry twice is harmless.
func (db *DB) catchUpLocked(ctx context.Context) error {
	tx, err := db.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return db.fail("catch up", err)
	}
	defer tx.Rollback(ctx)
	// next is the first logged number after the index's; every number
	// handed out has entries, so anything but seq+1 means the log was
	// pruned past this node.
	var head, next int64
	if err := tx.QueryRow(ctx, `SELECT seq, (SELECT coalesce(min(seq), 0) FROM changes WHERE seq > $1) FROM change_seq`,
		db.seq).Scan(&head, &next); err != nil {
		return db.fail("catch up", err)
	}
	if head <= db.seq {
		db.down.Store(false)
		return nil
	}
	if head-db.seq > maxReplay || next != db.seq+1 {
		return db.reloadIn(ctx, tx, head)
	}
	rows, err := tx.Query(ctx, `SELECT kind, app_id, group_id, user_id FROM changes WHERE seq > $1 AND seq <= $2 ORDER BY seq`, db.seq, head)
	if err != nil {
		return db.fail("catch up", err)
	}
	type key struct{ app, group, user string }
	var (
		groups, users []key
		seen          = map[key]bool{}
		all           bool
	)
	for rows.Next() {
		var kind string
		var k key
		if err := rows.Scan(&kind, &k.app, &k.group, &k.user); err != nil {
			rows.Close()
			return db.fail("catch up", err)
		}
		switch {
		case kind == "all":
			all = true
		case !db.holds(k.group) || seen[k]:
		case kind == "group":
			seen[k] = true
			groups = append(groups, k)
		default:
			seen[k] = true
			users = append(users, k)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return db.fail("catch up", err)
	}
	if all || len(users) > maxReplay {
		return db.reloadIn(ctx, tx, head)
	}

	// Which touched groups exist in the snapshot.
	ga, gg := make([]string, len(groups)), make([]string, len(groups))
	for i, g := range groups {
		ga[i], gg[i] = g.app, g.group
	}
	exists := map[key]bool{}
	if len(groups) > 0 {
		rows, err := tx.Query(ctx, `SELECT g.app_id, g.group_id FROM unnest($1::text[], $2::text[]) AS t(a, g)
			JOIN groups g ON g.app_id = t.a AND g.group_id = t.g`, ga, gg)
		if err != nil {
			return db.fail("catch up", err)
		}
		for rows.Next() {
			var k key
			if err := rows.Scan(&k.app, &k.group); err != nil {
				rows.Close()
				return db.fail("catch up", err)
			}
			exists[k] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return db.fail("catch up", err)
		}
	}
	ua, ug, uu := make([]string, len(users)), make([]string, len(users)), make([]string, len(users))
	for i, u := range users {
		ua[i], ug[i], uu[i] = u.app, u.group, u.user
	}
	err = db.idx.Update(func(w *index.Writer) error {
		for _, g := range groups {
			if exists[g] {
				w.AddGroup(g.app, g.group)
			} else {
				w.RemoveGroup(g.app, g.group)
			}
		}
		for _, u := range users {
			w.RemoveUser(u.app, u.group, u.user)
		}
		if len(users) == 0 {
			return nil
		}
		return db.addFaceRows(ctx, tx, w, `SELECT g.app_id, g.group_id, u.user_id, u.info, f.face_token, f.model, f.vector
			FROM unnest($1::text[], $2::text[], $3::text[]) AS t(a, g, u)
			JOIN groups g ON g.app_id = t.a AND g.group_id = t.g
			JOIN users u ON u.group_ref = g.id AND u.user_id = t.u
			JOIN faces f ON f.user_ref = u.id
			ORDER BY f.id`, ua, ug, uu)
	})
	if err != nil {
		// The index may be half-patched: rebuild it rather than serve
		// a state that never existed.
		return db.reloadIn(ctx, tx, head)
	}
	db.seq = head
	db.down.Store(false)
	return nil
}

// reloadIn rebuilds the index from tx's snapshot, whose change number is
// head.
func (db *DB) reloadIn(ctx context.Context, tx pgx.Tx, head int64) error {
	if err := db.idx.Update(func(w *index.Writer) error { return db.fillIndex(ctx, tx, w) }); err != nil {
		return err
	}
	db.seq = head
	db.down.Store(false)
	return nil
}

// follow catches up when woken by the listener and on every poll, and
// now and then prunes the change log.
func (db *DB) follow() {
	defer db.done.Done()
	var tick <-chan time.Time
	if db.opts.PollInterval > 0 {
		t := time.NewTicker(db.opts.PollInterval)
		defer t.Stop()
		tick = t.C
	}
	lastPrune := time.Now()
	for {
		select {
		case <-db.stop:
			return
		case <-db.wake:
		case <-tick:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		// A failed catch-up is retried at the next wake-up or poll; the
		// index keeps answering from the last state meanwhile.
		_ = db.CatchUp(ctx)
		if time.Since(lastPrune) > time.Minute {
			lastPrune = time.Now()
			db.pool.Exec(ctx, `DELETE FROM changes WHERE seq <= (SELECT seq FROM change_seq) - $1`, keepChanges)
		}
		cancel()
	}
}

// poke wakes the follower without blocking.
func (db *DB) poke() {
	select {
	case db.wake <- struct{}{}:
	default:
	}
}

// listen holds a connection LISTENing on facekit_changes and pokes the
// follower on every notification and after every (re)connection, since
// notifications sent while it was away are lost.
func (db *DB) listen() {
	defer db.done.Done()
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-db.stop; cancel() }()
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := db.listenOnce(ctx)
		if ctx.Err() != nil {
			return
		}
		db.fail("listen", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 2*time.Second)
	}
}

func (db *DB) listenOnce(ctx context.Context) error {
	cfg, err := pgx.ParseConfig(db.dsn)
	if err != nil {
		return err
	}
	cfg.ConnectTimeout = db.opts.ConnectTimeout
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, `LISTEN facekit_changes`); err != nil {
		return err
	}
	db.poke()
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return fmt.Errorf("wait for notification: %w", err)
		}
		db.poke()
	}
}

// Down reports whether the last operation found the database unreachable
// (and none has succeeded since), with that error.
func (db *DB) Down() (bool, string) {
	if !db.down.Load() {
		return false, ""
	}
	if p := db.lastErr.Load(); p != nil {
		return true, *p
	}
	return true, store.ErrUnavailable.Error()
}
