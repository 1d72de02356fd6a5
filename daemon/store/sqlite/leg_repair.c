/*
 * Re-pairing: after a batch stores its events, every (unit, direction) it
 * touched gets its traversals paired again from its live events, and only
 * the difference from the stored pairing is written, with the matching
 * rollup changes (see leg_store_internal.h, rollup_batch.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corridor.pb-c.h"
#include "leg_store_internal.h"

int
unit_set_add(struct unit_set *set, const char *unit, const char *direction, bool copy)
{
	if (set->count == set->cap) {
		size_t cap = set->cap ? set->cap * 2 : 64;
		struct unit_key *k = realloc(set->keys, cap * sizeof *k);

		if (k == NULL)
			return -1;
		set->keys = k;
		set->cap = cap;
	}
	set->keys[set->count].unit = copy ? strdup(unit) : unit;
	set->keys[set->count].owned = copy;
	if (set->keys[set->count].unit == NULL)
		return -1;
	set->keys[set->count].direction[0] = direction[0];
	set->keys[set->count].direction[1] = '\0';
	set->count++;
	return 0;
}

void
unit_set_free(struct unit_set *set)
{
	for (size_t i = 0; i < set->count; i++)
		if (set->keys[i].owned)
			free((char *)set->keys[i].unit);
	free(set->keys);
	memset(set, 0, sizeof *set);
}

static int
unit_key_cmp(const void *a, const void *b)
{
	const struct unit_key *x = a, *y = b;
	int c = strcmp(x->unit, y->unit);

	return c != 0 ? c : x->direction[0] - y->direction[0];
}

/* Copies a column's text (or "a/b" of two columns) into the pool. */
static size_t
pool_add(struct leg_store *s, const char *a, const char *b)
{
	size_t la, lb, need, off = s->pool_len;

	if (a == NULL || a[0] == '\0')
		return POOL_NONE;
	la = strlen(a);
	lb = b != NULL && b[0] != '\0' ? strlen(b) : 0;
	need = la + (lb ? lb + 1 : 0) + 1;
	if (s->pool_len + need > s->pool_cap) {
		size_t cap = s->pool_cap ? s->pool_cap : 1024;
		char *grown;

		while (cap < s->pool_len + need)
			cap *= 2;
		if ((grown = realloc(s->pool, cap)) == NULL)
			return POOL_NONE;
		s->pool = grown;
		s->pool_cap = cap;
	}
	memcpy(s->pool + off, a, la);
	if (lb) {
		s->pool[off + la] = '/';
		memcpy(s->pool + off + la + 1, b, lb);
	}
	s->pool[off + need - 1] = '\0';
	s->pool_len += need;
	return off;
}

static const char *
pool_str(const struct leg_store *s, size_t off)
{
	return off == POOL_NONE ? NULL : s->pool + off;
}

static const char *
col_text(sqlite3_stmt *st, int col)
{
	return (const char *)sqlite3_column_text(st, col);
}

static uint32_t
column_u32(sqlite3_stmt *st, int col)
{
	return sqlite3_column_type(st, col) == SQLITE_NULL ? 0 :
	    (uint32_t)sqlite3_column_int64(st, col);
}

/* Makes room for n events and traversals in the re-pairing scratch. */
static int
scratch_reserve(struct leg_store *s, size_t n)
{
	size_t cap = s->cap ? s->cap : 16;

	if (n <= s->cap)
		return 0;
	while (cap < n)
		cap *= 2;
	/* each array keeps its old block when realloc fails */
#define SCRATCH_GROW(field) do {					\
	void *grown = realloc(s->field, cap * sizeof *s->field);	\
	if (grown == NULL)						\
		return -1;						\
	s->field = grown;						\
} while (0)
	SCRATCH_GROW(uev);
	SCRATCH_GROW(ev);
	SCRATCH_GROW(ev_before);
	SCRATCH_GROW(tr);
	SCRATCH_GROW(tr_before);
	SCRATCH_GROW(stored);
#undef SCRATCH_GROW
	s->cap = cap;
	return 0;
}

/* Loads the (unit, direction)'s live events (every classifier) by time. */
static int
load_unit_events(struct leg_store *s, const struct unit_key *k, size_t *count)
{
	sqlite3_stmt *st = s->st[ST_UNIT_EVENTS];
	size_t n = 0;
	int rc;

	leg_bind_text(st, 1, k->unit);
	leg_bind_text(st, 2, k->direction);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct unit_event *ue;
		int classifier, code;

		if (scratch_reserve(s, n + 1) == -1) {
			rc = SQLITE_NOMEM;
			break;
		}
		ue = &s->uev[n++];
		classifier = sqlite3_column_int(st, 7);
		code = sqlite3_column_int(st, 2);
		ue->ev.id = sqlite3_column_int64(st, 0);
		ue->ev.time_ms = sqlite3_column_int64(st, 1);
		ue->ev.classifier = classifier;
		ue->ev.role = leg_event_role(s->kind, classifier, code);
		ue->ev.exit_kind = leg_event_role(s->kind, CORRIDOR__CLASSIFIER__ACT, code) ==
		    ROLE_EXIT;
		ue->ev.teu = column_u32(st, 4);
		ue->ev.containers = column_u32(st, 5);
		ue->ev.gross_kg = column_u32(st, 6);
		ue->carrier = pool_add(s, col_text(st, 3), NULL);
		ue->train = pool_add(s, col_text(st, 8), NULL);
		ue->vessel = pool_add(s, col_text(st, 9), col_text(st, 10));
		ue->record_ms = sqlite3_column_int64(st, 11);
	}
	sqlite3_reset(st);
	*count = n;
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* Loads the traversals stored for the (unit, direction), by entry time. */
static int
load_stored_traversals(struct leg_store *s, const struct unit_key *k, size_t *count)
{
	sqlite3_stmt *st = s->st[ST_UNIT_TRAVERSALS];
	size_t n = 0;
	int rc;

	leg_bind_text(st, 1, k->unit);
	leg_bind_text(st, 2, k->direction);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct stored_traversal *x;

		if (scratch_reserve(s, n + 1) == -1) {
			rc = SQLITE_NOMEM;
			break;
		}
		x = &s->stored[n++];
		memset(x, 0, sizeof *x);
		x->t.enter_ms = sqlite3_column_int64(st, 0);
		x->t.exit_ms = sqlite3_column_type(st, 1) == SQLITE_NULL ? -1 :
		    sqlite3_column_int64(st, 1);
		x->carrier = pool_add(s, col_text(st, 2), NULL);
		x->t.teu = column_u32(st, 3);
		x->t.containers = column_u32(st, 4);
		x->t.gross_kg = column_u32(st, 5);
		x->train = pool_add(s, col_text(st, 6), NULL);
		x->vessel = pool_add(s, col_text(st, 7), NULL);
		x->t.plan_ms = sqlite3_column_type(st, 8) == SQLITE_NULL ? -1 :
		    sqlite3_column_int64(st, 8);
		x->t.eta_n = column_u32(st, 9);
		x->t.eta_err_ms = sqlite3_column_int64(st, 10);
	}
	sqlite3_reset(st);
	*count = n;
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

struct unit_change {
	struct leg_store *s;
	const struct unit_key *k;
};

/* Writes one traversal difference and its rollup changes. */
static int
change_traversal(void *arg, const struct traversal *before, const struct traversal *after)
{
	struct unit_change *ch = arg;
	struct leg_store *s = ch->s;
	const struct traversal *t = after != NULL ? after : before;
	sqlite3_stmt *st = s->st[after == NULL ? ST_DELETE_TRAVERSAL : ST_UPSERT_TRAVERSAL];
	char dir = ch->k->direction[0];
	int rc;

	if (before != NULL && rollup_batch_traversal(&s->rollups, before, dir, -1) == -1)
		return SQLITE_NOMEM;
	if (after != NULL && rollup_batch_traversal(&s->rollups, after, dir, 1) == -1)
		return SQLITE_NOMEM;
	leg_bind_text(st, 1, ch->k->unit);
	leg_bind_text(st, 2, ch->k->direction);
	sqlite3_bind_int64(st, 3, t->enter_ms);
	if (after != NULL) {
		leg_bind_opt_int(st, 4, t->exit_ms, t->exit_ms >= 0);
		leg_bind_opt_int(st, 5, t->exit_ms - t->enter_ms, t->exit_ms >= 0);
		leg_bind_text(st, 6, t->carrier);
		sqlite3_bind_int64(st, 7, t->teu);
		sqlite3_bind_int64(st, 8, t->containers);
		sqlite3_bind_int64(st, 9, t->gross_kg);
		leg_bind_text(st, 10, t->train);
		leg_bind_text(st, 11, t->vessel);
		leg_bind_opt_int(st, 12, t->plan_ms, t->plan_ms >= 0);
		sqlite3_bind_int64(st, 13, t->eta_n);
		sqlite3_bind_int64(st, 14, t->eta_err_ms);
	}
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* Counts the batch's actual events that arrived after an actual event of
 * the unit with a later event time: out-of-order arrivals. */
static int
count_out_of_order(struct leg_store *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct unit_event *e = &s->uev[i];

		if (e->ev.id < s->first_new_id || e->ev.role == ROLE_NONE)
			continue;
		for (size_t j = i + 1; j < n; j++) {
			const struct unit_event *f = &s->uev[j];

			if (f->ev.id < e->ev.id && f->ev.role != ROLE_NONE &&
			    f->ev.time_ms > e->ev.time_ms) {
				if (rollup_batch_quality(&s->rollups, pool_str(s, e->carrier),
				    e->record_ms, e->ev.time_ms, QE_OUT_OF_ORDER) == -1)
					return SQLITE_NOMEM;
				break;
			}
		}
	}
	return SQLITE_OK;
}

/*
 * Re-pairs one (unit, direction) after the batch stored its events. The
 * pairing of the events stored before the batch is what the traversals
 * table holds, so only the difference is written: usually one insert (a
 * unit entered) or one update (it left). For a unit touched by a
 * retraction the stored pairing included the retracted event, so it is
 * read from the table instead.
 */
static int
repair_unit(struct leg_store *s, const struct unit_key *k)
{
	struct unit_change ch = { s, k };
	size_t n, nb = 0, ntr, ntr_before = 0;
	int rc;

	s->pool_len = 0;
	if ((rc = load_unit_events(s, k, &n)) != SQLITE_OK)
		return rc;
	if (k->owned && (rc = load_stored_traversals(s, k, &ntr_before)) != SQLITE_OK)
		return rc;
	/* the pool no longer moves: turn offsets into pointers */
	for (size_t i = 0; i < n; i++) {
		s->ev[i] = s->uev[i].ev;
		s->ev[i].carrier = pool_str(s, s->uev[i].carrier);
		s->ev[i].train = pool_str(s, s->uev[i].train);
		s->ev[i].vessel = pool_str(s, s->uev[i].vessel);
	}
	if (k->owned) {
		for (size_t i = 0; i < ntr_before; i++) {
			s->tr_before[i] = s->stored[i].t;
			s->tr_before[i].carrier = pool_str(s, s->stored[i].carrier);
			s->tr_before[i].train = pool_str(s, s->stored[i].train);
			s->tr_before[i].vessel = pool_str(s, s->stored[i].vessel);
		}
	} else {
		for (size_t i = 0; i < n; i++)
			if (s->ev[i].id < s->first_new_id)
				s->ev_before[nb++] = s->ev[i];
		ntr_before = traversal_pair(s->ev_before, nb, s->tr_before);
	}
	if ((rc = count_out_of_order(s, n)) != SQLITE_OK)
		return rc;
	ntr = traversal_pair(s->ev, n, s->tr);
	return traversal_diff(s->tr_before, ntr_before, s->tr, ntr, change_traversal, &ch);
}

int
leg_repair_units(struct leg_store *s, struct unit_set *units)
{
	int rc;

	/* A unit touched several times in the batch is re-paired once, and
	 * read from the table if any of its touches was a retraction. */
	if (units->count == 0)
		return SQLITE_OK;
	qsort(units->keys, units->count, sizeof units->keys[0], unit_key_cmp);
	for (size_t i = 0; i < units->count;) {
		struct unit_key k = units->keys[i];
		size_t j = i + 1;

		for (; j < units->count && unit_key_cmp(&units->keys[i], &units->keys[j]) == 0; j++)
			k.owned = k.owned || units->keys[j].owned;
		if ((rc = repair_unit(s, &k)) != SQLITE_OK)
			return rc;
		i = j;
	}
	return SQLITE_OK;
}
