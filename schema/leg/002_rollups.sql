-- Hourly rollups the statistics read, kept by the writer in the same
-- transaction as the events and traversals they come from (see
-- daemon/rollup_batch.h). Times are Unix ms, hours start on the hour (UTC).

-- The unit's re-pairing also needs the conveyance named by each event and
-- the planned and estimated events, so the covering index grows.
DROP INDEX events_by_unit;
CREATE INDEX events_by_unit ON events (unit, direction, event_time_ms, id, classifier, retracted,
  event_code, carrier, unit_teu, unit_containers, gross_kg, train_id, vessel_imo, voyage,
  record_time_ms);
-- Holds (HOLD 10, RELS 11) and delay reasons, read by HOLDS and DELAYS.
CREATE INDEX events_holds ON events (event_time_ms) WHERE event_code IN (10, 11);
CREATE INDEX events_delayed ON events (event_time_ms) WHERE delay_reason IS NOT NULL;

ALTER TABLE traversals ADD COLUMN train_id TEXT;      -- from the entry event
ALTER TABLE traversals ADD COLUMN vessel_call TEXT;   -- "IMO/voyage" from the entry event
ALTER TABLE traversals ADD COLUMN plan_ms INTEGER;    -- planned exit (PLN), NULL: none
ALTER TABLE traversals ADD COLUMN eta_n INTEGER NOT NULL DEFAULT 0;
ALTER TABLE traversals ADD COLUMN eta_err_ms INTEGER NOT NULL DEFAULT 0;
DROP INDEX traversals_by_exit;
CREATE INDEX traversals_by_exit ON traversals (exit_time_ms, direction, carrier, duration_ms)
  WHERE exit_time_ms IS NOT NULL;
CREATE INDEX traversals_by_train ON traversals (train_id, direction) WHERE train_id IS NOT NULL;
CREATE INDEX traversals_by_vessel ON traversals (vessel_call, direction)
  WHERE vessel_call IS NOT NULL;

-- Closed traversals by the hour they exited.
CREATE TABLE transit_hourly (
  hour_ms     INTEGER NOT NULL,
  direction   TEXT    NOT NULL,
  carrier     TEXT    NOT NULL,
  n           INTEGER NOT NULL,
  sum_ms      INTEGER NOT NULL,
  min_ms      INTEGER NOT NULL,
  max_ms      INTEGER NOT NULL,
  on_time     INTEGER NOT NULL,  -- duration <= the leg's typical time (rollup_meta)
  planned     INTEGER NOT NULL,  -- with a planned exit
  on_plan     INTEGER NOT NULL,  -- exited no later than planned
  eta_n       INTEGER NOT NULL,  -- estimated exits judged
  eta_err_ms  INTEGER NOT NULL,  -- sum of |estimate - actual|
  teu         INTEGER NOT NULL,
  containers  INTEGER NOT NULL,
  gross_kg    INTEGER NOT NULL,
  hist        BLOB    NOT NULL,  -- lib/histogram.h stored form
  PRIMARY KEY (hour_ms, direction, carrier)
) WITHOUT ROWID;

-- Traversals by the hour they entered (volumes).
CREATE TABLE volume_hourly (
  hour_ms     INTEGER NOT NULL,
  direction   TEXT    NOT NULL,
  carrier     TEXT    NOT NULL,
  units       INTEGER NOT NULL,
  teu         INTEGER NOT NULL,
  containers  INTEGER NOT NULL,
  gross_kg    INTEGER NOT NULL,
  PRIMARY KEY (hour_ms, direction, carrier)
) WITHOUT ROWID;

-- Trains ('T') and vessel calls ('V') that entered the leg, counted once at
-- their first unit's entry.
CREATE TABLE conveyances (
  kind        TEXT    NOT NULL,
  ident       TEXT    NOT NULL,
  direction   TEXT    NOT NULL,
  first_enter_ms INTEGER NOT NULL,
  carrier     TEXT    NOT NULL,
  units       INTEGER NOT NULL,
  PRIMARY KEY (kind, ident, direction)
) WITHOUT ROWID;
CREATE INDEX conveyances_by_time ON conveyances (first_enter_ms);

-- What each carrier sent this leg, by the hour the daemon received it.
CREATE TABLE quality_hourly (
  hour_ms     INTEGER NOT NULL,
  carrier     TEXT    NOT NULL,
  updates     INTEGER NOT NULL,  -- stored
  lag_sum_ms  INTEGER NOT NULL,  -- record time - event time
  lag_max_ms  INTEGER NOT NULL,
  lag_hist    BLOB    NOT NULL,
  duplicates  INTEGER NOT NULL,  -- received again after being stored
  retractions INTEGER NOT NULL,
  out_of_order INTEGER NOT NULL, -- earlier event time than one already received for the unit
  PRIMARY KEY (hour_ms, carrier)
) WITHOUT ROWID;

-- typical_ms: the typical time the on-time counts were made against;
-- derived: 2 once traversals and rollups are derived by this schema.
CREATE TABLE rollup_meta (
  key   TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) WITHOUT ROWID;
