-- One row per registered person. photo is NULL for a record without a photo
-- (the registry knows the person but holds no usable picture).
CREATE TABLE registry_photos (
    id_number    TEXT PRIMARY KEY CHECK (length(id_number) = 18),
    name         TEXT NOT NULL,
    photo        BLOB,
    content_type TEXT NOT NULL DEFAULT '',
    created      TEXT NOT NULL
) WITHOUT ROWID;
