-- The face-token cache is bounded per application, so one application's
-- detects never evict another's tokens. face_token_counts keeps each
-- application's row count exact through a trigger (eviction then needs no
-- count of the table), and (app_id, id) finds its oldest entries.
CREATE TABLE face_token_counts (
	app_id text PRIMARY KEY REFERENCES apps(id) ON DELETE CASCADE,
	n      bigint NOT NULL
);
INSERT INTO face_token_counts (app_id, n) SELECT app_id, count(*) FROM face_tokens GROUP BY app_id;
CREATE INDEX face_tokens_app ON face_tokens(app_id, id);
CREATE FUNCTION face_tokens_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'INSERT' THEN
		INSERT INTO face_token_counts (app_id, n) VALUES (NEW.app_id, 1)
			ON CONFLICT (app_id) DO UPDATE SET n = face_token_counts.n + 1;
	ELSE
		UPDATE face_token_counts SET n = n - 1 WHERE app_id = OLD.app_id;
	END IF;
	RETURN NULL;
END
$$;
CREATE TRIGGER face_tokens_count AFTER INSERT OR DELETE ON face_tokens
	FOR EACH ROW EXECUTE FUNCTION face_tokens_count();
