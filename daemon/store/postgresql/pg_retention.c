/*
 * Retention on the PostgreSQL store (store_writer.h's retain_step): a step
 * is one transaction of a leg, under its lock as any write of it, that
 * drops up to a bound of units whose events are all older than the cutoff
 * and which are not inside the leg, scanning from where the last step
 * stopped, as the SQLite store's leg_retention.c does. The rollups stay,
 * and so do the claims of update_seqs (their sequence numbers stay used).
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "pg_writer_internal.h"

/* Units a retention step looks at, per unit it may drop: the scan stops
 * there and the next step resumes after the last unit seen (as SQLite's). */
#define RETAIN_SCAN_FACTOR 4

struct retain {
	int64_t cutoff;
	size_t max;
	struct unit_set units;
	int64_t events;
	bool more;
	char *after;		/* where this step's scan stopped */
	char after_dir[2];
};

static void
retain_undo(void *arg)
{
	struct retain *rt = arg;

	unit_set_free(&rt->units);
	rt->events = 0;
	rt->more = false;
	free(rt->after);
	rt->after = NULL;
}

/* Collects up to max units whose events are all older than the cutoff and
 * which have no open traversal, looking at no more than max *
 * RETAIN_SCAN_FACTOR old units after the cursor (leg_retention.c's loop). */
static int
old_units(struct pg_leg *l, struct retain *rt)
{
	char cutoff[PG_INT_TEXT_MAX], limit[PG_INT_TEXT_MAX];
	const char *p[5] = { l->code, cutoff, limit, l->retain_after, l->retain_after_dir };
	size_t scan = rt->max > SIZE_MAX / RETAIN_SCAN_FACTOR ? SIZE_MAX :
	    rt->max * RETAIN_SCAN_FACTOR, seen = 0;
	int row = 0, rc = 0;
	PGresult *res;

	snprintf(cutoff, sizeof cutoff, "%" PRId64, rt->cutoff);
	snprintf(limit, sizeof limit, "%zu", scan > INT32_MAX ? (size_t)INT32_MAX : scan);
	/* two texts, so that with a cursor the scan starts at it in the index */
	res = pg_leg_exec(l, "finding old units", l->retain_after == NULL ?
	    "SELECT e.unit, e.direction, EXISTS (SELECT 1 FROM traversals t WHERE t.leg = $1"
	    " AND t.unit = e.unit AND t.direction = e.direction AND t.exit_time_ms IS NULL)"
	    " FROM events e WHERE e.leg = $1 GROUP BY e.unit, e.direction"
	    " HAVING max(e.event_time_ms) < $2 ORDER BY e.unit, e.direction LIMIT $3" :
	    "SELECT e.unit, e.direction, EXISTS (SELECT 1 FROM traversals t WHERE t.leg = $1"
	    " AND t.unit = e.unit AND t.direction = e.direction AND t.exit_time_ms IS NULL)"
	    " FROM events e WHERE e.leg = $1 AND (e.unit, e.direction) > ($4, $5)"
	    " GROUP BY e.unit, e.direction HAVING max(e.event_time_ms) < $2"
	    " ORDER BY e.unit, e.direction LIMIT $3", l->retain_after == NULL ? 3 : 5, p, NULL,
	    NULL, PGRES_TUPLES_OK);
	if (res == NULL)
		return -1;
	if (PQnfields(res) != 3) {
		PQclear(res);
		pg_leg_fail(l, STORE_CORRUPT, "old units: other columns");
		return -1;
	}
	rt->more = false;
	while (rt->units.count < rt->max) {
		const char *unit, *dir, *open;

		if (seen++ == scan) {
			rt->more = true;
			break;
		}
		if (row >= PQntuples(res))
			break;
		unit = pg_col_text(res, row, 0);
		dir = pg_col_text(res, row, 1);
		open = pg_col_text(res, row, 2);
		row++;
		if (unit == NULL || dir == NULL || dir[0] == '\0') {
			pg_leg_fail(l, STORE_CORRUPT, "an event without a unit");
			rc = -1;
			break;
		}
		free(rt->after);
		if ((rt->after = strdup(unit)) == NULL) {
			pg_leg_fail(l, STORE_RETRYABLE, "out of memory");
			rc = -1;
			break;
		}
		rt->after_dir[0] = dir[0];
		rt->after_dir[1] = '\0';
		if (open != NULL && open[0] == 't')
			continue;	/* still in the leg: kept */
		if (unit_set_add(&rt->units, unit, dir, true, true) == -1) {
			pg_leg_fail(l, STORE_RETRYABLE, "out of memory");
			rc = -1;
			break;
		}
	}
	if (rc == 0 && rt->units.count == rt->max)
		rt->more = true;
	PQclear(res);
	return rc;
}

/* Drops the units' events and traversals, two statements; the claims of
 * update_seqs stay (their sequence numbers stay used). */
static int
drop_units(struct pg_leg *l, struct retain *rt)
{
	static const char *const sql[2] = {
		"DELETE FROM events WHERE leg = $1 AND (unit, direction) IN"
		" (SELECT * FROM unnest($2::text[], $3::text[]))",
		"DELETE FROM traversals WHERE leg = $1 AND (unit, direction) IN"
		" (SELECT * FROM unnest($2::text[], $3::text[]))",
	};
	struct pg_buf units = { 0 }, dirs = { 0 };
	const char *p[3] = { l->code };
	int rc = 0;

	if (rt->units.count == 0)
		return 0;
	for (size_t i = 0; i < rt->units.count; i++) {
		pg_arr_add(&units, rt->units.keys[i].unit);
		pg_arr_add(&dirs, rt->units.keys[i].direction);
	}
	if ((p[1] = pg_arr_end(&units)) == NULL || (p[2] = pg_arr_end(&dirs)) == NULL) {
		pg_leg_fail(l, STORE_RETRYABLE, "out of memory");
		rc = -1;
	}
	for (int k = 0; k < 2 && rc == 0; k++) {
		PGresult *res = pg_leg_exec(l, "dropping old units", sql[k], 3, p, NULL, NULL,
		    PGRES_COMMAND_OK);

		if (res == NULL)
			rc = -1;
		else if (k == 0)
			rt->events = strtoll(PQcmdTuples(res), NULL, 10);
		PQclear(res);
	}
	pg_arr_free(&units);
	pg_arr_free(&dirs);
	return rc;
}

static int
retain_body(struct pg_leg *l, int64_t first_new_id, void *arg)
{
	(void)first_new_id;
	if (old_units(l, arg) == -1)
		return -1;
	return drop_units(l, arg);
}

int
pg_leg_retain_step(struct pg_leg *l, int64_t cutoff_ms, size_t max_units, size_t *units_dropped,
    int64_t *events_dropped, bool *more, struct store_error *err)
{
	struct retain rt = { .cutoff = cutoff_ms, .max = max_units };
	int rc;

	rc = pg_leg_tx(l, retain_body, retain_undo, &rt);
	if (rc == 0) {
		*units_dropped = rt.units.count;
		*events_dropped = rt.events;
		*more = rt.more;
		if (rt.after != NULL) {
			free(l->retain_after);
			l->retain_after = rt.after;
			rt.after = NULL;
			memcpy(l->retain_after_dir, rt.after_dir, sizeof l->retain_after_dir);
		}
	} else {
		log_warnx("leg=%s retention failed error=\"%s\"", l->code, l->err.message);
		if (err != NULL)
			*err = l->err;
	}
	retain_undo(&rt);
	if (!*more) {
		/* the next pass starts from the first unit */
		free(l->retain_after);
		l->retain_after = NULL;
		l->retain_after_dir[0] = '\0';
	}
	return rc;
}
