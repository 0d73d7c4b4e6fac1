-- Source crops and re-embedding. A descriptor can only be recomputed from
-- pixels, so a face may keep a loose aligned crop of itself (JPEG) with its
-- 68 landmarks in crop coordinates (little-endian float32 x,y pairs); both
-- NULL for faces enrolled before this migration or with source crops off.
-- next_model / next_vector stage the face's descriptor under another model
-- while `facekit reembed` runs; one transaction then swaps them in.
ALTER TABLE faces ADD COLUMN source_crop BLOB;
ALTER TABLE faces ADD COLUMN source_landmarks BLOB;
ALTER TABLE faces ADD COLUMN next_model TEXT;
ALTER TABLE faces ADD COLUMN next_vector BLOB;
-- Which models the library holds is asked at every readiness check; the
-- index answers it in a few lookups instead of a scan of every face.
CREATE INDEX faces_model ON faces(model);
