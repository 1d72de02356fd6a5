-- Every accepted update, partitioned by LIST on its leg: a partition per leg
-- (events_<LEG>), created when the leg is added to legs (the trigger below),
-- so a leg's history is its own table (vacuumed, archived, detached or
-- dropped on its own, as a SQLite leg file is) and a query of one leg reads
-- one partition. There is no default partition: an update for a leg that was
-- never added fails (SQLSTATE 23514) rather than landing somewhere unseen.

-- (carrier, seq) is unique across the whole corridor, not per leg (a carrier
-- numbers its updates once, whatever leg each is on). PostgreSQL cannot say
-- that on events itself: a unique constraint on a partitioned table must
-- include the partition key, so UNIQUE (leg, carrier, seq) only holds within
-- a leg. The corridor-wide claim is this table, unpartitioned: one row per
-- (carrier, seq) ever stored, naming the leg it was stored on. events
-- references it by (carrier, seq, leg), so
--   - no event exists without its claim (the foreign key),
--   - a claim names one leg (the primary key on (carrier, seq)),
--   - that leg holds the event once (events' UNIQUE (leg, carrier, seq)),
-- and the database itself, not the writers' care, keeps (carrier, seq)
-- unique however many daemons write. A writer inserts the claim first
-- (INSERT .. ON CONFLICT DO NOTHING RETURNING) and the event only for the
-- claims it made; a claim it did not make is a resend (same leg: compare it
-- with the stored event) or a sequence number reused on another leg. The
-- acknowledged mark of a carrier is computed from it with one index range
-- scan, whichever daemon stored the updates. Claims outlive retention: the
-- events of a unit may be dropped, their sequence numbers stay used.
CREATE TABLE update_seqs (
  carrier     text   NOT NULL,
  seq         bigint NOT NULL,
  leg         text   NOT NULL,
  PRIMARY KEY (carrier, seq),
  -- the target of events' foreign key, which must be a unique key itself
  UNIQUE (carrier, seq, leg)
);

-- id orders a unit's events received at the same event time (SQLite's rowid);
-- one sequence for all legs (identity columns on partitioned tables come with
-- PostgreSQL 17). Its values are unique, not gap-free nor in commit order.
CREATE SEQUENCE events_id_seq AS bigint;

CREATE TABLE events (
  leg           text    NOT NULL,
  id            bigint  NOT NULL DEFAULT nextval('events_id_seq'),
  carrier       text    NOT NULL,
  seq           bigint  NOT NULL,
  message_id    text    NOT NULL,
  event_class   integer NOT NULL,
  classifier    integer NOT NULL,
  event_code    integer NOT NULL,
  event_time_ms bigint  NOT NULL,
  record_time_ms bigint NOT NULL,
  node          text    NOT NULL,
  locode        text,
  direction     text    NOT NULL CHECK (direction IN ('W', 'E')),
  mode          integer,
  unit          text    NOT NULL,
  train_id      text,
  wagon_id      text,
  vessel_imo    text,
  voyage        text,
  truck_plate   text,
  container     text,
  iso_type      text,
  empty         integer,
  gross_kg      bigint,
  teu           bigint,
  container_count bigint,
  delay_reason  text,
  remark        text,
  next_eta_ms   bigint,
  retracts_message_id text,
  retracted     integer NOT NULL DEFAULT 0,  -- 1 once a later update retracts it
  unit_teu      bigint  NOT NULL,  -- what the unit carries: TEU from teu or iso_type
  unit_containers bigint NOT NULL, -- 1 for a container, else container_count
  PRIMARY KEY (leg, id),
  UNIQUE (leg, carrier, seq),
  FOREIGN KEY (carrier, seq, leg) REFERENCES update_seqs (carrier, seq, leg)
) PARTITION BY LIST (leg);
ALTER SEQUENCE events_id_seq OWNED BY events.id;

-- The indexes of schema/leg/, on each partition (so without the leg, which
-- is one value per partition). PostgreSQL's INCLUDE makes events_by_unit
-- cover the re-pairing of a unit's traversals as SQLite's wide key does.
CREATE INDEX events_by_unit ON events (unit, direction, event_time_ms, id)
  INCLUDE (classifier, retracted, event_code, carrier, unit_teu, unit_containers, gross_kg,
    train_id, vessel_imo, voyage, record_time_ms);
CREATE INDEX events_by_message ON events (message_id);
CREATE INDEX events_retracting ON events (retracts_message_id)
  WHERE retracts_message_id IS NOT NULL;
-- Holds (HOLD 10, RELS 11) and delay reasons, read by HOLDS and DELAYS.
CREATE INDEX events_holds ON events (event_time_ms) WHERE event_code IN (10, 11);
CREATE INDEX events_delayed ON events (event_time_ms) WHERE delay_reason IS NOT NULL;

-- Makes the partition of a leg if it has none; the name is exact (quoted),
-- so legs 'A-B' and 'A_B' get two. Creating a partition locks events
-- exclusively until the transaction ends, so writers wait meanwhile: legs are
-- added at start, rarely, and in one short transaction. Two daemons adding
-- different new legs in different orders could deadlock (40P01, retryable):
-- the catalog's sync (to come) is to add them in the order of their codes.
CREATE FUNCTION corridor_add_leg_partition(leg_code text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('CREATE TABLE IF NOT EXISTS %I PARTITION OF events FOR VALUES IN (%L)',
    'events_' || leg_code, leg_code);
END
$$;

-- A leg added to legs gets its partition in the same transaction. Two
-- daemons adding the same leg at once: the second waits on the first's row
-- (INSERT .. ON CONFLICT), then takes the update path, where this does not
-- fire.
CREATE FUNCTION corridor_legs_partition() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM corridor_add_leg_partition(NEW.code);
  RETURN NULL;
END
$$;
CREATE TRIGGER legs_partition AFTER INSERT ON legs
  FOR EACH ROW EXECUTE FUNCTION corridor_legs_partition();
