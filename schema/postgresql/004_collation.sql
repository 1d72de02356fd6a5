-- The identifier columns compare byte by byte (COLLATE "C", SQLite's
-- BINARY) rather than by the database's collation. Every answer is ordered
-- so already (daemon/store/postgresql/pg_reader.c sorts COLLATE "C"), which
-- with these columns in the database's collation no index could give: each
-- such ORDER BY sorted. And every index insert, claim sort and key lookup
-- on them paid the locale's comparison (strcoll on a copied string, and no
-- abbreviated keys) where a memcmp does. Equality is the same in both (the
-- database's collation is deterministic), so nothing stored changes; the
-- tables are not rewritten, their indexes on these columns are rebuilt.
-- leg stays: it is events' partition key, which cannot be altered (and a
-- leg's rows hold one value of it, compared equal by memcmp first).
ALTER TABLE update_seqs ALTER COLUMN carrier TYPE text COLLATE "C";
ALTER TABLE events
  ALTER COLUMN carrier TYPE text COLLATE "C",
  ALTER COLUMN message_id TYPE text COLLATE "C",
  ALTER COLUMN direction TYPE text COLLATE "C",
  ALTER COLUMN unit TYPE text COLLATE "C",
  ALTER COLUMN retracts_message_id TYPE text COLLATE "C";
ALTER TABLE traversals
  ALTER COLUMN unit TYPE text COLLATE "C",
  ALTER COLUMN direction TYPE text COLLATE "C",
  ALTER COLUMN carrier TYPE text COLLATE "C",
  ALTER COLUMN train_id TYPE text COLLATE "C",
  ALTER COLUMN vessel_call TYPE text COLLATE "C";
ALTER TABLE transit_hourly
  ALTER COLUMN direction TYPE text COLLATE "C",
  ALTER COLUMN carrier TYPE text COLLATE "C";
ALTER TABLE volume_hourly
  ALTER COLUMN direction TYPE text COLLATE "C",
  ALTER COLUMN carrier TYPE text COLLATE "C";
ALTER TABLE quality_hourly ALTER COLUMN carrier TYPE text COLLATE "C";
ALTER TABLE conveyances
  ALTER COLUMN kind TYPE text COLLATE "C",
  ALTER COLUMN ident TYPE text COLLATE "C",
  ALTER COLUMN direction TYPE text COLLATE "C",
  ALTER COLUMN carrier TYPE text COLLATE "C";
ALTER TABLE carriers ALTER COLUMN code TYPE text COLLATE "C";
