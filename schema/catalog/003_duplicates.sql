-- Resends a carrier sent of updates at or below its acknowledged mark: the
-- daemon answers them from the mark without touching a leg file, and counts
-- them here per hour (saved with the marks' checkpoint) for QUALITY.
CREATE TABLE duplicates_hourly (
  carrier     TEXT    NOT NULL,
  hour_ms     INTEGER NOT NULL,
  n           INTEGER NOT NULL,
  PRIMARY KEY (carrier, hour_ms)
) WITHOUT ROWID;
