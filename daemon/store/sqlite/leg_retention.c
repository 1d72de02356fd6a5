/*
 * Retention: dropping a leg's raw events older than retention_days while
 * the hourly rollups, which the statistics read, stay as they are.
 *
 * A (unit, direction) is dropped whole, events and traversals, once its
 * newest event is older than the cutoff and it has no open traversal: its
 * traversals are all in the rollups, and nothing it could still receive
 * would pair with the dropped events, because the ingest rejects events
 * older than retention_days (TIME_TOO_OLD). A unit still moving is kept
 * whole. HOLDS and DELAYS read events, so they cover the retention window.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "leg_store.h"
#include "leg_store_internal.h"
#include "sqlite_store.h"
#include "log.h"

static int
exec(sqlite3 *db, const char *sql)
{
	return sqlite3_exec(db, sql, NULL, NULL, NULL);
}

/* Units one transaction looks at, per unit it may drop: the scan stops there
 * and the next transaction resumes after the last unit seen. */
#define RETAIN_SCAN_FACTOR 4

/* Remembers where the scan stopped (NULL unit: it reached the end). */
static void
set_cursor(struct leg_store *s, const char *unit, const char *direction)
{
	free(s->retain_after);
	s->retain_after = unit != NULL ? strdup(unit) : NULL;
	s->retain_after_dir[0] = direction != NULL ? direction[0] : '\0';
}

/* Collects up to max units whose events are all older than cutoff, looking
 * at no more than max * RETAIN_SCAN_FACTOR units after the cursor; *more
 * when the scan did not reach the last unit. */
static int
old_units(struct leg_store *s, int64_t cutoff, size_t max, struct unit_set *units, bool *more)
{
	sqlite3_stmt *st = NULL, *open = NULL;
	size_t seen = 0;
	int rc;

	*more = false;
	/* two texts, so that with a cursor the scan starts at it in the index */
	rc = sqlite3_prepare_v2(s->db, s->retain_after == NULL ?
	    "SELECT unit, direction FROM events INDEXED BY events_by_unit"
	    " GROUP BY unit, direction HAVING max(event_time_ms) < ?1" :
	    "SELECT unit, direction FROM events INDEXED BY events_by_unit"
	    " WHERE (unit, direction) > (?2, ?3)"
	    " GROUP BY unit, direction HAVING max(event_time_ms) < ?1", -1, &st, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(s->db, "SELECT 1 FROM traversals WHERE unit = ?1"
		    " AND direction = ?2 AND exit_time_ms IS NULL", -1, &open, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, cutoff);
		if (s->retain_after != NULL) {
			sqlite3_bind_text(st, 2, s->retain_after, -1, SQLITE_TRANSIENT);
			sqlite3_bind_text(st, 3, s->retain_after_dir, 1, SQLITE_TRANSIENT);
		}
	}
	while (rc == SQLITE_OK && units->count < max) {
		int r;

		if (seen++ == max * RETAIN_SCAN_FACTOR) {
			*more = true;
			break;
		}
		if ((rc = sqlite3_step(st)) != SQLITE_ROW)
			break;
		rc = SQLITE_OK;
		set_cursor(s, (const char *)sqlite3_column_text(st, 0),
		    (const char *)sqlite3_column_text(st, 1));
		sqlite3_bind_value(open, 1, sqlite3_column_value(st, 0));
		sqlite3_bind_value(open, 2, sqlite3_column_value(st, 1));
		r = sqlite3_step(open);
		sqlite3_reset(open);
		if (r == SQLITE_ROW)
			continue;	/* still in the leg: kept */
		if (r != SQLITE_DONE)
			rc = r;
		else if (unit_set_add(units, (const char *)sqlite3_column_text(st, 0),
		    (const char *)sqlite3_column_text(st, 1), true, true) == -1)
			rc = SQLITE_NOMEM;
	}
	if (rc == SQLITE_OK && units->count == max)
		*more = true;
	sqlite3_finalize(open);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static int
drop_units(struct leg_store *s, const struct unit_set *units, int64_t *events)
{
	sqlite3_stmt *ev = NULL, *tr = NULL;
	int rc;

	rc = sqlite3_prepare_v2(s->db, "DELETE FROM events WHERE unit = ?1 AND direction = ?2",
	    -1, &ev, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(s->db, "DELETE FROM traversals WHERE unit = ?1"
		    " AND direction = ?2", -1, &tr, NULL);
	for (size_t i = 0; i < units->count && rc == SQLITE_OK; i++) {
		sqlite3_stmt *both[2] = { ev, tr };

		for (int k = 0; k < 2 && rc == SQLITE_OK; k++) {
			sqlite3_bind_text(both[k], 1, units->keys[i].unit, -1, SQLITE_STATIC);
			sqlite3_bind_text(both[k], 2, units->keys[i].direction, 1, SQLITE_STATIC);
			rc = sqlite3_step(both[k]);
			sqlite3_reset(both[k]);
			if (rc == SQLITE_DONE) {
				rc = SQLITE_OK;
				if (k == 0)
					*events += sqlite3_changes(s->db);
			}
		}
	}
	sqlite3_finalize(ev);
	sqlite3_finalize(tr);
	return rc;
}

int
leg_store_retain(struct leg_store *s, int64_t cutoff_ms, size_t max_units, size_t *units_dropped,
    int64_t *events_dropped, bool *more, struct store_error *err)
{
	struct unit_set units = { 0 };
	int rc;

	*units_dropped = 0;
	*events_dropped = 0;
	*more = false;
	rc = exec(s->db, "BEGIN IMMEDIATE");
	if (rc == SQLITE_OK)
		rc = old_units(s, cutoff_ms, max_units, &units, more);
	if (rc == SQLITE_OK)
		rc = drop_units(s, &units, events_dropped);
	if (rc == SQLITE_OK)
		rc = exec(s->db, "COMMIT");
	if (rc != SQLITE_OK) {
		log_warnx("leg=%s retention failed sqlite=\"%s\"", s->code, sqlite3_errstr(rc));
		sqlite_error(err, s->db, rc, s->code);
		if (!sqlite3_get_autocommit(s->db))
			exec(s->db, "ROLLBACK");
		*events_dropped = 0;
		*more = false;
	} else
		*units_dropped = units.count;
	/* a dropped unit may have held a retraction still waiting for its target */
	if (*units_dropped > 0) {
		sqlite3_stmt *st = s->st[ST_ORPHAN_RETRACTIONS];

		if (sqlite3_step(st) == SQLITE_ROW)
			s->orphan_retractions = sqlite3_column_int64(st, 0);
		else
			s->orphan_retractions = 1;	/* unknown: keep checking */
		sqlite3_reset(st);
	}
	unit_set_free(&units);
	if (!*more)
		set_cursor(s, NULL, NULL);	/* the next pass starts from the first unit */
	return rc == SQLITE_OK ? 0 : -1;
}
