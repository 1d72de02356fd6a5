-- A leg database (<state>/legs/<LEG>.db): every accepted update of this leg,
-- and the traversals (a unit entering and later leaving the leg) derived
-- from them, which the statistics read.
CREATE TABLE events (
  id            INTEGER PRIMARY KEY,
  carrier       TEXT    NOT NULL,
  seq           INTEGER NOT NULL,
  message_id    TEXT    NOT NULL,
  event_class   INTEGER NOT NULL,
  classifier    INTEGER NOT NULL,
  event_code    INTEGER NOT NULL,
  event_time_ms INTEGER NOT NULL,
  record_time_ms INTEGER NOT NULL,
  node          TEXT    NOT NULL,
  locode        TEXT,
  direction     TEXT    NOT NULL CHECK (direction IN ('W', 'E')),
  mode          INTEGER,
  unit          TEXT    NOT NULL,
  train_id      TEXT,
  wagon_id      TEXT,
  vessel_imo    TEXT,
  voyage        TEXT,
  truck_plate   TEXT,
  container     TEXT,
  iso_type      TEXT,
  empty         INTEGER,
  gross_kg      INTEGER,
  teu           INTEGER,
  container_count INTEGER,
  delay_reason  TEXT,
  remark        TEXT,
  next_eta_ms   INTEGER,
  retracts_message_id TEXT,
  retracted     INTEGER NOT NULL DEFAULT 0,  -- 1 once a later update retracts it
  unit_teu      INTEGER NOT NULL,  -- what the unit carries: TEU from teu or iso_type
  unit_containers INTEGER NOT NULL,  -- 1 for a container, else container_count
  UNIQUE (carrier, seq)
);
-- Covers the re-pairing of a unit's traversals, so it never reads the rows.
CREATE INDEX events_by_unit ON events (unit, direction, event_time_ms, id, classifier, retracted,
  event_code, carrier, unit_teu, unit_containers, gross_kg);
CREATE INDEX events_by_message ON events (message_id);
CREATE INDEX events_retracting ON events (retracts_message_id)
  WHERE retracts_message_id IS NOT NULL;

-- One row per passage of a unit through this leg. exit_* are NULL while the
-- unit is still in the leg. Rebuilt for a unit whenever one of its events
-- arrives, so late and out-of-order events land where they belong.
CREATE TABLE traversals (
  unit          TEXT    NOT NULL,
  direction     TEXT    NOT NULL,
  enter_time_ms INTEGER NOT NULL,
  exit_time_ms  INTEGER,
  duration_ms   INTEGER,
  carrier       TEXT    NOT NULL,
  teu           INTEGER NOT NULL,
  containers    INTEGER NOT NULL,
  gross_kg      INTEGER NOT NULL,
  PRIMARY KEY (unit, direction, enter_time_ms)
) WITHOUT ROWID;
CREATE INDEX traversals_by_exit ON traversals (exit_time_ms) WHERE exit_time_ms IS NOT NULL;
CREATE INDEX traversals_open ON traversals (enter_time_ms) WHERE exit_time_ms IS NULL;
