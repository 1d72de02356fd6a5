/*
 * JOURNEYS <from_node> <to_node>: end-to-end times between two nodes. A
 * journey of a unit ends when it arrives at to_node (exits a leg whose
 * destination, for its direction, is to_node) within the window, and starts
 * at its latest departure from from_node before that (entry into a leg whose
 * origin is from_node); a unit arriving twice from one departure (e.g. the
 * sea leg then the port leg) counts once, at its first arrival. Legs with the
 * same node at both ends (ports) neither start nor end journeys. Percentiles
 * are exact (nearest rank) over the journeys.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "query_internal.h"
#include "stats.h"

/* Published schedules (domain notes), used when no target is given. */
static const struct schedule {
	const char *from, *to;
	double days;
} published[] = {
	{ "ALK", "BAK", 9 },	/* Altynkol -> Baku */
	{ "ALK", "POT", 12 },	/* Altynkol -> Poti / Batumi */
};

struct journey {
	const char *unit;	/* owned */
	int64_t start, arrival;
};

static int
journey_cmp(const void *x, const void *y)
{
	const struct journey *a = x, *b = y;
	int c = strcmp(a->unit, b->unit);

	if (c != 0)
		return c;
	if (a->start != b->start)
		return a->start < b->start ? -1 : 1;
	return (a->arrival > b->arrival) - (a->arrival < b->arrival);
}

/* A node is known when a configured leg starts or ends there. */
static bool
node_known(const struct leg_table *legs, const char *node)
{
	for (size_t i = 0; i < legs->count; i++)
		if (strcmp(legs->legs[i].from_node, node) == 0 ||
		    strcmp(legs->legs[i].to_node, node) == 0)
			return true;
	return false;
}

static bool
leg_moves(const struct leg *l)
{
	return strcmp(l->from_node, l->to_node) != 0;
}

/* What collecting one direction's journeys needs in the row callback. */
struct journey_read {
	struct query_ctx *ctx;
	size_t starts[LEGS_MAX];	/* the legs that leave from_node */
	size_t nstarts;
	const char *dir;
	struct journey **js;
	size_t *n, *cap;
	struct answer *a;
};

/* An arrival at to_node: a journey if the unit left from_node before it,
 * from its latest departure at or before the arrival. */
static int
add_arrival(void *arg, const struct store_traversal *t)
{
	struct journey_read *jr = arg;
	struct query_ctx *ctx = jr->ctx;
	struct store_error err;
	int64_t start = -1;

	for (size_t k = 0; k < jr->nstarts; k++) {
		const struct leg *l = &ctx->legs->legs[jr->starts[k]];
		int64_t enter;

		if (read_ok(l->code, store_reader_latest_entry(ctx->reader, jr->starts[k], l,
		    t->unit, jr->dir, t->exit_ms, &enter, &err), &err, jr->a) == -1)
			return 1;
		if (enter > start)
			start = enter;
	}
	if (start < 0)
		return 0;
	if (grow_array((void **)jr->js, jr->cap, *jr->n, sizeof **jr->js) == -1 ||
	    ((*jr->js)[*jr->n].unit = strdup(t->unit)) == NULL) {
		answer_err(jr->a, "INTERNAL", "out of memory");
		return 1;
	}
	(*jr->js)[*jr->n].start = start;
	(*jr->js)[(*jr->n)++].arrival = t->exit_ms;
	return 0;
}

/* Collects the journeys of one direction into *js. */
static void
collect_journeys(struct query_ctx *ctx, const char *from_node, const char *to_node,
    const struct store_filter *f, const char *dir, struct journey **js, size_t *n,
    size_t *cap, struct answer *a)
{
	struct journey_read jr = { .ctx = ctx, .dir = dir, .js = js, .n = n, .cap = cap, .a = a };
	struct store_filter arrivals = { f->from, f->to, dir, NULL };

	for (size_t i = 0; i < ctx->legs->count; i++) {
		const struct leg *l = &ctx->legs->legs[i];

		if (leg_moves(l) && strcmp(leg_origin(l, dir[0]), from_node) == 0)
			jr.starts[jr.nstarts++] = i;
	}
	for (size_t i = 0; i < ctx->legs->count && !a->failed && jr.nstarts > 0; i++) {
		const struct leg *l = &ctx->legs->legs[i];
		struct store_error err;

		if (!leg_moves(l) || strcmp(leg_destination(l, dir[0]), to_node) != 0)
			continue;
		read_ok(l->code, store_reader_each_traversal_by_exit(ctx->reader, i, l,
		    &arrivals, add_arrival, &jr, &err), &err, a);
	}
}

static double
target_days(const char *from, const char *to, const char *given, struct answer *a)
{
	char *end;
	double d;

	if (given == NULL) {
		for (size_t i = 0; i < sizeof published / sizeof published[0]; i++)
			if ((strcmp(published[i].from, from) == 0 && strcmp(published[i].to, to) == 0) ||
			    (strcmp(published[i].from, to) == 0 && strcmp(published[i].to, from) == 0))
				return published[i].days;
		return 0;
	}
	d = strtod(given, &end);
	if (*end != '\0' || !(d > 0 && d < 1000)) {
		answer_err(a, "BAD_ARGUMENT", "target_days must be a number of days above 0");
		return -1;
	}
	return d;
}

static void
journey_row(const char *from, const char *to, const char *dir, struct journey *js, size_t n,
    double target, struct answer *a)
{
	int64_t *dur = malloc((n ? n : 1) * sizeof *dur);
	struct duration_summary s;
	size_t m = 0, on_time = 0;
	char tgt[32] = "", share[32] = "";

	if (dur == NULL) {
		answer_err(a, "INTERNAL", "out of memory");
		return;
	}
	if (n > 1)
		qsort(js, n, sizeof *js, journey_cmp);
	for (size_t i = 0; i < n; i++) {
		/* one journey per (unit, departure): its first arrival */
		if (i > 0 && strcmp(js[i].unit, js[i - 1].unit) == 0 && js[i].start == js[i - 1].start)
			continue;
		dur[m] = js[i].arrival - js[i].start;
		on_time += target > 0 && dur[m] <= (int64_t)(target * 24 * MS_PER_HOUR);
		m++;
	}
	stats_summarize(dur, m, &s);
	if (target > 0) {
		snprintf(tgt, sizeof tgt, "%g", target);
		if (m > 0)
			snprintf(share, sizeof share, "%.1f", 100.0 * (double)on_time / (double)m);
	}
	if (m == 0)
		answer_row(a, "%s\t%s\t%s\t0\t\t\t\t\t\t\t%s\t", from, to, dir, tgt);
	else
		answer_row(a, "%s\t%s\t%s\t%zu\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t%s\t%s", from, to,
		    dir, m, s.min / MS_PER_HOUR, s.mean / MS_PER_HOUR, s.p50 / MS_PER_HOUR,
		    s.p90 / MS_PER_HOUR, s.p95 / MS_PER_HOUR, s.max / MS_PER_HOUR, tgt, share);
	free(dur);
}

void
cmd_journeys(struct query_ctx *ctx, struct qrequest *req, int64_t now, struct answer *a)
{
	static const char *const both[] = { "W", "E" };
	const char *from = req->argv[1], *to = req->argv[2];
	struct store_filter f;
	double target;

	(void)now;
	if (strlen(from) >= LEG_NODE_MAX || strlen(to) >= LEG_NODE_MAX) {
		answer_err(a, "BAD_ARGUMENT", "a node code has at most %d characters",
		    LEG_NODE_MAX - 1);
		return;
	}
	for (int k = 1; k <= 2; k++)
		if (!node_known(ctx->legs, req->argv[k])) {
			answer_err(a, "NOT_FOUND", "node %s is no end of a configured leg (LEGS lists "
			    "from_node and to_node)", req->argv[k]);
			return;
		}
	if (parse_filter(req, 3, &f, a) == -1)
		return;
	/* the sixth word is the target, not a carrier */
	if ((target = target_days(from, to, f.carrier, a)) < 0)
		return;
	answer_header(a, "from_node\tto_node\tdirection\tn\tmin_h\tmean_h\tp50_h\tp90_h\tp95_h"
	    "\tmax_h\ttarget_days\ton_time_pct");
	for (size_t d = 0; d < 2 && !a->failed; d++) {
		struct journey *js = NULL;
		size_t n = 0, cap = 0;

		if (f.direction != NULL && strcmp(f.direction, both[d]) != 0)
			continue;
		collect_journeys(ctx, from, to, &f, both[d], &js, &n, &cap, a);
		if (!a->failed)
			journey_row(from, to, both[d], js, n, target, a);
		for (size_t i = 0; i < n; i++)
			free((char *)js[i].unit);
		free(js);
	}
}
