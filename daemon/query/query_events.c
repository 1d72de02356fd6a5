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
#include "query_internal.h"
#include "rollup_batch.h"
#include "stats.h"

#define HOLD_CODE CORRIDOR__EVENT_CODE__HOLD
#define RELS_CODE CORRIDOR__EVENT_CODE__RELS

static void
holds_leg(struct query_ctx *ctx, size_t leg, const struct stats_filter *f, struct answer *a)
{
	sqlite3_stmt *st = prepare(ctx, leg, "SELECT unit, direction, event_time_ms FROM events"
	    " INDEXED BY events_holds WHERE event_code IN (10, 11) AND event_code = 10"
	    " AND classifier = 1 AND retracted = 0"
	    " AND event_time_ms >= ?1 AND event_time_ms < ?2 AND (?3 IS NULL OR direction = ?3)"
	    " AND (?4 IS NULL OR carrier = ?4)", a);
	sqlite3_stmt *rel = prepare(ctx, leg, "SELECT min(event_time_ms) FROM events"
	    " INDEXED BY events_by_unit WHERE unit = ?1 AND direction = ?2 AND event_time_ms >= ?3"
	    " AND event_code = 11 AND classifier = 1 AND retracted = 0", a);
	int64_t *dur = NULL, holds = 0;
	size_t n = 0, cap = 0;
	struct duration_summary s;
	int rc = SQLITE_DONE;

	if (st == NULL || rel == NULL) {
		sqlite3_finalize(st);
		sqlite3_finalize(rel);
		return;
	}
	bind_filter(st, f);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t at = sqlite3_column_int64(st, 2);
		int r;

		holds++;
		sqlite3_bind_text(rel, 1, (const char *)sqlite3_column_text(st, 0), -1,
		    SQLITE_TRANSIENT);
		sqlite3_bind_text(rel, 2, (const char *)sqlite3_column_text(st, 1), -1,
		    SQLITE_TRANSIENT);
		sqlite3_bind_int64(rel, 3, at);
		r = sqlite3_step(rel);
		if (r == SQLITE_ROW && sqlite3_column_type(rel, 0) != SQLITE_NULL) {
			if (grow_array((void **)&dur, &cap, n, sizeof *dur) == -1)
				r = SQLITE_NOMEM;
			else
				dur[n++] = sqlite3_column_int64(rel, 0) - at;
		}
		sqlite3_reset(rel);
		if (r != SQLITE_ROW) {
			rc = r;
			break;
		}
	}
	sqlite3_finalize(rel);
	finish(ctx, leg, st, rc, a);
	stats_summarize(dur, n, &s);
	if (n == 0)
		answer_row(a, "%s\t%lld\t0\t%lld\t\t\t\t\t", ctx->legs->legs[leg].code,
		    (long long)holds, (long long)holds);
	else
		answer_row(a, "%s\t%lld\t%zu\t%lld\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f",
		    ctx->legs->legs[leg].code, (long long)holds, n, (long long)(holds - (int64_t)n),
		    s.min / MS_PER_HOUR, s.mean / MS_PER_HOUR, s.p50 / MS_PER_HOUR,
		    s.p90 / MS_PER_HOUR, s.max / MS_PER_HOUR);
	free(dur);
}

void
cmd_holds(struct query_ctx *ctx, struct qrequest *req, int64_t now, struct answer *a)
{
	struct stats_filter f;
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

void
cmd_delays(struct query_ctx *ctx, struct qrequest *req, int64_t now, struct answer *a)
{
	struct reason_unit *ru = NULL;
	struct reason_count *rc_ = NULL;
	size_t n = 0, cap = 0, nr = 0, capr = 0;
	struct stats_filter f;
	size_t first, last;

	(void)now;
	if (select_legs(ctx, req, 1, &first, &last, a) == -1 ||
	    parse_stats_filter(ctx, req, 2, &f, a) == -1)
		return;
	for (size_t i = first; i < last && !a->failed; i++) {
		sqlite3_stmt *st = prepare(ctx, i, "SELECT delay_reason, unit FROM events"
		    " INDEXED BY events_delayed WHERE delay_reason IS NOT NULL AND retracted = 0"
		    " AND event_time_ms >= ?1 AND event_time_ms < ?2"
		    " AND (?3 IS NULL OR direction = ?3) AND (?4 IS NULL OR carrier = ?4)", a);
		int rc;

		if (st == NULL)
			break;
		bind_filter(st, &f);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			if (grow_array((void **)&ru, &cap, n, sizeof *ru) == -1 ||
			    (ru[n].reason = strdup((const char *)sqlite3_column_text(st, 0))) == NULL) {
				rc = SQLITE_NOMEM;
				break;
			}
			if ((ru[n].unit = strdup((const char *)sqlite3_column_text(st, 1))) == NULL) {
				free(ru[n].reason);
				rc = SQLITE_NOMEM;
				break;
			}
			n++;
		}
		finish(ctx, i, st, rc, a);
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

static void
quality_rollups(struct query_ctx *ctx, const struct stats_filter *f,
    struct carrier_quality **cq, size_t *n, size_t *cap, struct answer *a)
{
	for (size_t i = 0; i < ctx->legs->count && !a->failed; i++) {
		sqlite3_stmt *st = prepare(ctx, i, "SELECT carrier, updates, lag_max_ms, lag_hist,"
		    " duplicates, retractions, out_of_order, lag_n, pln_est FROM quality_hourly"
		    " WHERE hour_ms >= ?1 AND hour_ms < ?2 AND (?4 IS NULL OR carrier = ?4)", a);
		int rc;

		if (st == NULL)
			return;
		bind_filter(st, f);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			struct carrier_quality *q = quality_of(cq, n, cap,
			    (const char *)sqlite3_column_text(st, 0));

			if (q == NULL) {
				rc = SQLITE_NOMEM;
				break;
			}
			q->updates += sqlite3_column_int64(st, 1);
			if (sqlite3_column_int64(st, 2) > q->lag_max)
				q->lag_max = sqlite3_column_int64(st, 2);
			if (hist_merge_blob(q->lag->count, sqlite3_column_blob(st, 3),
			    (size_t)sqlite3_column_bytes(st, 3), 1) == -1) {
				rc = SQLITE_CORRUPT;
				break;
			}
			q->lag->n += sqlite3_column_int64(st, 7);
			q->pln_est += sqlite3_column_int64(st, 8);
			q->duplicates += sqlite3_column_int64(st, 4);
			q->retractions += sqlite3_column_int64(st, 5);
			q->out_of_order += sqlite3_column_int64(st, 6);
		}
		finish(ctx, i, st, rc, a);
	}
}

static void
quality_rejections(struct query_ctx *ctx, const struct stats_filter *f,
    struct carrier_quality **cq, size_t *n, size_t *cap, struct answer *a)
{
	sqlite3_stmt *st = prepare(ctx, LEGS_MAX, "SELECT carrier, reason, count(*) FROM rejections"
	    " WHERE recorded_ms >= ?1 AND recorded_ms < ?2 AND (?4 IS NULL OR carrier = ?4)"
	    " GROUP BY carrier, reason ORDER BY carrier, count(*) DESC, reason", a);
	int rc;

	if (st == NULL)
		return;
	bind_filter(st, f);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct carrier_quality *q = quality_of(cq, n, cap,
		    (const char *)sqlite3_column_text(st, 0));
		size_t used;

		if (q == NULL) {
			rc = SQLITE_NOMEM;
			break;
		}
		q->rejected += sqlite3_column_int64(st, 2);
		used = strlen(q->by_reason);
		snprintf(q->by_reason + used, sizeof q->by_reason - used, "%s%s:%lld",
		    used ? "," : "", reason_name(sqlite3_column_int(st, 1)),
		    (long long)sqlite3_column_int64(st, 2));
	}
	finish(ctx, LEGS_MAX, st, rc, a);
}

static void
quality_mark_duplicates(struct query_ctx *ctx, const struct stats_filter *f,
    struct carrier_quality **cq, size_t *n, size_t *cap, struct answer *a)
{
	sqlite3_stmt *st = prepare(ctx, LEGS_MAX, "SELECT carrier, sum(n) FROM duplicates_hourly"
	    " WHERE hour_ms >= ?1 AND hour_ms < ?2 AND (?4 IS NULL OR carrier = ?4)"
	    " GROUP BY carrier", a);
	int rc;

	if (st == NULL)
		return;
	bind_filter(st, f);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct carrier_quality *q = quality_of(cq, n, cap,
		    (const char *)sqlite3_column_text(st, 0));

		if (q == NULL) {
			rc = SQLITE_NOMEM;
			break;
		}
		q->duplicates += sqlite3_column_int64(st, 1);
	}
	finish(ctx, LEGS_MAX, st, rc, a);
}

void
cmd_quality(struct query_ctx *ctx, struct qrequest *req, int64_t now, struct answer *a)
{
	struct carrier_quality *cq = NULL;
	size_t n = 0, cap = 0;
	struct stats_filter f;

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
