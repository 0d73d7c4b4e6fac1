-- The face-token cache is bounded per application, so one application's
-- detects never evict another's tokens. The single row count becomes one
-- count per application (kept exact by triggers, as before, so a put never
-- counts rows), and (app_id, id) finds an application's oldest entries.
DROP TRIGGER face_tokens_ins;
DROP TRIGGER face_tokens_del;
DROP TABLE face_token_count;
CREATE TABLE face_token_counts (
	app_id TEXT PRIMARY KEY REFERENCES apps(id) ON DELETE CASCADE,
	n      INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO face_token_counts (app_id, n) SELECT app_id, count(*) FROM face_tokens GROUP BY app_id;
CREATE INDEX face_tokens_app ON face_tokens(app_id, id);
CREATE TRIGGER face_tokens_ins AFTER INSERT ON face_tokens
BEGIN
	INSERT OR IGNORE INTO face_token_counts (app_id, n) VALUES (NEW.app_id, 0);
	UPDATE face_token_counts SET n = n + 1 WHERE app_id = NEW.app_id;
END;
CREATE TRIGGER face_tokens_del AFTER DELETE ON face_tokens
BEGIN
	UPDATE face_token_counts SET n = n - 1 WHERE app_id = OLD.app_id;
END;
