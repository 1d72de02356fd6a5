/*
 * Where units are: INTRANSIT (open traversals) and SHIPMENT (one unit over
 * every leg). A unit whose exit from a leg was never reported but which has
 * since entered a leg downstream in the same direction (later in LEGS order
 * going W, earlier going E) is no longer in the leg: its traversal is
 * closed at that downstream entry, marked inferred, here at query time (a
 * writer owns only its own legs' files). STATS and the rollups never count
 * an inferred close. An actual exit that closed no traversal (no entry
 * before it) shows in SHIPMENT as an orphan exit.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "query_internal.h"
#include "timeutil.h"
#include "traversal.h"

static bool
is_downstream(size_t leg, size_t other, const char *dir)
{
	return dir[0] == 'E' ? other < leg : other > leg;
}

typedef void (*open_fn)(void *arg, const struct store_open_traversal *o);

struct open_read {
	open_fn fn;
	void *arg;
	struct answer *a;
};

static int
open_row(void *arg, const struct store_open_traversal *o)
{
	struct open_read *or = arg;

	or->fn(or->arg, o);
	return or->a->failed;
}

/* Open traversals of a leg, oldest first, without those closed by a
 * downstream entry: the store asks the legs downstream in each direction,
 * the nearest first (a unit whose exit was not reported is usually in the
 * next leg). */
static void
each_open(struct query_ctx *ctx, size_t leg, open_fn fn, void *arg, struct answer *a)
{
	const struct leg *l = &ctx->legs->legs[leg];
	struct open_read or = { fn, arg, a };
	size_t w[LEGS_MAX], e[LEGS_MAX];
	struct store_leg_set onward_w = { w, 0 }, onward_e = { e, 0 };
	struct store_error err;

	/* going W: later in LEGS order; going E: earlier */
	for (size_t j = leg + 1; j < ctx->legs->count; j++)
		w[onward_w.n++] = j;
	for (size_t j = leg; j-- > 0;)
		e[onward_e.n++] = j;
	read_ok(l->code, store_reader_each_open_staying(ctx->reader, leg, ctx->legs, &onward_w,
	    &onward_e, open_row, &or, &err), &err, a);
}

struct unit_rows {
	struct answer *a;
	int64_t now;
};

static void
unit_row(void *arg, const struct store_open_traversal *o)
{
	struct unit_rows *u = arg;
	char when[32];

	time_format_iso(o->enter_ms, when, sizeof when);
	answer_row(u->a, "%s\t%s\t%s\t%s\t%.2f\t%lld", o->unit, o->direction, o->carrier, when,
	    (u->now - o->enter_ms) / MS_PER_HOUR, (long long)o->teu);
}

struct leg_totals {
	int64_t units, teu, containers, oldest, over, over_before;
};

static void
leg_total(void *arg, const struct store_open_traversal *o)
{
	struct leg_totals *t = arg;

	if (t->units == 0 || o->enter_ms < t->oldest)
		t->oldest = o->enter_ms;
	t->units++;
	t->teu += o->teu;
	t->containers += o->containers;
	t->over += o->enter_ms < t->over_before;
}

void
cmd_intransit(struct query_ctx *ctx, struct qrequest *req, int64_t now, struct answer *a)
{
	size_t first, last;

	if (select_legs(ctx, req, 1, &first, &last, a) == -1)
		return;
	if (last - first == 1 && qproto_arg_given(req, 1)) {
		struct unit_rows u = { a, now };

		answer_header(a, "unit\tdirection\tcarrier\tentered\thours\tteu");
		each_open(ctx, first, unit_row, &u, a);
		return;
	}
	answer_header(a, "leg\tkind\tunits\tteu\tcontainers\toldest_h\tover_typical");
	for (size_t i = first; i < last && !a->failed; i++) {
		const struct leg *l = &ctx->legs->legs[i];
		struct leg_totals t = { .over_before = now - (int64_t)(l->typical_h * MS_PER_HOUR) };

		each_open(ctx, i, leg_total, &t, a);
		if (a->failed)
			break;
		if (t.units == 0)
			answer_row(a, "%s\t%s\t0\t0\t0\t\t0", l->code, leg_kind_name(l->kind));
		else
			answer_row(a, "%s\t%s\t%lld\t%lld\t%lld\t%.2f\t%lld", l->code,
			    leg_kind_name(l->kind), (long long)t.units, (long long)t.teu,
			    (long long)t.containers, (now - t.oldest) / MS_PER_HOUR, (long long)t.over);
	}
}

enum step_status { STEP_DONE, STEP_IN_LEG, STEP_INFERRED, STEP_ORPHAN_EXIT };

static const char *const step_names[] = { "done", "in_leg", "inferred", "orphan_exit" };

struct journey_step {
	size_t leg;
	char direction[2];
	int64_t enter, exit;	/* enter -1: an orphan exit; exit -1: still in the leg */
	enum step_status status;
};

static int64_t
step_time(const struct journey_step *s)
{
	return s->status == STEP_ORPHAN_EXIT ? s->exit : s->enter;
}

static int
step_cmp(const void *x, const void *y)
{
	const struct journey_step *a = x, *b = y;

	if (step_time(a) != step_time(b))
		return step_time(a) < step_time(b) ? -1 : 1;
	/* a unit leaves one leg and enters the next at the same instant */
	if ((a->exit < 0) != (b->exit < 0))
		return a->exit < 0 ? 1 : -1;
	return a->exit < b->exit ? -1 : a->exit > b->exit;
}

struct steps {
	struct journey_step *v;
	size_t n, cap;
};

static int
steps_add(struct steps *s, size_t leg, const char *dir, int64_t enter, int64_t exit,
    enum step_status status)
{
	if (grow_array((void **)&s->v, &s->cap, s->n, sizeof *s->v) == -1)
		return -1;
	s->v[s->n] = (struct journey_step){ .leg = leg, .enter = enter, .exit = exit,
	    .status = status };
	snprintf(s->v[s->n].direction, sizeof s->v[s->n].direction, "%s", dir);
	s->n++;
	return 0;
}

/* What SHIPMENT collects in the row callbacks. */
struct steps_read {
	struct steps *s;
	size_t leg;
	enum leg_kind kind;
	struct answer *a;
};

static int
add_traversal_step(void *arg, const struct store_unit_traversal *t)
{
	struct steps_read *sr = arg;

	if (steps_add(sr->s, sr->leg, t->direction, t->enter_ms, t->exit_ms,
	    t->exit_ms < 0 ? STEP_IN_LEG : STEP_DONE) == -1) {
		answer_err(sr->a, "INTERNAL", "out of memory");
		return 1;
	}
	return 0;
}

/* The unit's traversals of one leg. */
static void
leg_traversals(struct query_ctx *ctx, size_t leg, const char *unit, struct steps *s,
    struct answer *a)
{
	const struct leg *l = &ctx->legs->legs[leg];
	struct steps_read sr = { s, leg, l->kind, a };
	struct store_error err;

	read_ok(l->code, store_reader_each_unit_traversal(ctx->reader, leg, l, unit,
	    add_traversal_step, &sr, &err), &err, a);
}

static int
add_orphan_exit(void *arg, const struct store_unpaired_event *e)
{
	struct steps_read *sr = arg;

	if (leg_event_role(sr->kind, 1, e->event_code) != ROLE_EXIT)
		return 0;
	if (steps_add(sr->s, sr->leg, e->direction, -1, e->event_ms, STEP_ORPHAN_EXIT) == -1) {
		answer_err(sr->a, "INTERNAL", "out of memory");
		return 1;
	}
	return 0;
}

/* The unit's actual exits from one leg that closed no traversal (pairing
 * found no open entry before them: lib/traversal.c). */
static void
leg_orphan_exits(struct query_ctx *ctx, size_t leg, const char *unit, struct steps *s,
    struct answer *a)
{
	const struct leg *l = &ctx->legs->legs[leg];
	struct steps_read sr = { s, leg, l->kind, a };
	struct store_error err;

	read_ok(l->code, store_reader_each_unpaired_event(ctx->reader, leg, l, unit,
	    add_orphan_exit, &sr, &err), &err, a);
}

/* Closes each open traversal at the unit's first later entry into a leg
 * downstream of it in the same direction. */
static void
infer_closes(struct steps *s)
{
	for (size_t i = 0; i < s->n; i++) {
		struct journey_step *o = &s->v[i];

		if (o->status != STEP_IN_LEG)
			continue;
		for (size_t j = 0; j < s->n; j++) {
			const struct journey_step *d = &s->v[j];

			if (d->status == STEP_ORPHAN_EXIT || d->enter < o->enter ||
			    strcmp(d->direction, o->direction) != 0 ||
			    !is_downstream(o->leg, d->leg, o->direction))
				continue;
			if (o->status != STEP_INFERRED || d->enter < o->exit) {
				o->exit = d->enter;
				o->status = STEP_INFERRED;
			}
		}
	}
}

/* 1 if any leg stored an update about unit (retracted or not), else 0 with
 * NOT_FOUND; -1 after an error. */
static int
unit_reported(struct query_ctx *ctx, const char *unit, struct answer *a)
{
	for (size_t i = 0; i < ctx->legs->count; i++) {
		const struct leg *l = &ctx->legs->legs[i];
		struct store_error err;
		bool found;

		if (read_ok(l->code, store_reader_unit_reported(ctx->reader, i, l, unit, &found,
		    &err), &err, a) == -1)
			return -1;
		if (found)
			return 1;
	}
	answer_err(a, "NOT_FOUND", "unit %.40s was never reported on any leg", unit);
	return 0;
}

void
cmd_shipment(struct query_ctx *ctx, struct qrequest *req, int64_t now, struct answer *a)
{
	struct steps s = { 0 };
	const char *unit = req->argv[1];

	if (strlen(unit) > 160) {
		answer_err(a, "BAD_ARGUMENT", "unit is longer than 160 characters");
		return;
	}
	for (size_t i = 0; i < ctx->legs->count && !a->failed; i++) {
		leg_traversals(ctx, i, unit, &s, a);
		if (!a->failed)
			leg_orphan_exits(ctx, i, unit, &s, a);
	}
	if (a->failed) {
		free(s.v);
		return;
	}
	if (s.n == 0 && unit_reported(ctx, unit, a) != 1) {
		free(s.v);
		return;
	}
	infer_closes(&s);
	if (s.n > 1)
		qsort(s.v, s.n, sizeof *s.v, step_cmp);
	answer_header(a, "leg\tkind\tdirection\tentered\texited\thours\tstatus");
	for (size_t i = 0; i < s.n && !a->failed; i++) {
		const struct journey_step *st = &s.v[i];
		const struct leg *l = &ctx->legs->legs[st->leg];
		char in[32] = "", out[32] = "", hours[32] = "";

		if (st->enter >= 0)
			time_format_iso(st->enter, in, sizeof in);
		if (st->exit >= 0)
			time_format_iso(st->exit, out, sizeof out);
		if (st->enter >= 0)
			snprintf(hours, sizeof hours, "%.2f",
			    ((st->exit >= 0 ? st->exit : now) - st->enter) / MS_PER_HOUR);
		answer_row(a, "%s\t%s\t%s\t%s\t%s\t%s\t%s", l->code, leg_kind_name(l->kind),
		    st->direction, in, out, hours, step_names[st->status]);
	}
	free(s.v);
}
