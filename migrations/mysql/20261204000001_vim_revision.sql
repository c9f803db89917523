-- A per-row revision, bumped by every change of a VIM: an update writes only if the row
-- is still at the revision it read, so two racing updates never silently lose one.
ALTER TABLE vims ADD COLUMN revision BIGINT NOT NULL DEFAULT 0;
