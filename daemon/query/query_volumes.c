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

struct volume_read {
	struct period_table *t;
	enum period p;
	struct answer *a;
};

static int
add_volume_hour(void *arg, const struct store_volume_hour *v)
{
	struct volume_read *vr = arg;
	struct period_row *r = period_row(vr->t, period_start(v->hour_ms, vr->p));

	if (r == NULL) {
		answer_err(vr->a, "INTERNAL", "out of memory");
		return 1;
	}
	r->units += v->units;
	r->teu += v->teu;
	r->containers += v->containers;
	r->gross_kg += v->gross_kg;
	return 0;
}

static int
add_conveyance(void *arg, const struct store_conveyance *c)
{
	struct volume_read *vr = arg;
	struct period_row *r = period_row(vr->t, period_start(c->first_enter_ms, vr->p));

	if (r == NULL) {
		answer_err(vr->a, "INTERNAL", "out of memory");
		return 1;
	}
	if (c->train)
		r->trains++;
	else
		r->vessel_calls++;
	return 0;
}

static int
volumes_leg(struct query_ctx *ctx, size_t leg, const struct store_filter *f, enum period p,
    struct period_table *t, struct answer *a)
{
	const struct leg *l = &ctx->legs->legs[leg];
	struct volume_read vr = { t, p, a };
	struct store_error err;

	if (read_ok(l->code, store_reader_each_volume_hour(ctx->reader, leg, l, f,
	    add_volume_hour, &vr, &err), &err, a) == -1)
		return -1;
	return read_ok(l->code, store_reader_each_conveyance(ctx->reader, leg, l, f,
	    add_conveyance, &vr, &err), &err, a);
}

void
cmd_volumes(struct query_ctx *ctx, struct qrequest *req, int64_t now, struct answer *a)
{
	struct store_filter f;
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
