-- Face tokens keep their face's box and in-plane rotation, so that a call
-- passing image_type=FACE_TOKEN can still answer the face's location.
-- NULL for entries cached before this migration (location stays unknown).
ALTER TABLE face_tokens ADD COLUMN box_left INTEGER;
ALTER TABLE face_tokens ADD COLUMN box_top INTEGER;
ALTER TABLE face_tokens ADD COLUMN box_right INTEGER;
ALTER TABLE face_tokens ADD COLUMN box_bottom INTEGER;
ALTER TABLE face_tokens ADD COLUMN box_roll REAL;
