-- The face library on PostgreSQL: the tables and columns of the SQLite
-- backend's migrations 0001-0003 (so export/import move rows one to one),
-- plus the change log nodes follow each other by. Times are Unix
-- nanoseconds, vectors little-endian float32 (store/internal/blob).

CREATE TABLE apps (
	id          text PRIMARY KEY,
	name        text NOT NULL,
	api_key     text NOT NULL UNIQUE,
	secret_hash bytea NOT NULL, -- 16-byte salt || SHA-256(salt || secret)
	created     bigint NOT NULL,
	qps         integer NOT NULL DEFAULT 0,
	quota       bigint NOT NULL DEFAULT 0,
	calls_used  bigint NOT NULL DEFAULT 0
);

CREATE TABLE access_tokens (
	token_hash bytea PRIMARY KEY, -- SHA-256 of the bearer token
	app_id     text NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
	expires    bigint NOT NULL
);
CREATE INDEX access_tokens_app ON access_tokens(app_id);
CREATE INDEX access_tokens_expires ON access_tokens(expires);

-- groups.id orders groups by creation for paging.
CREATE TABLE groups (
	id       bigserial PRIMARY KEY,
	app_id   text NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
	group_id text NOT NULL,
	created  bigint NOT NULL,
	UNIQUE (app_id, group_id)
);

CREATE TABLE users (
	id        bigserial PRIMARY KEY,
	group_ref bigint NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
	user_id   text NOT NULL,
	info      text NOT NULL DEFAULT '',
	created   bigint NOT NULL,
	UNIQUE (group_ref, user_id)
);
CREATE INDEX users_user_id ON users(user_id);

CREATE TABLE faces (
	id               bigserial PRIMARY KEY,
	user_ref         bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	face_token       text NOT NULL,
	model            text NOT NULL,
	vector           bytea NOT NULL,
	created          bigint NOT NULL,
	thumbnail        bytea,
	source_crop      bytea,
	source_landmarks bytea,
	next_model       text,
	next_vector      bytea,
	UNIQUE (user_ref, face_token)
);
CREATE INDEX faces_model ON faces(model);

-- Detected faces remembered for image_type=FACE_TOKEN; id orders eviction.
CREATE TABLE face_tokens (
	id         bigserial PRIMARY KEY,
	app_id     text NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
	face_token text NOT NULL,
	model      text NOT NULL,
	vector     bytea NOT NULL,
	created    bigint NOT NULL,
	box_left   integer,
	box_top    integer,
	box_right  integer,
	box_bottom integer,
	box_roll   double precision,
	UNIQUE (app_id, face_token)
);

CREATE TABLE session_codes (
	app_id     text NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
	session_id text NOT NULL,
	code       text NOT NULL,
	expires    bigint NOT NULL,
	PRIMARY KEY (app_id, session_id)
);
CREATE INDEX session_codes_expires ON session_codes(expires);

-- The change log. Every transaction that changes what the search index
-- holds takes the next number from change_seq (its row lock, held to
-- commit, makes commit order and number order the same, with no gaps) and
-- records what it touched under that number; nodes apply the entries after
-- their last seen number. kind: 'group' (re-read the group's existence),
-- 'user' (re-read the user's faces), 'all' (rebuild everything).
CREATE TABLE change_seq (
	one boolean PRIMARY KEY DEFAULT true CHECK (one),
	seq bigint NOT NULL
);
INSERT INTO change_seq (seq) VALUES (0);

CREATE TABLE changes (
	seq      bigint NOT NULL,
	kind     text NOT NULL,
	app_id   text NOT NULL DEFAULT '',
	group_id text NOT NULL DEFAULT '',
	user_id  text NOT NULL DEFAULT ''
);
CREATE INDEX changes_seq ON changes(seq);
