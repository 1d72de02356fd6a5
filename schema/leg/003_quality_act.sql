-- The reporting lag is about actual events: quality_hourly's lag columns
-- (lag_sum_ms, lag_max_ms, lag_hist) count ACT updates only, lag_n of them;
-- pln_est counts the planned and estimated updates stored (also in updates).
-- Derivation 3 fills both from the events at open.
ALTER TABLE quality_hourly ADD COLUMN lag_n INTEGER NOT NULL DEFAULT 0;
ALTER TABLE quality_hourly ADD COLUMN pln_est INTEGER NOT NULL DEFAULT 0;
