-- corridor's PostgreSQL schema (store = postgresql, issue 13): everything in
-- one database, shared by any number of stateless corridord. Migrations are
-- applied in order at start, all pending ones in one transaction under an
-- advisory lock, and recorded in schema_migrations (daemon/store/postgresql/
-- pg_db.c creates that table itself). Never edit a released migration: add
-- the next one. A migration must be transactional DDL (no CONCURRENTLY).
--
-- The catalog: the same tables as the SQLite catalog (schema/catalog/),
-- with PostgreSQL's types: times are Unix ms in bigint, blobs are bytea.

CREATE TABLE legs (
  code        text PRIMARY KEY
              -- lib/legs.c's leg_code_valid(); also keeps the partition
              -- name 'events_' || code within PostgreSQL's 63 bytes
              CHECK (code ~ '^[A-Z0-9_-]{1,32}$'),
  from_name   text NOT NULL,
  to_name     text NOT NULL,
  country     text NOT NULL,
  kind        text NOT NULL CHECK (kind IN ('movement', 'port', 'border')),
  mode        text NOT NULL,
  distance_km double precision NOT NULL,
  min_h       double precision NOT NULL,
  typical_h   double precision NOT NULL,
  bad_h       double precision NOT NULL,
  created_ms  bigint NOT NULL
);

CREATE TABLE carriers (
  code        text PRIMARY KEY,
  -- every update with seq <= acked_seq is stored or was rejected for good;
  -- may lag the truth after a crash, never lead it (resends are idempotent).
  -- Several daemons checkpoint it: it only ever moves up (greatest()).
  acked_seq   bigint NOT NULL DEFAULT 0,
  updated_ms  bigint NOT NULL
);

-- Updates rejected for good. A rejection counts towards a carrier's
-- acknowledged mark, so it is recorded here before the carrier hears of it.
CREATE TABLE rejections (
  carrier     text    NOT NULL,
  seq         bigint  NOT NULL,
  reason      integer NOT NULL,
  message     text    NOT NULL,
  recorded_ms bigint  NOT NULL,
  PRIMARY KEY (carrier, seq)
);

-- Resends at or below a carrier's acknowledged mark, counted per hour (QUALITY).
CREATE TABLE duplicates_hourly (
  carrier     text    NOT NULL,
  hour_ms     bigint  NOT NULL,
  n           bigint  NOT NULL,
  PRIMARY KEY (carrier, hour_ms)
);
