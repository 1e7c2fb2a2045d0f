-- The evidence a transition was decided on, frozen with it: the whole comparison report (as
-- JSON text, `shared::comparison::ComparisonReport`) the guardian judged when it rolled back
-- or paused a rollout. NULL for moves people make and for rows from before this migration.
ALTER TABLE transitions ADD COLUMN evidence TEXT NULL;
