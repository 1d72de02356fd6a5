/*
 * VOLUMES: what entered a leg per UTC day, ISO week or month, from the
 * hourly volume rollups and the conveyances table (a train or vessel call
 * counts once, in the period its first unit entered). The window is taken
 * in whole hours: from and to round down to the hour.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "query_internal.h"

enum period { P_DAY, P_WEEK, P_MONTH };

struct period_row {
	int64_t start_ms;
	int64_t units, teu, containers, gross_kg, trains, vessel_calls;
};

struct period_table {
	struct period_row *rows;
	size_t n, cap;
};

/* The start of the period holding ms (UTC). */
static int64_t
period_start(int64_t ms, enum period p)
{
	time_t secs = (time_t)(ms / 1000);
	struct tm tm;

	if (ms < 0 && ms % 1000 != 0)
		secs--;
	gmtime_r(&secs, &tm);
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	if (p == P_WEEK)
		tm.tm_mday -= (tm.tm_wday + 6) % 7;	/* back to Monday */
	else if (p == P_MONTH)
		tm.tm_mday = 1;
	return (int64_t)timegm(&tm) * 1000;
}

static void
period_label(int64_t start_ms, enum period p, char *buf, size_t len)
{
	time_t secs = (time_t)(start_ms / 1000);
	struct tm tm;

	if (p == P_WEEK)
		secs += 3 * 86400;	/* the ISO week belongs to its Thursday's year */
	gmtime_r(&secs, &tm);
	if (p == P_DAY)
		strftime(buf, len, "%Y-%m-%d", &tm);
	else if (p == P_MONTH)
		strftime(buf, len, "%Y-%m", &tm);
	else
		snprintf(buf, len, "%04d-W%02d", tm.tm_year + 1900, tm.tm_yday / 7 + 1);
}

/* The row of the period starting at start, inserted in order if new. */
static struct period_row *
period_row(struct period_table *t, int64_t start)
{
	size_t lo = 0, hi = t->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (t->rows[mid].start_ms < start)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < t->n && t->rows[lo].start_ms == start)
		return &t->rows[lo];
	if (grow_array((void **)&t->rows, &t->cap, t->n, sizeof *t->rows) == -1)
		return NULL;
	memmove(&t->rows[lo + 1], &t->rows[lo], (t->n - lo) * sizeof *t->rows);
	memset(&t->rows[lo], 0, sizeof *t->rows);
	t->rows[lo].start_ms = start;
	t->n++;
	return &t->rows[lo];
}

static int
volumes_leg(struct query_ctx *ctx, size_t leg, const struct stats_filter *f, enum period p,
    struct period_table *t, struct answer *a)
{
	sqlite3_stmt *st = prepare(ctx, leg, "SELECT hour_ms, units, teu, containers, gross_kg"
	    " FROM volume_hourly WHERE hour_ms >= ?1 AND hour_ms < ?2"
	    " AND (?3 IS NULL OR direction = ?3) AND (?4 IS NULL OR carrier = ?4)", a);
	int rc;

	if (st == NULL)
		return -1;
	bind_filter(st, f);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct period_row *r = period_row(t, period_start(sqlite3_column_int64(st, 0), p));

		if (r == NULL) {
			rc = SQLITE_NOMEM;
			break;
		}
		r->units += sqlite3_column_int64(st, 1);
		r->teu += sqlite3_column_int64(st, 2);
		r->containers += sqlite3_column_int64(st, 3);
		r->gross_kg += sqlite3_column_int64(st, 4);
	}
	finish(ctx, leg, st, rc, a);
	if (a->failed)
		return -1;
	st = prepare(ctx, leg, "SELECT first_enter_ms, kind FROM conveyances"
	    " INDEXED BY conveyances_by_time WHERE first_enter_ms >= ?1 AND first_enter_ms < ?2"
	    " AND (?3 IS NULL OR direction = ?3) AND (?4 IS NULL OR carrier = ?4)", a);
	if (st == NULL)
		return -1;
	bind_filter(st, f);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct period_row *r = period_row(t, period_start(sqlite3_column_int64(st, 0), p));

		if (r == NULL) {
			rc = SQLITE_NOMEM;
			break;
		}
		if (sqlite3_column_text(st, 1)[0] == 'T')
			r->trains++;
		else
			r->vessel_calls++;
	}
	finish(ctx, leg, st, rc, a);
	return a->failed ? -1 : 0;
}

void
cmd_volumes(struct query_ctx *ctx, struct qrequest *req, int64_t now, struct answer *a)
{
	struct stats_filter f;
	size_t first, last;
	enum period p;

	(void)now;
	if (strcmp(req->argv[2], "day") == 0)
		p = P_DAY;
	else if (strcmp(req->argv[2], "week") == 0)
		p = P_WEEK;
	else if (strcmp(req->argv[2], "month") == 0)
		p = P_MONTH;
	else {
		answer_err(a, "BAD_ARGUMENT", "the period is day, week or month");
		return;
	}
	if (select_legs(ctx, req, 1, &first, &last, a) == -1 ||
	    parse_stats_filter(ctx, req, 3, &f, a) == -1)
		return;
	if (window_to_hours(&f, a) == -1)
		return;
	answer_header(a, "leg\tdirection\tperiod\tunits\tteu\tcontainers\ttonnes\ttrains"
	    "\tvessel_calls");
	for (size_t i = first; i < last && !a->failed; i++) {
		struct period_table t = { 0 };

		if (volumes_leg(ctx, i, &f, p, &t, a) == 0)
			for (size_t k = 0; k < t.n; k++) {
				const struct period_row *r = &t.rows[k];
				char label[32];

				period_label(r->start_ms, p, label, sizeof label);
				answer_row(a, "%s\t%s\t%s\t%lld\t%lld\t%lld\t%.3f\t%lld\t%lld",
				    ctx->legs->legs[i].code, f.direction ? f.direction : "*", label,
				    (long long)r->units, (long long)r->teu, (long long)r->containers,
				    r->gross_kg / 1000.0, (long long)r->trains,
				    (long long)r->vessel_calls);
			}
		free(t.rows);
	}
}
