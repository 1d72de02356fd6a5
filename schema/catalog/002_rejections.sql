-- Updates rejected for good. A rejection counts towards a carrier's
-- acknowledged mark, so it is recorded here before the carrier hears of it;
-- at start-up the mark is recovered from the stored updates and these rows.
CREATE TABLE rejections (
  carrier     TEXT    NOT NULL,
  seq         INTEGER NOT NULL,
  reason      INTEGER NOT NULL,
  message     TEXT    NOT NULL,
  recorded_ms INTEGER NOT NULL,
  PRIMARY KEY (carrier, seq)
) WITHOUT ROWID;
