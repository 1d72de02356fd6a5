/*
 * Deriving a leg's traversals and rollups again from its events: at open
 * when the file was derived by an older schema or against another typical
 * time of the leg. One transaction; the writer thread is not serving yet.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corridor.pb-c.h"
#include "leg_store_internal.h"
#include "log.h"
#include "timeutil.h"

/* Units re-paired between two rollup flushes, to bound memory. */
#define REDERIVE_CHUNK_UNITS 2000
/* A log line every so many units, so a long derivation shows progress. */
#define REDERIVE_PROGRESS_UNITS 100000

static int
exec(sqlite3 *db, const char *sql)
{
	return sqlite3_exec(db, sql, NULL, NULL, NULL);
}

static int
rederive_traversals(struct leg_store *s, int64_t *nunits)
{
	sqlite3_stmt *st = NULL;
	struct unit_set units = { 0 };
	int rc;

	rc = sqlite3_prepare_v2(s->db, "SELECT DISTINCT unit, direction FROM events"
	    " INDEXED BY events_by_unit", -1, &st, NULL);
	while (rc == SQLITE_OK || rc == SQLITE_ROW) {
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			if (unit_set_add(&units, (const char *)sqlite3_column_text(st, 0),
			    (const char *)sqlite3_column_text(st, 1), true) == -1) {
				rc = SQLITE_NOMEM;
				break;
			}
			/* copied, but its stored pairing is empty: pair from nothing */
			units.keys[units.count - 1].owned = false;
			if (++*nunits % REDERIVE_PROGRESS_UNITS == 0)
				log_info("leg=%s deriving traversals and rollups again units=%lld so far",
				    s->code, (long long)*nunits);
		}
		if (units.count == REDERIVE_CHUNK_UNITS || (rc == SQLITE_DONE && units.count)) {
			int r = leg_repair_units(s, &units);

			if (r == SQLITE_OK)
				r = rollup_store_flush(s->rollup_store, &s->rollups);
			for (size_t i = 0; i < units.count; i++)
				units.keys[i].owned = true;	/* so the copies are freed */
			unit_set_free(&units);
			if (r != SQLITE_OK) {
				rc = r;
				break;
			}
		}
	}
	for (size_t i = 0; i < units.count; i++)
		units.keys[i].owned = true;
	unit_set_free(&units);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static int
rederive_quality(struct leg_store *s, int64_t *nevents)
{
	sqlite3_stmt *st = NULL;
	int rc;

	rc = sqlite3_prepare_v2(s->db, "SELECT carrier, record_time_ms, event_time_ms,"
	    " retracts_message_id IS NOT NULL, classifier FROM events", -1, &st, NULL);
	while (rc == SQLITE_OK || rc == SQLITE_ROW) {
		const char *carrier;
		int64_t rec, ev;

		if ((rc = sqlite3_step(st)) != SQLITE_ROW)
			break;
		carrier = (const char *)sqlite3_column_text(st, 0);
		rec = sqlite3_column_int64(st, 1);
		ev = sqlite3_column_int64(st, 2);
		if (rollup_batch_quality(&s->rollups, carrier, rec, ev,
		    sqlite3_column_int(st, 4) == CORRIDOR__CLASSIFIER__ACT ? QE_STORED :
		    QE_STORED_PLAN) == -1 ||
		    (sqlite3_column_int(st, 3) &&
		    rollup_batch_quality(&s->rollups, carrier, rec, ev, QE_RETRACTION) == -1))
			rc = SQLITE_NOMEM;
		if (++*nevents % 100000 == 0 && rc == SQLITE_ROW)
			rc = rollup_store_flush(s->rollup_store, &s->rollups);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return rc;
	return rollup_store_flush(s->rollup_store, &s->rollups);
}

int
leg_rederive(struct leg_store *s, int64_t typical_ms)
{
	int64_t start = time_now_ms(), nunits = 0, nevents = 0;
	char meta[160];
	int rc;

	s->rollups.typical_ms = typical_ms;
	s->first_new_id = 0;	/* every event counts as new: nothing paired yet */
	rc = exec(s->db, "BEGIN IMMEDIATE");
	if (rc == SQLITE_OK)
		rc = exec(s->db, "DELETE FROM traversals; DELETE FROM transit_hourly;"
		    " DELETE FROM volume_hourly; DELETE FROM conveyances;"
		    " DELETE FROM quality_hourly;");
	if (rc == SQLITE_OK)
		rc = rederive_traversals(s, &nunits);
	if (rc == SQLITE_OK)
		rc = rederive_quality(s, &nevents);
	snprintf(meta, sizeof meta, "INSERT OR REPLACE INTO rollup_meta (key, value) VALUES"
	    " ('derived', %d), ('typical_ms', %lld)", LEG_DERIVATION, (long long)typical_ms);
	if (rc == SQLITE_OK)
		rc = exec(s->db, meta);
	if (rc == SQLITE_OK)
		rc = exec(s->db, "COMMIT");
	rollup_batch_reset(&s->rollups);
	if (rc != SQLITE_OK) {
		exec(s->db, "ROLLBACK");
		return rc;
	}
	if (nevents > 0)
		log_info("leg=%s derived traversals and rollups again units=%lld events=%lld"
		    " typical_ms=%lld ms=%lld", s->code, (long long)nunits, (long long)nevents,
		    (long long)typical_ms, (long long)(time_now_ms() - start));
	return SQLITE_OK;
}
