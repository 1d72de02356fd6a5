/*
 * Statistics read from the events themselves, which are few: HOLDS (a HOLD
 * until the unit's next RELS, by the hold's event time) and DELAYS (delay
 * reasons, by event time); and QUALITY, per carrier from the quality
 * rollups and the catalog's rejections, by the time the daemon received
 * the updates (whole hours: from and to round down to the hour).
 * Retracted events count nowhere.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corridor.pb-c.h"
#include "histogram.h"
#include "log.h"
#include "query_internal.h"
#include "rollup_batch.h"
#include "stats.h"

/* What HOLDS collects from one leg in the row callback. */
struct holds_read {
	struct query_ctx *ctx;
	size_t leg;
	int64_t *dur, holds;	/* dur: the released holds' durations */
	size_t n, cap;
	struct answer *a;
};

static int
add_hold(void *arg, const struct store_event_ref *e)
{
	struct holds_read *hr = arg;
	const struct leg *l = &hr->ctx->legs->legs[hr->leg];
	struct store_error err;
	int64_t rels;

	hr->holds++;
	if (read_ok(l->code, store_reader_release_after(hr->ctx->reader, hr->leg, l,
	    e->unit, e->direction, e->event_ms, &rels, &err), &err, hr->a) == -1)
		return 1;
	if (rels < 0)
		return 0;
	if (grow_array((void **)&hr->dur, &hr->cap, hr->n, sizeof *hr->dur) == -1) {
		answer_err(hr->a, "INTERNAL", "out of memory");
		return 1;
	}
	hr->dur[hr->n++] = rels - e->event_ms;
	return 0;
}

static void
holds_leg(struct query_ctx *ctx, size_t leg, const struct store_filter *f, struct answer *a)
{
	const struct leg *l = &ctx->legs->legs[leg];
	struct holds_read hr = { .ctx = ctx, .leg = leg, .a = a };
	struct duration_summary s;
	struct store_error err;

	if (read_ok(l->code, store_reader_each_hold(ctx->reader, leg, l, f, add_hold, &hr,
	    &err), &err, a) == -1) {
		free(hr.dur);
		return;
	}
	stats_summarize(hr.dur, hr.n, &s);
	if (hr.n == 0)
		answer_row(a, "%s\t%lld\t0\t%lld\t\t\t\t\t", l->code, (long long)hr.holds,
		    (long long)hr.holds);
	else
		answer_row(a, "%s\t%lld\t%zu\t%lld\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f", l->code,
		    (long long)hr.holds, hr.n, (long long)(hr.holds - (int64_t)hr.n),
		    s.min / MS_PER_HOUR, s.mean / MS_PER_HOUR, s.p50 / MS_PER_HOUR,
		    s.p90 / MS_PER_HOUR, s.max / MS_PER_HOUR);
	free(hr.dur);
}

void
cmd_holds(struct query_ctx *ctx, struct qrequest *req, int64_t now, struct answer *a)
{
	struct store_filter f;
	size_t first, last;

	(void)now;
	if (select_legs(ctx, req, 1, &first, &last, a) == -1 ||
	    parse_stats_filter(ctx, req, 2, &f, a) == -1)
		return;
	answer_header(a, "leg\tholds\treleased\topen\tmin_h\tmean_h\tp50_h\tp90_h\tmax_h");
	for (size_t i = first; i < last && !a->failed; i++)
		holds_leg(ctx, i, &f, a);
}

struct reason_unit {
	char *reason, *unit;
};

static int
reason_unit_cmp(const void *x, const void *y)
{
	const struct reason_unit *a = x, *b = y;
	int c = strcmp(a->reason, b->reason);

	return c != 0 ? c : strcmp(a->unit, b->unit);
}

struct reason_count {
	const char *reason;
	size_t events, units;
};

static int
reason_count_cmp(const void *x, const void *y)
{
	const struct reason_count *a = x, *b = y;

	if (a->events != b->events)
		return a->events > b->events ? -1 : 1;
	return strcmp(a->reason, b->reason);
}

/* What DELAYS collects in the row callback: every (reason, unit). */
struct delays_read {
	struct reason_unit **ru;
	size_t *n, *cap;
	struct answer *a;
};

static int
add_delay(void *arg, const struct store_delay *d)
{
	struct delays_read *dr = arg;
	struct reason_unit *e;

	if (grow_array((void **)dr->ru, dr->cap, *dr->n, sizeof **dr->ru) == -1)
		goto nomem;
	e = &(*dr->ru)[*dr->n];
	if ((e->reason = strdup(d->reason)) == NULL)
		goto nomem;
	if ((e->unit = strdup(d->unit)) == NULL) {
		free(e->reason);
		goto nomem;
	}
	(*dr->n)++;
	return 0;
nomem:
	answer_err(dr->a, "INTERNAL", "out of memory");
	return 1;
}

void
cmd_delays(struct query_ctx *ctx, struct qrequest *req, int64_t now, struct answer *a)
{
	struct reason_unit *ru = NULL;
	struct reason_count *rc_ = NULL;
	size_t n = 0, cap = 0, nr = 0, capr = 0;
	struct store_filter f;
	size_t first, last;

	(void)now;
	if (select_legs(ctx, req, 1, &first, &last, a) == -1 ||
	    parse_stats_filter(ctx, req, 2, &f, a) == -1)
		return;
	for (size_t i = first; i < last && !a->failed; i++) {
		const struct leg *l = &ctx->legs->legs[i];
		struct delays_read dr = { &ru, &n, &cap, a };
		struct store_error err;

		read_ok(l->code, store_reader_each_delay(ctx->reader, i, l, &f, add_delay, &dr,
		    &err), &err, a);
	}
	if (n > 1)
		qsort(ru, n, sizeof *ru, reason_unit_cmp);
	for (size_t i = 0; i < n && !a->failed; i++) {
		if (i == 0 || strcmp(ru[i].reason, ru[i - 1].reason) != 0) {
			if (grow_array((void **)&rc_, &capr, nr, sizeof *rc_) == -1) {
				answer_err(a, "INTERNAL", "out of memory");
				break;
			}
			rc_[nr++] = (struct reason_count){ ru[i].reason, 0, 0 };
		}
		rc_[nr - 1].events++;
		if (i == 0 || reason_unit_cmp(&ru[i], &ru[i - 1]) != 0)
			rc_[nr - 1].units++;
	}
	if (nr > 1)
		qsort(rc_, nr, sizeof *rc_, reason_count_cmp);
	answer_header(a, "reason\tevents\tunits");
	for (size_t i = 0; i < nr; i++)
		answer_row(a, "%s\t%zu\t%zu", rc_[i].reason, rc_[i].events, rc_[i].units);
	for (size_t i = 0; i < n; i++) {
		free(ru[i].reason);
		free(ru[i].unit);
	}
	free(ru);
	free(rc_);
}

struct carrier_quality {
	char code[ROLLUP_CARRIER_MAX];
	int64_t updates, pln_est, lag_max, duplicates, retractions, out_of_order, rejected;
	char by_reason[512];
	struct histogram *lag;
};

static struct carrier_quality *
quality_of(struct carrier_quality **cq, size_t *n, size_t *cap, const char *code)
{
	struct carrier_quality *q;

	for (size_t i = 0; i < *n; i++)
		if (strcmp((*cq)[i].code, code) == 0)
			return &(*cq)[i];
	if (grow_array((void **)cq, cap, *n, sizeof **cq) == -1)
		return NULL;
	q = &(*cq)[*n];
	memset(q, 0, sizeof *q);
	if ((q->lag = calloc(1, sizeof *q->lag)) == NULL)
		return NULL;
	snprintf(q->code, sizeof q->code, "%s", code);
	(*n)++;
	return q;
}

static int
quality_code_cmp(const void *x, const void *y)
{
	return strcmp(((const struct carrier_quality *)x)->code,
	    ((const struct carrier_quality *)y)->code);
}

/* A lag (a percentile from the histogram: never above the exact maximum)
 * as a field: empty when no actual update was stored (the lag is over those). */
static void
lag_field(char *buf, size_t len, const struct carrier_quality *q, double ms)
{
	if (q->lag->n == 0)
		buf[0] = '\0';
	else
		snprintf(buf, len, "%.2f",
		    (ms > (double)q->lag_max ? (double)q->lag_max : ms) / MS_PER_HOUR);
}

static const char *
reason_name(int reason)
{
	const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(
	    &corridor__reject_reason__descriptor, reason);

	return v != NULL ? v->name : "UNKNOWN";
}

/* What QUALITY collects in the row callbacks: one entry per carrier. */
struct quality_read {
	struct carrier_quality **cq;
	size_t *n, *cap;
	const char *code;	/* what is read, for the error */
	struct answer *a;
};

static struct carrier_quality *
quality_row(struct quality_read *qr, const char *carrier)
{
	struct carrier_quality *q = quality_of(qr->cq, qr->n, qr->cap, carrier);

	if (q == NULL)
		answer_err(qr->a, "INTERNAL", "out of memory");
	return q;
}

static int
add_quality_hour(void *arg, const struct store_quality_hour *h)
{
	struct quality_read *qr = arg;
	struct carrier_quality *q = quality_row(qr, h->carrier);

	if (q == NULL)
		return 1;
	q->updates += h->updates;
	if (h->lag_max_ms > q->lag_max)
		q->lag_max = h->lag_max_ms;
	if (hist_merge_blob(q->lag->count, h->lag, h->lag_len, 1) == -1) {
		log_warnx("query found a damaged lag histogram leg=%s", qr->code);
		answer_err(qr->a, "INTERNAL", "reading %s failed", qr->code);
		return 1;
	}
	q->lag->n += h->lag_n;
	q->pln_est += h->pln_est;
	q->duplicates += h->duplicates;
	q->retractions += h->retractions;
	q->out_of_order += h->out_of_order;
	return 0;
}

static void
quality_rollups(struct query_ctx *ctx, const struct store_filter *f,
    struct carrier_quality **cq, size_t *n, size_t *cap, struct answer *a)
{
	for (size_t i = 0; i < ctx->legs->count && !a->failed; i++) {
		const struct leg *l = &ctx->legs->legs[i];
		struct quality_read qr = { cq, n, cap, l->code, a };
		struct store_error err;

		read_ok(l->code, store_reader_each_quality_hour(ctx->reader, i, l, f,
		    add_quality_hour, &qr, &err), &err, a);
	}
}

static int
add_rejections(void *arg, const struct store_rejection_count *c)
{
	struct quality_read *qr = arg;
	struct carrier_quality *q = quality_row(qr, c->carrier);
	size_t used;

	if (q == NULL)
		return 1;
	q->rejected += c->count;
	used = strlen(q->by_reason);
	snprintf(q->by_reason + used, sizeof q->by_reason - used, "%s%s:%lld",
	    used ? "," : "", reason_name(c->reason), (long long)c->count);
	return 0;
}

static void
quality_rejections(struct query_ctx *ctx, const struct store_filter *f,
    struct carrier_quality **cq, size_t *n, size_t *cap, struct answer *a)
{
	struct quality_read qr = { cq, n, cap, "catalog", a };
	struct store_error err;

	read_ok("catalog", store_reader_each_rejection_count(ctx->reader, f, add_rejections,
	    &qr, &err), &err, a);
}

static int
add_mark_duplicates(void *arg, const struct store_carrier_count *c)
{
	struct quality_read *qr = arg;
	struct carrier_quality *q = quality_row(qr, c->carrier);

	if (q == NULL)
		return 1;
	q->duplicates += c->count;
	return 0;
}

static void
quality_mark_duplicates(struct query_ctx *ctx, const struct store_filter *f,
    struct carrier_quality **cq, size_t *n, size_t *cap, struct answer *a)
{
	struct quality_read qr = { cq, n, cap, "catalog", a };
	struct store_error err;

	read_ok("catalog", store_reader_each_mark_duplicates(ctx->reader, f,
	    add_mark_duplicates, &qr, &err), &err, a);
}

void
cmd_quality(struct query_ctx *ctx, struct qrequest *req, int64_t now, struct answer *a)
{
	struct carrier_quality *cq = NULL;
	size_t n = 0, cap = 0;
	struct store_filter f;

	(void)now;
	/* QUALITY [carrier] [from] [to]: the filter's carrier comes first */
	if (parse_filter(req, 2, &f, a) == -1)
		return;
	f.direction = NULL;
	f.carrier = qproto_arg_given(req, 1) ? req->argv[1] : NULL;
	if (f.carrier != NULL && check_carrier(ctx, f.carrier, a) == -1)
		return;
	if (window_to_hours(&f, a) == -1)
		return;
	quality_rollups(ctx, &f, &cq, &n, &cap, a);
	if (!a->failed)
		quality_rejections(ctx, &f, &cq, &n, &cap, a);
	if (!a->failed)
		quality_mark_duplicates(ctx, &f, &cq, &n, &cap, a);
	if (n > 1)
		qsort(cq, n, sizeof *cq, quality_code_cmp);
	answer_header(a, "carrier\tupdates\tlag_p50_h\tlag_p90_h\tlag_max_h\tduplicates"
	    "\tretractions\tout_of_order\trejected\trejected_by_reason\tpln_est");
	for (size_t i = 0; i < n; i++) {
		const struct carrier_quality *q = &cq[i];
		char p50[32], p90[32], max[32];

		lag_field(p50, sizeof p50, q, hist_percentile(q->lag, 50));
		lag_field(p90, sizeof p90, q, hist_percentile(q->lag, 90));
		lag_field(max, sizeof max, q, (double)q->lag_max);
		if (!a->failed)
			answer_row(a, "%s\t%lld\t%s\t%s\t%s\t%lld\t%lld\t%lld\t%lld\t%s\t%lld",
			    q->code, (long long)q->updates, p50, p90, max,
			    (long long)q->duplicates, (long long)q->retractions,
			    (long long)q->out_of_order, (long long)q->rejected, q->by_reason,
			    (long long)q->pln_est);
		free(cq[i].lag);
	}
	free(cq);
}
