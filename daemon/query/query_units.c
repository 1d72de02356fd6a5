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

/* Statements that look for a unit's later entry into downstream legs. */
struct downstream {
	sqlite3_stmt *st[LEGS_MAX];
};

static bool
is_downstream(size_t leg, size_t other, const char *dir)
{
	return dir[0] == 'E' ? other < leg : other > leg;
}

/* Whether (unit, dir) entered a leg downstream of `leg` at or after
 * `after`: 1 or 0, -1 when a read failed (the answer says so). The nearest
 * legs are asked first: a unit whose exit was not reported is usually in
 * the next leg. */
static int
downstream_entered(struct query_ctx *ctx, struct downstream *d, size_t leg, const char *unit,
    const char *dir, int64_t after, struct answer *a)
{
	size_t count = ctx->legs->count;

	for (size_t k = 1; k < count; k++) {
		size_t j = dir[0] == 'E' ? leg - k : leg + k;
		sqlite3_stmt *st;
		int rc, found;

		if ((dir[0] == 'E' && k > leg) || j >= count)
			break;
		if (d->st[j] == NULL && (d->st[j] = prepare(ctx, j, "SELECT 1 FROM traversals"
		    " WHERE unit = ?1 AND direction = ?2 AND enter_time_ms >= ?3 LIMIT 1",
		    a)) == NULL)
			return -1;
		st = d->st[j];
		sqlite3_bind_text(st, 1, unit, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, dir, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, after);
		rc = sqlite3_step(st);
		found = rc == SQLITE_ROW;
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
		if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
			finish(ctx, j, st, rc, a);
			d->st[j] = NULL;
			return -1;
		}
		if (found)
			return 1;
	}
	return 0;
}

static void
downstream_free(struct downstream *d)
{
	for (size_t j = 0; j < LEGS_MAX; j++)
		sqlite3_finalize(d->st[j]);
}

/* Open traversals of a leg, oldest first, without those closed by a
 * downstream entry. */
struct open_trav {
	const char *unit, *direction, *carrier;
	int64_t enter, teu, containers;
};

typedef void (*open_fn)(void *arg, const struct open_trav *o);

static void
each_open(struct query_ctx *ctx, size_t leg, open_fn fn, void *arg, struct answer *a)
{
	sqlite3_stmt *st = prepare(ctx, leg, "SELECT unit, direction, carrier, enter_time_ms,"
	    " teu, containers FROM traversals INDEXED BY traversals_open"
	    " WHERE exit_time_ms IS NULL ORDER BY enter_time_ms, unit", a);
	struct downstream d = { 0 };
	int rc = SQLITE_DONE;

	if (st == NULL)
		return;
	while (!a->failed && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct open_trav o = { (const char *)sqlite3_column_text(st, 0),
		    (const char *)sqlite3_column_text(st, 1), (const char *)sqlite3_column_text(st, 2),
		    sqlite3_column_int64(st, 3), sqlite3_column_int64(st, 4),
		    sqlite3_column_int64(st, 5) };
		int r = downstream_entered(ctx, &d, leg, o.unit, o.direction, o.enter, a);

		if (r == -1)
			break;
		if (r == 0)
			fn(arg, &o);
	}
	downstream_free(&d);
	finish(ctx, leg, st, a->failed ? SQLITE_DONE : rc, a);
}

struct unit_rows {
	struct answer *a;
	int64_t now;
};

static void
unit_row(void *arg, const struct open_trav *o)
{
	struct unit_rows *u = arg;
	char when[32];

	time_format_iso(o->enter, when, sizeof when);
	answer_row(u->a, "%s\t%s\t%s\t%s\t%.2f\t%lld", o->unit, o->direction, o->carrier, when,
	    (u->now - o->enter) / MS_PER_HOUR, (long long)o->teu);
}

struct leg_totals {
	int64_t units, teu, containers, oldest, over, over_before;
};

static void
leg_total(void *arg, const struct open_trav *o)
{
	struct leg_totals *t = arg;

	if (t->units == 0 || o->enter < t->oldest)
		t->oldest = o->enter;
	t->units++;
	t->teu += o->teu;
	t->containers += o->containers;
	t->over += o->enter < t->over_before;
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

/* The unit's traversals of one leg. */
static void
leg_traversals(struct query_ctx *ctx, size_t leg, const char *unit, struct steps *s,
    struct answer *a)
{
	sqlite3_stmt *st = prepare(ctx, leg, "SELECT direction, enter_time_ms, exit_time_ms"
	    " FROM traversals WHERE unit = ?1", a);
	int rc;

	if (st == NULL)
		return;
	sqlite3_bind_text(st, 1, unit, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		bool open = sqlite3_column_type(st, 2) == SQLITE_NULL;

		if (steps_add(s, leg, (const char *)sqlite3_column_text(st, 0),
		    sqlite3_column_int64(st, 1), open ? -1 : sqlite3_column_int64(st, 2),
		    open ? STEP_IN_LEG : STEP_DONE) == -1) {
			rc = SQLITE_NOMEM;
			break;
		}
	}
	finish(ctx, leg, st, rc, a);
}

/* The unit's actual exits from one leg that closed no traversal (pairing
 * found no open entry before them: lib/traversal.c). */
static void
leg_orphan_exits(struct query_ctx *ctx, size_t leg, const char *unit, struct steps *s,
    struct answer *a)
{
	sqlite3_stmt *st = prepare(ctx, leg, "SELECT e.direction, e.event_time_ms, e.event_code"
	    " FROM events AS e INDEXED BY events_by_unit WHERE e.unit = ?1 AND e.classifier = 1"
	    " AND e.retracted = 0 AND NOT EXISTS (SELECT 1 FROM traversals AS t"
	    " WHERE t.unit = e.unit AND t.direction = e.direction"
	    " AND t.exit_time_ms = e.event_time_ms) ORDER BY e.direction, e.event_time_ms", a);
	enum leg_kind kind = ctx->legs->legs[leg].kind;
	int rc;

	if (st == NULL)
		return;
	sqlite3_bind_text(st, 1, unit, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (leg_event_role(kind, 1, sqlite3_column_int(st, 2)) != ROLE_EXIT)
			continue;
		if (steps_add(s, leg, (const char *)sqlite3_column_text(st, 0), -1,
		    sqlite3_column_int64(st, 1), STEP_ORPHAN_EXIT) == -1) {
			rc = SQLITE_NOMEM;
			break;
		}
	}
	finish(ctx, leg, st, rc, a);
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
 * NOT_FOUND; -1 after an error. One lookup per leg on events_by_unit. */
static int
unit_reported(struct query_ctx *ctx, const char *unit, struct answer *a)
{
	for (size_t i = 0; i < ctx->legs->count; i++) {
		int found = row_exists(ctx, i, "SELECT 1 FROM events WHERE unit = ?1 LIMIT 1", unit,
		    a);

		if (found != 0)
			return found;
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
