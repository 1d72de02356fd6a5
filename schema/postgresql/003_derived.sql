-- The derived state of schema/leg/ (traversals, hourly rollups, conveyances,
-- quality), kept by the shared derive code in the same transaction as the
-- events it comes from. One table each for all legs, the leg leading every
-- key: these tables are small beside events (an hourly row per direction and
-- carrier; a traversal per passage of a unit), so a partition per leg would
-- only multiply tables; a leg's rows are still one range of each index.
-- Times are Unix ms, hours start on the hour (UTC). Every SELECT of
-- daemon/store/sqlite/sqlite_reader.c (and of the writer's re-pairing) has
-- its index here with the leg in front.

-- One row per passage of a unit through a leg; exit_* NULL while inside.
CREATE TABLE traversals (
  leg           text    NOT NULL,
  unit          text    NOT NULL,
  direction     text    NOT NULL,
  enter_time_ms bigint  NOT NULL,
  exit_time_ms  bigint,
  duration_ms   bigint,
  carrier       text    NOT NULL,
  teu           bigint  NOT NULL,
  containers    bigint  NOT NULL,
  gross_kg      bigint  NOT NULL,
  train_id      text,              -- from the entry event
  vessel_call   text,              -- "IMO/voyage" from the entry event
  plan_ms       bigint,            -- planned exit (PLN), NULL: none
  eta_n         bigint  NOT NULL DEFAULT 0,
  eta_err_ms    bigint  NOT NULL DEFAULT 0,
  PRIMARY KEY (leg, unit, direction, enter_time_ms)
);
CREATE INDEX traversals_by_exit ON traversals (leg, exit_time_ms, direction, carrier, duration_ms)
  WHERE exit_time_ms IS NOT NULL;
CREATE INDEX traversals_open ON traversals (leg, enter_time_ms) WHERE exit_time_ms IS NULL;
CREATE INDEX traversals_by_train ON traversals (leg, train_id, direction)
  WHERE train_id IS NOT NULL;
CREATE INDEX traversals_by_vessel ON traversals (leg, vessel_call, direction)
  WHERE vessel_call IS NOT NULL;

-- Closed traversals by the hour they exited.
CREATE TABLE transit_hourly (
  leg         text    NOT NULL,
  hour_ms     bigint  NOT NULL,
  direction   text    NOT NULL,
  carrier     text    NOT NULL,
  n           bigint  NOT NULL,
  sum_ms      bigint  NOT NULL,
  min_ms      bigint  NOT NULL,
  max_ms      bigint  NOT NULL,
  on_time     bigint  NOT NULL,  -- duration <= the leg's typical time (rollup_meta)
  planned     bigint  NOT NULL,  -- with a planned exit
  on_plan     bigint  NOT NULL,  -- exited no later than planned
  eta_n       bigint  NOT NULL,  -- estimated exits judged
  eta_err_ms  bigint  NOT NULL,  -- sum of |estimate - actual|
  teu         bigint  NOT NULL,
  containers  bigint  NOT NULL,
  gross_kg    bigint  NOT NULL,
  hist        bytea   NOT NULL,  -- lib/histogram.h stored form
  PRIMARY KEY (leg, hour_ms, direction, carrier)
);

-- Traversals by the hour they entered (volumes).
CREATE TABLE volume_hourly (
  leg         text    NOT NULL,
  hour_ms     bigint  NOT NULL,
  direction   text    NOT NULL,
  carrier     text    NOT NULL,
  units       bigint  NOT NULL,
  teu         bigint  NOT NULL,
  containers  bigint  NOT NULL,
  gross_kg    bigint  NOT NULL,
  PRIMARY KEY (leg, hour_ms, direction, carrier)
);

-- Trains ('T') and vessel calls ('V') that entered a leg, counted once at
-- their first unit's entry.
CREATE TABLE conveyances (
  leg         text    NOT NULL,
  kind        text    NOT NULL,
  ident       text    NOT NULL,
  direction   text    NOT NULL,
  first_enter_ms bigint NOT NULL,
  carrier     text    NOT NULL,
  units       bigint  NOT NULL,
  PRIMARY KEY (leg, kind, ident, direction)
);
CREATE INDEX conveyances_by_time ON conveyances (leg, first_enter_ms);

-- What each carrier sent a leg, by the hour the daemon received it. The lag
-- columns count ACT updates only, lag_n of them; pln_est counts the planned
-- and estimated updates stored (also in updates).
CREATE TABLE quality_hourly (
  leg         text    NOT NULL,
  hour_ms     bigint  NOT NULL,
  carrier     text    NOT NULL,
  updates     bigint  NOT NULL,  -- stored
  lag_sum_ms  bigint  NOT NULL,  -- record time - event time
  lag_max_ms  bigint  NOT NULL,
  lag_hist    bytea   NOT NULL,
  duplicates  bigint  NOT NULL,  -- received again after being stored
  retractions bigint  NOT NULL,
  out_of_order bigint NOT NULL,  -- earlier event time than one already received for the unit
  lag_n       bigint  NOT NULL DEFAULT 0,
  pln_est     bigint  NOT NULL DEFAULT 0,
  PRIMARY KEY (leg, hour_ms, carrier)
);

-- Per leg: typical_ms, the typical time the on-time counts were made
-- against; derived, the derivation the rollups were made by.
CREATE TABLE rollup_meta (
  leg   text   NOT NULL,
  key   text   NOT NULL,
  value bigint NOT NULL,
  PRIMARY KEY (leg, key)
);
