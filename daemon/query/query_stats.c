/*
 * Per-leg statistics from the hourly rollups (schema/leg/002_rollups.sql):
 * STATS, HISTOGRAM, ONTIME and VOLUMES. Whole hours of the window come from
 * the rollups; the parts of an hour at either end of the window come from
 * the traversals themselves, so counts and sums are exact for any window.
 * Percentiles come from the merged histograms (lib/histogram.h): within 1%
 * of the exact nearest-rank value.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "histogram.h"
#include "query_internal.h"
#include "rollup_batch.h"

struct transit_acc {
	int64_t n, sum_ms, min_ms, max_ms, on_time, planned, on_plan, eta_n, eta_err_ms;
	int64_t teu, containers, gross_kg;
	struct histogram h;
};

static int64_t
hour_ceil(int64_t ms)
{
	if (ms == INT64_MIN || ms > INT64_MAX - MS_PER_HOUR_I)
		return ms;
	return rollup_hour(ms + MS_PER_HOUR_I - 1);
}

static int64_t
hour_floor(int64_t ms)
{
	if (ms == INT64_MAX || ms == INT64_MIN)
		return ms;
	return rollup_hour(ms);
}

static void
acc_minmax(struct transit_acc *t, int64_t lo, int64_t hi)
{
	if (t->n == 0 || lo < t->min_ms)
		t->min_ms = lo;
	if (t->n == 0 || hi > t->max_ms)
		t->max_ms = hi;
}

/* Whole hours [from, to) of the leg's transit rollups. */
static void
collect_rollups(struct query_ctx *ctx, size_t leg, const struct stats_filter *f,
    struct transit_acc *t, struct answer *a)
{
	sqlite3_stmt *st = prepare(ctx, leg, "SELECT n, sum_ms, min_ms, max_ms, on_time, planned,"
	    " on_plan, eta_n, eta_err_ms, teu, containers, gross_kg, hist FROM transit_hourly"
	    " WHERE hour_ms >= ?1 AND hour_ms < ?2 AND (?3 IS NULL OR direction = ?3)"
	    " AND (?4 IS NULL OR carrier = ?4)", a);
	int rc;

	if (st == NULL)
		return;
	bind_filter(st, f);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t n = sqlite3_column_int64(st, 0);

		acc_minmax(t, sqlite3_column_int64(st, 2), sqlite3_column_int64(st, 3));
		t->n += n;
		t->sum_ms += sqlite3_column_int64(st, 1);
		t->on_time += sqlite3_column_int64(st, 4);
		t->planned += sqlite3_column_int64(st, 5);
		t->on_plan += sqlite3_column_int64(st, 6);
		t->eta_n += sqlite3_column_int64(st, 7);
		t->eta_err_ms += sqlite3_column_int64(st, 8);
		t->teu += sqlite3_column_int64(st, 9);
		t->containers += sqlite3_column_int64(st, 10);
		t->gross_kg += sqlite3_column_int64(st, 11);
		if (hist_merge_blob(t->h.count, sqlite3_column_blob(st, 12),
		    (size_t)sqlite3_column_bytes(st, 12), 1) == -1) {
			rc = SQLITE_CORRUPT;
			break;
		}
		t->h.n += n;
	}
	finish(ctx, leg, st, rc, a);
}

/* Traversals that exited in [from, to), read one by one (a part of an hour). */
static void
collect_traversals(struct query_ctx *ctx, size_t leg, const struct stats_filter *f,
    struct transit_acc *t, struct answer *a)
{
	int64_t typical = (int64_t)(ctx->legs->legs[leg].typical_h * MS_PER_HOUR + 0.5);
	sqlite3_stmt *st;
	int rc;

	if (f->from >= f->to)
		return;
	st = prepare(ctx, leg, "SELECT duration_ms, teu, containers, gross_kg, plan_ms,"
	    " exit_time_ms, eta_n, eta_err_ms FROM traversals INDEXED BY traversals_by_exit"
	    " WHERE exit_time_ms >= ?1 AND exit_time_ms < ?2 AND (?3 IS NULL OR direction = ?3)"
	    " AND (?4 IS NULL OR carrier = ?4)", a);
	if (st == NULL)
		return;
	bind_filter(st, f);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t d = sqlite3_column_int64(st, 0);

		acc_minmax(t, d, d);
		t->n++;
		t->sum_ms += d;
		t->on_time += d <= typical;
		t->teu += sqlite3_column_int64(st, 1);
		t->containers += sqlite3_column_int64(st, 2);
		t->gross_kg += sqlite3_column_int64(st, 3);
		if (sqlite3_column_type(st, 4) != SQLITE_NULL) {
			t->planned++;
			t->on_plan += sqlite3_column_int64(st, 5) <= sqlite3_column_int64(st, 4);
		}
		t->eta_n += sqlite3_column_int64(st, 6);
		t->eta_err_ms += sqlite3_column_int64(st, 7);
		hist_add(&t->h, d, 1);
	}
	finish(ctx, leg, st, rc, a);
}

/* Everything that exited the leg in [f->from, f->to). NULL on error. */
static struct transit_acc *
collect_transit(struct query_ctx *ctx, size_t leg, const struct stats_filter *f,
    struct answer *a)
{
	struct transit_acc *t = calloc(1, sizeof *t);
	struct stats_filter whole = *f, head = *f, tail = *f;

	if (t == NULL) {
		answer_err(a, "INTERNAL", "out of memory");
		return NULL;
	}
	whole.from = hour_ceil(f->from);
	whole.to = hour_floor(f->to);
	if (whole.from >= whole.to) {
		/* within one hour: all of it from the traversals */
		collect_traversals(ctx, leg, f, t, a);
	} else {
		head.to = whole.from;
		tail.from = whole.to;
		collect_rollups(ctx, leg, &whole, t, a);
		collect_traversals(ctx, leg, &head, t, a);
		collect_traversals(ctx, leg, &tail, t, a);
	}
	if (a->failed) {
		free(t);
		return NULL;
	}
	return t;
}

/* A percentile from the histogram, kept within the exact min and max (the
 * exact percentile lies there, so this never adds error). */
static double
percentile_h(const struct transit_acc *t, double p)
{
	double v = hist_percentile(&t->h, p);

	if (v < (double)t->min_ms)
		v = (double)t->min_ms;
	if (v > (double)t->max_ms)
		v = (double)t->max_ms;
	return v / MS_PER_HOUR;
}

static double
pct(int64_t part, int64_t whole)
{
	return whole > 0 ? 100.0 * (double)part / (double)whole : 0;
}

/* A share as a field: empty when there was nothing to measure. */
static void
pct_field(char *buf, size_t len, int64_t part, int64_t whole)
{
	if (whole > 0)
		snprintf(buf, len, "%.1f", pct(part, whole));
	else
		buf[0] = '\0';
}

static const char *
dir_label(const struct stats_filter *f)
{
	return f->direction != NULL ? f->direction : "*";
}

void
cmd_stats(struct query_ctx *ctx, struct qrequest *req, int64_t now, struct answer *a)
{
	struct stats_filter f;
	size_t first, last;

	(void)now;
	if (select_legs(ctx, req, 1, &first, &last, a) == -1 ||
	    parse_stats_filter(ctx, req, 2, &f, a) == -1)
		return;
	answer_header(a, "leg\tdirection\tn\tmin_h\tmean_h\tp50_h\tp90_h\tp95_h\tmax_h\tteu"
	    "\tcontainers\ttonnes\ton_time_pct");
	for (size_t i = first; i < last && !a->failed; i++) {
		struct transit_acc *t = collect_transit(ctx, i, &f, a);
		const char *code = ctx->legs->legs[i].code;

		if (t == NULL)
			return;
		if (t->n == 0)
			answer_row(a, "%s\t%s\t0\t\t\t\t\t\t\t0\t0\t0.000\t", code, dir_label(&f));
		else
			answer_row(a, "%s\t%s\t%lld\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t%lld\t%lld"
			    "\t%.3f\t%.1f", code, dir_label(&f), (long long)t->n,
			    t->min_ms / MS_PER_HOUR, (double)t->sum_ms / (double)t->n / MS_PER_HOUR,
			    percentile_h(t, 50), percentile_h(t, 90), percentile_h(t, 95),
			    t->max_ms / MS_PER_HOUR,
			    (long long)t->teu, (long long)t->containers, t->gross_kg / 1000.0,
			    pct(t->on_time, t->n));
		free(t);
	}
}

void
cmd_histogram(struct query_ctx *ctx, struct qrequest *req, int64_t now, struct answer *a)
{
	struct stats_filter f;
	struct transit_acc *t;
	size_t first, last;

	(void)now;
	if (!qproto_arg_given(req, 1)) {
		answer_err(a, "BAD_ARGUMENT", "HISTOGRAM needs one leg");
		return;
	}
	if (select_legs(ctx, req, 1, &first, &last, a) == -1 ||
	    parse_stats_filter(ctx, req, 2, &f, a) == -1)
		return;
	if ((t = collect_transit(ctx, first, &f, a)) == NULL)
		return;
	answer_header(a, "lower_h\tupper_h\tcount");
	for (int b = 0; b < HIST_BUCKETS; b++)
		if (t->h.count[b] != 0)
			answer_row(a, "%.4f\t%.4f\t%lld", hist_bucket_lower(b) / MS_PER_HOUR,
			    hist_bucket_upper(b) / MS_PER_HOUR, (long long)t->h.count[b]);
	free(t);
}

void
cmd_ontime(struct query_ctx *ctx, struct qrequest *req, int64_t now, struct answer *a)
{
	struct stats_filter f;
	size_t first, last;

	(void)now;
	if (select_legs(ctx, req, 1, &first, &last, a) == -1 ||
	    parse_stats_filter(ctx, req, 2, &f, a) == -1)
		return;
	answer_header(a, "leg\tdirection\tn\ttypical_h\ton_time\ton_time_pct\tplanned\ton_plan"
	    "\ton_plan_pct\teta_n\teta_mae_h");
	for (size_t i = first; i < last && !a->failed; i++) {
		struct transit_acc *t = collect_transit(ctx, i, &f, a);
		char mae[32] = "", on_time[16], on_plan[16];

		if (t == NULL)
			return;
		if (t->eta_n > 0)
			snprintf(mae, sizeof mae, "%.2f",
			    (double)t->eta_err_ms / (double)t->eta_n / MS_PER_HOUR);
		/* nothing measured is an empty field, not 0 % (as STATS does) */
		pct_field(on_time, sizeof on_time, t->on_time, t->n);
		pct_field(on_plan, sizeof on_plan, t->on_plan, t->planned);
		answer_row(a, "%s\t%s\t%lld\t%g\t%lld\t%s\t%lld\t%lld\t%s\t%lld\t%s",
		    ctx->legs->legs[i].code, dir_label(&f), (long long)t->n,
		    ctx->legs->legs[i].typical_h, (long long)t->on_time, on_time,
		    (long long)t->planned, (long long)t->on_plan, on_plan,
		    (long long)t->eta_n, mae);
		free(t);
	}
}
