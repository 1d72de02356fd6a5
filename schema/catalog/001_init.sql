-- The catalog (<state>/corridor.db): which legs exist and each carrier's
-- acknowledged high-water mark. Small and rarely written.
CREATE TABLE legs (
  code        TEXT PRIMARY KEY,
  from_name   TEXT NOT NULL,
  to_name     TEXT NOT NULL,
  country     TEXT NOT NULL,
  kind        TEXT NOT NULL CHECK (kind IN ('movement', 'port', 'border')),
  mode        TEXT NOT NULL,
  distance_km REAL NOT NULL,
  min_h       REAL NOT NULL,
  typical_h   REAL NOT NULL,
  bad_h       REAL NOT NULL,
  created_ms  INTEGER NOT NULL
);

CREATE TABLE carriers (
  code        TEXT PRIMARY KEY,
  -- every update with seq <= acked_seq is stored or was rejected for good;
  -- may lag the truth after a crash, never lead it (resends are idempotent)
  acked_seq   INTEGER NOT NULL DEFAULT 0,
  updated_ms  INTEGER NOT NULL
);
