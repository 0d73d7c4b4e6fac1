-- Applications, their access tokens and the face library. Every library
-- table hangs off apps with ON DELETE CASCADE so removing an application
-- removes everything it owns. Times are Unix nanoseconds.

CREATE TABLE apps (
	id          TEXT PRIMARY KEY,
	name        TEXT NOT NULL,
	api_key     TEXT NOT NULL UNIQUE,
	secret_hash BLOB NOT NULL, -- 16-byte salt || SHA-256(salt || secret)
	created     INTEGER NOT NULL,
	qps         INTEGER NOT NULL DEFAULT 0,
	quota       INTEGER NOT NULL DEFAULT 0,
	calls_used  INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE access_tokens (
	token_hash BLOB PRIMARY KEY, -- SHA-256 of the bearer token
	app_id     TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
	expires    INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX access_tokens_app ON access_tokens(app_id);

-- groups.id orders groups by creation for paging.
CREATE TABLE groups (
	id       INTEGER PRIMARY KEY,
	app_id   TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
	group_id TEXT NOT NULL,
	created  INTEGER NOT NULL,
	UNIQUE (app_id, group_id)
);

CREATE TABLE users (
	id        INTEGER PRIMARY KEY,
	group_ref INTEGER NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
	user_id   TEXT NOT NULL,
	info      TEXT NOT NULL DEFAULT '',
	created   INTEGER NOT NULL,
	UNIQUE (group_ref, user_id)
);
-- GetUser and DeleteUser with no group look a user up across groups.
CREATE INDEX users_user_id ON users(user_id);

-- vector is little-endian float32; model names the embedding's producer.
CREATE TABLE faces (
	id         INTEGER PRIMARY KEY,
	user_ref   INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	face_token TEXT NOT NULL,
	model      TEXT NOT NULL,
	vector     BLOB NOT NULL,
	created    INTEGER NOT NULL,
	thumbnail  BLOB,
	UNIQUE (user_ref, face_token)
);

-- Detected faces remembered for image_type=FACE_TOKEN. id orders entries
-- for eviction; face_token_count keeps an exact row count through triggers
-- so a put never has to count the table.
CREATE TABLE face_tokens (
	id         INTEGER PRIMARY KEY,
	app_id     TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
	face_token TEXT NOT NULL,
	model      TEXT NOT NULL,
	vector     BLOB NOT NULL,
	created    INTEGER NOT NULL,
	UNIQUE (app_id, face_token)
);
CREATE TABLE face_token_count (
	one INTEGER PRIMARY KEY CHECK (one = 1),
	n   INTEGER NOT NULL
);
INSERT INTO face_token_count (one, n) VALUES (1, 0);
CREATE TRIGGER face_tokens_ins AFTER INSERT ON face_tokens
BEGIN
	UPDATE face_token_count SET n = n + 1 WHERE one = 1;
END;
CREATE TRIGGER face_tokens_del AFTER DELETE ON face_tokens
BEGIN
	UPDATE face_token_count SET n = n - 1 WHERE one = 1;
END;

-- Voice-code sessions for video liveness.
CREATE TABLE session_codes (
	app_id     TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
	session_id TEXT NOT NULL,
	code       TEXT NOT NULL,
	expires    INTEGER NOT NULL,
	PRIMARY KEY (app_id, session_id)
) WITHOUT ROWID;
CREATE INDEX session_codes_expires ON session_codes(expires);
