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
#include "log.h"
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

/* What collecting one leg's transit needs in the row callbacks. */
struct transit_read {
	struct transit_acc *t;
	int64_t typical_ms;
	const char *code;
	struct answer *a;
};

static int
add_transit_hour(void *arg, const struct store_transit_hour *h)
{
	struct transit_read *tr = arg;
	struct transit_acc *t = tr->t;

	acc_minmax(t, h->min_ms, h->max_ms);
	t->n += h->n;
	t->sum_ms += h->sum_ms;
	t->on_time += h->on_time;
	t->planned += h->planned;
	t->on_plan += h->on_plan;
	t->eta_n += h->eta_n;
	t->eta_err_ms += h->eta_err_ms;
	t->teu += h->teu;
	t->containers += h->containers;
	t->gross_kg += h->gross_kg;
	if (hist_merge_blob(t->h.count, h->hist, h->hist_len, 1) == -1) {
		log_warnx("query found a damaged transit histogram leg=%s", tr->code);
		answer_err(tr->a, "INTERNAL", "reading %s failed", tr->code);
		return 1;
	}
	t->h.n += h->n;
	return 0;
}

/* Whole hours [from, to) of the leg's transit rollups. */
static void
collect_rollups(struct query_ctx *ctx, size_t leg, const struct store_filter *f,
    struct transit_read *tr, struct answer *a)
{
	const struct leg *l = &ctx->legs->legs[leg];
	struct store_error err;

	read_ok(l->code, store_reader_each_transit_hour(ctx->reader, leg, l, f,
	    add_transit_hour, tr, &err), &err, a);
}

static int
add_traversal(void *arg, const struct store_traversal *tv)
{
	struct transit_read *tr = arg;
	struct transit_acc *t = tr->t;
	int64_t d = tv->duration_ms;

	acc_minmax(t, d, d);
	t->n++;
	t->sum_ms += d;
	t->on_time += d <= tr->typical_ms;
	t->teu += tv->teu;
	t->containers += tv->containers;
	t->gross_kg += tv->gross_kg;
	if (tv->planned) {
		t->planned++;
		t->on_plan += tv->exit_ms <= tv->plan_ms;
	}
	t->eta_n += tv->eta_n;
	t->eta_err_ms += tv->eta_err_ms;
	hist_add(&t->h, d, 1);
	return 0;
}

/* Traversals that exited in [from, to), read one by one (a part of an hour). */
static void
collect_traversals(struct query_ctx *ctx, size_t leg, const struct store_filter *f,
    struct transit_read *tr, struct answer *a)
{
	const struct leg *l = &ctx->legs->legs[leg];
	struct store_error err;

	if (f->from >= f->to)
		return;
	read_ok(l->code, store_reader_each_traversal_by_exit(ctx->reader, leg, l, f,
	    add_traversal, tr, &err), &err, a);
}

/* Everything that exited the leg in [f->from, f->to). NULL on error. */
static struct transit_acc *
collect_transit(struct query_ctx *ctx, size_t leg, const struct store_filter *f,
    struct answer *a)
{
	struct transit_acc *t = calloc(1, sizeof *t);
	struct store_filter whole = *f, head = *f, tail = *f;
	const struct leg *l = &ctx->legs->legs[leg];
	struct transit_read tr = { t, (int64_t)(l->typical_h * MS_PER_HOUR + 0.5), l->code, a };

	if (t == NULL) {
		answer_err(a, "INTERNAL", "out of memory");
		return NULL;
	}
	whole.from = hour_ceil(f->from);
	whole.to = hour_floor(f->to);
	if (whole.from >= whole.to) {
		/* within one hour: all of it from the traversals */
		collect_traversals(ctx, leg, f, &tr, a);
	} else {
		head.to = whole.from;
		tail.from = whole.to;
		collect_rollups(ctx, leg, &whole, &tr, a);
		if (!a->failed)
			collect_traversals(ctx, leg, &head, &tr, a);
		if (!a->failed)
			collect_traversals(ctx, leg, &tail, &tr, a);
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
dir_label(const struct store_filter *f)
{
	return f->direction != NULL ? f->direction : "*";
}

void
cmd_stats(struct query_ctx *ctx, struct qrequest *req, int64_t now, struct answer *a)
{
	struct store_filter f;
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
	struct store_filter f;
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
	struct store_filter f;
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
