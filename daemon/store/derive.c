/*
 * Re-pairing, rollup merge rules and re-derivation over a backend's ops;
 * see derive.h (and rollup_batch.h for what a rollup change is).
 */
#include "derive.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corridor.pb-c.h"
#include "histogram.h"
#include "log.h"

/* Strings of the unit being re-paired live in one growing pool and are
 * referred to by offset until it stops moving. */
#define POOL_NONE ((size_t)-1)

/* Units re-paired between two rollup flushes while deriving again, to
 * bound memory; events counted between two flushes. */
#define REDERIVE_CHUNK_UNITS 2000
#define REDERIVE_CHUNK_EVENTS 100000
/* A log line every so many units, so a long derivation shows progress. */
#define REDERIVE_PROGRESS_UNITS 100000

struct unit_event {
	struct trav_event ev;
	size_t carrier, train, vessel;	/* pool offsets */
	int64_t record_ms;
};

struct stored_traversal {
	struct traversal t;
	size_t carrier, train, vessel;
};

struct derive {
	enum leg_kind kind;
	char code[LEG_CODE_MAX];
	/* rollup changes of the open transaction */
	struct rollup_batch rollups;
	/* scratch for re-pairing, reused from unit to unit */
	struct unit_event *uev;
	struct trav_event *ev, *ev_before;
	struct traversal *tr, *tr_before;
	struct stored_traversal *stored;
	size_t cap;
	size_t loaded;		/* rows the current load took */
	char *pool;
	size_t pool_len, pool_cap;
	/* what derive_flush tells the backend's read_ahead it will read */
	struct rollup_key *ahead;
	size_t ahead_cap;
	struct conveyance_key *ahead_conv;
	size_t ahead_conv_cap;
	/* merging a rollup row's histogram */
	int64_t counts[HIST_BUCKETS];
	unsigned char blob[HIST_BLOB_MAX];
};

/* ------------------------------------------------------------ units to re-pair */

int
unit_set_add(struct unit_set *set, const char *unit, const char *direction, bool copy,
    bool read_stored)
{
	struct unit_key *k;

	if (set->count == set->cap) {
		size_t cap = set->cap ? set->cap * 2 : 64;

		if ((k = realloc(set->keys, cap * sizeof *k)) == NULL)
			return -1;
		set->keys = k;
		set->cap = cap;
	}
	k = &set->keys[set->count];
	k->unit = copy ? strdup(unit) : unit;
	k->owned = copy;
	k->read_stored = read_stored;
	if (k->unit == NULL)
		return -1;
	k->direction[0] = direction[0];
	k->direction[1] = '\0';
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

/* ------------------------------------------------------------ the state */

struct derive *
derive_new(enum leg_kind kind, const char *code, int64_t typical_ms)
{
	struct derive *d = calloc(1, sizeof *d);

	if (d == NULL)
		return NULL;
	d->kind = kind;
	snprintf(d->code, sizeof d->code, "%s", code);
	rollup_batch_init(&d->rollups, typical_ms);
	return d;
}

void
derive_free(struct derive *d)
{
	if (d == NULL)
		return;
	rollup_batch_free(&d->rollups);
	free(d->uev);
	free(d->ev);
	free(d->ev_before);
	free(d->tr);
	free(d->tr_before);
	free(d->stored);
	free(d->pool);
	free(d->ahead);
	free(d->ahead_conv);
	free(d);
}

void
derive_reset(struct derive *d)
{
	rollup_batch_reset(&d->rollups);
}

/* What a stored update counts in the quality rollup, at ingest and when
 * deriving again alike. */
static int
note_stored(struct rollup_batch *b, const char *carrier, int64_t record_ms, int64_t event_ms,
    int classifier, bool retracts)
{
	if (rollup_batch_quality(b, carrier, record_ms, event_ms,
	    classifier == CORRIDOR__CLASSIFIER__ACT ? QE_STORED : QE_STORED_PLAN) == -1 ||
	    (retracts && rollup_batch_quality(b, carrier, record_ms, event_ms,
	    QE_RETRACTION) == -1))
		return DERIVE_NOMEM;
	return 0;
}

int
derive_note_update(struct derive *d, const struct update_rec *r)
{
	struct rollup_batch *b = &d->rollups;

	if (r->result == REC_DUPLICATE)
		return rollup_batch_quality(b, r->carrier_code, r->record_time_ms, r->event_time_ms,
		    QE_DUPLICATE) == -1 ? DERIVE_NOMEM : 0;
	return note_stored(b, r->carrier_code, r->record_time_ms, r->event_time_ms, r->classifier,
	    r->retracts != NULL);
}

/* ------------------------------------------------------------ re-pairing */

/* Copies a string (or "a/b" of two) into the pool. */
static size_t
pool_add(struct derive *d, const char *a, const char *b)
{
	size_t la, lb, need, off = d->pool_len;

	if (a == NULL || a[0] == '\0')
		return POOL_NONE;
	la = strlen(a);
	lb = b != NULL && b[0] != '\0' ? strlen(b) : 0;
	need = la + (lb ? lb + 1 : 0) + 1;
	if (d->pool_len + need > d->pool_cap) {
		size_t cap = d->pool_cap ? d->pool_cap : 1024;
		char *grown;

		while (cap < d->pool_len + need)
			cap *= 2;
		if ((grown = realloc(d->pool, cap)) == NULL)
			return POOL_NONE;
		d->pool = grown;
		d->pool_cap = cap;
	}
	memcpy(d->pool + off, a, la);
	if (lb) {
		d->pool[off + la] = '/';
		memcpy(d->pool + off + la + 1, b, lb);
	}
	d->pool[off + need - 1] = '\0';
	d->pool_len += need;
	return off;
}

static const char *
pool_str(const struct derive *d, size_t off)
{
	return off == POOL_NONE ? NULL : d->pool + off;
}

/* Makes room for n events and traversals in the re-pairing scratch. */
static int
scratch_reserve(struct derive *d, size_t n)
{
	size_t cap = d->cap ? d->cap : 16;

	if (n <= d->cap)
		return 0;
	while (cap < n)
		cap *= 2;
	/* each array keeps its old block when realloc fails */
#define SCRATCH_GROW(field) do {					\
	void *grown = realloc(d->field, cap * sizeof *d->field);	\
	if (grown == NULL)						\
		return -1;						\
	d->field = grown;						\
} while (0)
	SCRATCH_GROW(uev);
	SCRATCH_GROW(ev);
	SCRATCH_GROW(ev_before);
	SCRATCH_GROW(tr);
	SCRATCH_GROW(tr_before);
	SCRATCH_GROW(stored);
#undef SCRATCH_GROW
	d->cap = cap;
	return 0;
}

/* unit_events: one live event of the unit into the scratch. */
static int
take_event(void *arg, const struct derive_event *e)
{
	struct derive *d = arg;
	struct unit_event *ue;

	if (scratch_reserve(d, d->loaded + 1) == -1)
		return DERIVE_NOMEM;
	ue = &d->uev[d->loaded++];
	ue->ev.id = e->id;
	ue->ev.time_ms = e->time_ms;
	ue->ev.classifier = e->classifier;
	ue->ev.role = leg_event_role(d->kind, e->classifier, e->event_code);
	ue->ev.exit_kind = leg_event_role(d->kind, CORRIDOR__CLASSIFIER__ACT, e->event_code) ==
	    ROLE_EXIT;
	ue->ev.teu = e->teu;
	ue->ev.containers = e->containers;
	ue->ev.gross_kg = e->gross_kg;
	ue->carrier = pool_add(d, e->carrier, NULL);
	ue->train = pool_add(d, e->train, NULL);
	ue->vessel = pool_add(d, e->vessel_imo, e->voyage);
	ue->record_ms = e->record_ms;
	return 0;
}

/* unit_traversals: one stored traversal of the unit into the scratch. */
static int
take_traversal(void *arg, const struct traversal *t)
{
	struct derive *d = arg;
	struct stored_traversal *x;

	if (scratch_reserve(d, d->loaded + 1) == -1)
		return DERIVE_NOMEM;
	x = &d->stored[d->loaded++];
	x->t = *t;
	x->t.carrier = x->t.train = x->t.vessel = NULL;
	x->carrier = pool_add(d, t->carrier, NULL);
	x->train = pool_add(d, t->train, NULL);
	x->vessel = pool_add(d, t->vessel, NULL);
	return 0;
}

struct unit_change {
	struct derive *d;
	const struct derive_tx *tx;
	const struct unit_key *k;
};

/* Writes one traversal difference and gathers its rollup changes. */
static int
change_traversal(void *arg, const struct traversal *before, const struct traversal *after)
{
	struct unit_change *ch = arg;
	struct derive *d = ch->d;
	const struct unit_key *k = ch->k;
	char dir = k->direction[0];

	if (before != NULL && rollup_batch_traversal(&d->rollups, before, dir, -1) == -1)
		return DERIVE_NOMEM;
	if (after != NULL && rollup_batch_traversal(&d->rollups, after, dir, 1) == -1)
		return DERIVE_NOMEM;
	if (after == NULL)
		return ch->tx->ops->delete_traversal(ch->tx->ctx, k->unit, k->direction,
		    before->enter_ms);
	return ch->tx->ops->put_traversal(ch->tx->ctx, k->unit, k->direction, after);
}

/* Counts the transaction's actual events that arrived after an actual event
 * of the unit with a later event time: out-of-order arrivals. */
static int
count_out_of_order(struct derive *d, const struct derive_tx *tx, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct unit_event *e = &d->uev[i];

		if (e->ev.id < tx->first_new_id || e->ev.role == ROLE_NONE)
			continue;
		for (size_t j = i + 1; j < n; j++) {
			const struct unit_event *f = &d->uev[j];

			if (f->ev.id < e->ev.id && f->ev.role != ROLE_NONE &&
			    f->ev.time_ms > e->ev.time_ms) {
				if (rollup_batch_quality(&d->rollups, pool_str(d, e->carrier),
				    e->record_ms, e->ev.time_ms, QE_OUT_OF_ORDER) == -1)
					return DERIVE_NOMEM;
				break;
			}
		}
	}
	return 0;
}

/*
 * Re-pairs one (unit, direction) after the transaction stored its events.
 * The pairing of the events stored before it is what the stored traversals
 * hold, so only the difference is written: usually one insert (a unit
 * entered) or one update (it left). For a unit touched by a retraction the
 * stored pairing included the retracted event, so it is read instead.
 */
static int
repair_unit(struct derive *d, const struct derive_tx *tx, const struct unit_key *k)
{
	struct unit_change ch = { d, tx, k };
	size_t n, nb = 0, ntr, ntr_before = 0;
	int rc;

	d->pool_len = 0;
	d->loaded = 0;
	rc = tx->ops->unit_events(tx->ctx, k->unit, k->direction, take_event, d);
	n = d->loaded;
	if (rc != 0)
		return rc;
	if (k->read_stored) {
		d->loaded = 0;
		rc = tx->ops->unit_traversals(tx->ctx, k->unit, k->direction, take_traversal, d);
		ntr_before = d->loaded;
		if (rc != 0)
			return rc;
	}
	/* the pool no longer moves: turn offsets into pointers */
	for (size_t i = 0; i < n; i++) {
		d->ev[i] = d->uev[i].ev;
		d->ev[i].carrier = pool_str(d, d->uev[i].carrier);
		d->ev[i].train = pool_str(d, d->uev[i].train);
		d->ev[i].vessel = pool_str(d, d->uev[i].vessel);
	}
	if (k->read_stored) {
		for (size_t i = 0; i < ntr_before; i++) {
			d->tr_before[i] = d->stored[i].t;
			d->tr_before[i].carrier = pool_str(d, d->stored[i].carrier);
			d->tr_before[i].train = pool_str(d, d->stored[i].train);
			d->tr_before[i].vessel = pool_str(d, d->stored[i].vessel);
		}
	} else {
		for (size_t i = 0; i < n; i++)
			if (d->ev[i].id < tx->first_new_id)
				d->ev_before[nb++] = d->ev[i];
		ntr_before = traversal_pair(d->ev_before, nb, d->tr_before);
	}
	if ((rc = count_out_of_order(d, tx, n)) != 0)
		return rc;
	ntr = traversal_pair(d->ev, n, d->tr);
	return traversal_diff(d->tr_before, ntr_before, d->tr, ntr, change_traversal, &ch);
}

int
derive_repair(struct derive *d, const struct derive_tx *tx, struct unit_set *units)
{
	int rc;

	/* A unit touched several times is re-paired once, and read from the
	 * stored traversals if any of its touches was a retraction. */
	if (units->count == 0)
		return 0;
	qsort(units->keys, units->count, sizeof units->keys[0], unit_key_cmp);
	for (size_t i = 0; i < units->count;) {
		struct unit_key k = units->keys[i];
		size_t j = i + 1;

		for (; j < units->count && unit_key_cmp(&units->keys[i], &units->keys[j]) == 0; j++)
			k.read_stored = k.read_stored || units->keys[j].read_stored;
		if ((rc = repair_unit(d, tx, &k)) != 0)
			return rc;
		i = j;
	}
	return 0;
}

/* ------------------------------------------------------------ rollup merge rules */

/* Dense counts of the stored histogram plus the delta into d->counts; their
 * total. */
static int
merge_hist(struct derive *d, bool have_row, const struct derive_rollup *row,
    const int64_t *delta, int64_t *total)
{
	memset(d->counts, 0, sizeof d->counts);
	if (have_row && hist_merge_blob(d->counts, row->hist, row->hist_len, 1) == -1)
		return DERIVE_CORRUPT;
	*total = 0;
	for (int i = 0; i < HIST_BUCKETS; i++) {
		if (delta != NULL)
			d->counts[i] += delta[i];
		if (d->counts[i] < 0)
			return DERIVE_CORRUPT;	/* more taken out than was in */
		*total += d->counts[i];
	}
	return 0;
}

/* Reads the row of key k into row (zero when there is none). */
static int
get_row(struct derive *d, const struct derive_tx *tx, const struct rollup_key *k,
    struct derive_rollup *row, bool *have)
{
	int rc;

	memset(row, 0, sizeof *row);
	row->hist = d->blob;
	*have = false;
	rc = tx->ops->rollup_get(tx->ctx, k, row, have);
	if (rc == 0 && !*have) {
		memset(row, 0, sizeof *row);
		row->hist = d->blob;
	}
	return rc;
}

/* Stores row v with the histogram merge_hist() left in d->counts. */
static int
put_merged(struct derive *d, const struct derive_tx *tx, const struct rollup_key *k,
    struct derive_rollup *v)
{
	v->hist = d->blob;
	v->hist_len = hist_encode(d->counts, d->blob);
	return tx->ops->rollup_put(tx->ctx, k, v);
}

static int
flush_transit(struct derive *d, const struct derive_tx *tx, const struct rollup_delta *dl)
{
	struct derive_rollup v;
	int64_t total;
	bool have;
	int rc;

	if ((rc = get_row(d, tx, &dl->key, &v, &have)) != 0)
		return rc;
	if ((rc = merge_hist(d, have, &v, dl->hist, &total)) != 0)
		return rc;
	v.n += dl->n;
	if (v.n != total)
		return DERIVE_CORRUPT;
	if (v.n == 0)
		return tx->ops->rollup_delete(tx->ctx, &dl->key);
	v.sum_ms += dl->sum_ms;
	if (dl->removed) {
		/* min and max are not subtractable: recounted from the traversals */
		if ((rc = tx->ops->recount_minmax(tx->ctx, &dl->key, &v.min_ms, &v.max_ms)) != 0)
			return rc;
	} else {
		if (!have || dl->add_min < v.min_ms)
			v.min_ms = dl->add_min;
		if (!have || dl->add_max > v.max_ms)
			v.max_ms = dl->add_max;
	}
	v.on_time += dl->on_time;
	v.planned += dl->planned;
	v.on_plan += dl->on_plan;
	v.eta_n += dl->eta_n;
	v.eta_err_ms += dl->eta_err_ms;
	v.teu += dl->teu;
	v.containers += dl->containers;
	v.gross_kg += dl->gross_kg;
	return put_merged(d, tx, &dl->key, &v);
}

/* A volume change that is none: a traversal that changed but kept its
 * entry hour and cargo. Its row is not read. */
static bool
volume_unchanged(const struct rollup_delta *dl)
{
	return dl->n == 0 && dl->teu == 0 && dl->containers == 0 && dl->gross_kg == 0;
}

static int
flush_volume(struct derive *d, const struct derive_tx *tx, const struct rollup_delta *dl)
{
	struct derive_rollup v;
	bool have;
	int rc;

	if (volume_unchanged(dl))
		return 0;
	if ((rc = get_row(d, tx, &dl->key, &v, &have)) != 0)
		return rc;
	v.n += dl->n;
	v.teu += dl->teu;
	v.containers += dl->containers;
	v.gross_kg += dl->gross_kg;
	v.hist = NULL;
	v.hist_len = 0;
	/* a row is gone with its last unit */
	if (dl->n < 0 && v.n == 0)
		return tx->ops->rollup_delete(tx->ctx, &dl->key);
	return tx->ops->rollup_put(tx->ctx, &dl->key, &v);
}

static int
flush_quality(struct derive *d, const struct derive_tx *tx, const struct rollup_delta *dl)
{
	struct derive_rollup v;
	int64_t total;
	bool have;
	int rc;

	if ((rc = get_row(d, tx, &dl->key, &v, &have)) != 0)
		return rc;
	if ((rc = merge_hist(d, have, &v, dl->hist, &total)) != 0)
		return rc;
	v.n += dl->n;
	v.lag_sum_ms += dl->lag_sum_ms;
	if (dl->lag_max_ms > v.lag_max_ms)
		v.lag_max_ms = dl->lag_max_ms;
	v.duplicates += dl->duplicates;
	v.retractions += dl->retractions;
	v.out_of_order += dl->out_of_order;
	v.lag_n += dl->lag_n;
	v.pln_est += dl->pln_est;
	return put_merged(d, tx, &dl->key, &v);
}

static int
conv_cmp(const void *x, const void *y)
{
	const struct conveyance_key *a = x, *b = y;

	if (a->kind != b->kind)
		return a->kind - b->kind;
	if (a->direction != b->direction)
		return a->direction - b->direction;
	return strcmp(a->ident, b->ident);
}

/* Recounts one train or vessel call from the traversals that name it. */
static int
flush_conveyance(const struct derive_tx *tx, const struct conveyance_key *c)
{
	struct derive_conveyance v = { 0 };
	int rc;

	if ((rc = tx->ops->count_conveyance(tx->ctx, c, &v)) != 0)
		return rc;
	if (v.units > 0)
		return tx->ops->put_conveyance(tx->ctx, c, &v);
	return tx->ops->delete_conveyance(tx->ctx, c);
}

/* Tells the backend's read_ahead every row the flush will read: the
 * rollup keys flush_transit, _volume and _quality get, and the conveyances
 * (b->conv sorted) that flush_conveyance counts, each once. */
static int
read_ahead(struct derive *d, const struct derive_tx *tx)
{
	struct rollup_batch *b = &d->rollups;
	size_t n = 0, nconv = 0;

	if (b->count > d->ahead_cap) {
		struct rollup_key *k = realloc(d->ahead, b->count * sizeof *k);

		if (k == NULL)
			return DERIVE_NOMEM;
		d->ahead = k;
		d->ahead_cap = b->count;
	}
	if (b->nconv > d->ahead_conv_cap) {
		struct conveyance_key *c = realloc(d->ahead_conv, b->nconv * sizeof *c);

		if (c == NULL)
			return DERIVE_NOMEM;
		d->ahead_conv = c;
		d->ahead_conv_cap = b->nconv;
	}
	for (size_t i = 0; i < b->count; i++)
		if (b->d[i].key.table != RT_VOLUME || !volume_unchanged(&b->d[i]))
			d->ahead[n++] = b->d[i].key;
	for (size_t i = 0; i < b->nconv; i++)
		if (i == 0 || conv_cmp(&b->conv[i - 1], &b->conv[i]) != 0)
			d->ahead_conv[nconv++] = b->conv[i];
	if (n == 0 && nconv == 0)
		return 0;
	return tx->ops->read_ahead(tx->ctx, d->ahead, n, d->ahead_conv, nconv);
}

int
derive_flush(struct derive *d, const struct derive_tx *tx)
{
	struct rollup_batch *b = &d->rollups;
	int rc = 0;

	if (b->nconv > 0)
		qsort(b->conv, b->nconv, sizeof b->conv[0], conv_cmp);
	if (tx->ops->read_ahead != NULL)
		rc = read_ahead(d, tx);
	for (size_t i = 0; i < b->count && rc == 0; i++) {
		const struct rollup_delta *dl = &b->d[i];

		switch (dl->key.table) {
		case RT_TRANSIT:
			rc = flush_transit(d, tx, dl);
			break;
		case RT_VOLUME:
			rc = flush_volume(d, tx, dl);
			break;
		case RT_QUALITY:
			rc = flush_quality(d, tx, dl);
			break;
		}
	}
	if (rc == 0 && b->nconv > 0) {
		for (size_t i = 0; i < b->nconv && rc == 0; i++)
			if (i == 0 || conv_cmp(&b->conv[i - 1], &b->conv[i]) != 0)
				rc = flush_conveyance(tx, &b->conv[i]);
	}
	rollup_batch_reset(b);
	return rc;
}

/* ------------------------------------------------------------ re-derivation */

struct again {
	struct derive *d;
	const struct derive_tx *tx;
	struct unit_set units;
	int64_t *nunits, *nevents;
};

/* Re-pairs the units gathered so far from nothing and flushes. */
static int
again_chunk(struct again *a)
{
	int rc = derive_repair(a->d, a->tx, &a->units);

	if (rc == 0)
		rc = derive_flush(a->d, a->tx);
	unit_set_free(&a->units);
	return rc;
}

static int
again_unit(void *arg, const char *unit, const char *direction)
{
	struct again *a = arg;

	/* its stored pairing is empty (cleared): pair from nothing */
	if (unit_set_add(&a->units, unit, direction, true, false) == -1)
		return DERIVE_NOMEM;
	if (++*a->nunits % REDERIVE_PROGRESS_UNITS == 0)
		log_info("leg=%s deriving traversals and rollups again units=%lld so far",
		    a->d->code, (long long)*a->nunits);
	if (a->units.count == REDERIVE_CHUNK_UNITS)
		return again_chunk(a);
	return 0;
}

static int
again_event(void *arg, const struct derive_event *e)
{
	struct again *a = arg;

	if (note_stored(&a->d->rollups, e->carrier, e->record_ms, e->time_ms, e->classifier,
	    e->retracts) != 0)
		return DERIVE_NOMEM;
	if (++*a->nevents % REDERIVE_CHUNK_EVENTS == 0)
		return derive_flush(a->d, a->tx);
	return 0;
}

int
derive_again(struct derive *d, const struct derive_tx *tx, int64_t typical_ms,
    int64_t *nunits, int64_t *nevents)
{
	/* every event counts as new: nothing is paired yet */
	struct derive_tx all = { tx->ops, tx->ctx, 0 };
	struct again a = { d, &all, { 0 }, nunits, nevents };
	int rc;

	d->rollups.typical_ms = typical_ms;
	*nunits = *nevents = 0;
	rc = tx->ops->clear(tx->ctx);
	if (rc == 0)
		rc = tx->ops->each_unit(tx->ctx, again_unit, &a);
	if (rc == 0 && a.units.count > 0)
		rc = again_chunk(&a);
	unit_set_free(&a.units);
	if (rc == 0)
		rc = tx->ops->each_event(tx->ctx, again_event, &a);
	if (rc == 0)
		rc = derive_flush(d, &all);
	return rc;
}
