-- A change's flag rules (`shared::assignment::FlagRules`): how its plan's audiences and its
-- segments are read from an evaluation context, per-segment caps and the holdout. JSON as TEXT
-- like the plan. Editable while the change is a draft, like the plan, and frozen with it: the
-- stored rules are the ones every evaluation of the rollout used, which is what lets the
-- assignment lookup recompute a past answer. `{}` declares nothing (every field defaults), so
-- rows from before this migration keep evaluating as they did.
ALTER TABLE changes ADD COLUMN flag_rules TEXT NOT NULL DEFAULT '{}';
