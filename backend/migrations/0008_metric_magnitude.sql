-- A bound on what a change's stored windows of a mean metric add up to: the total of
-- |sum| + |sum_squares| over every window ever accepted. Ingestion refuses a window that
-- would make it infinite, so no aggregate the summary computes (in any order, over any
-- subset) can overflow to infinity. Replaced windows keep counting: the bound only errs on
-- the safe side, and real data stays many orders of magnitude below f64's range.
-- Windows stored before this column start at 0.
ALTER TABLE metric_keys ADD COLUMN magnitude DOUBLE PRECISION NOT NULL DEFAULT 0;
