/* Rollup changes of one leg transaction; see rollup_batch.h. */
#include "rollup_batch.h"

#include <stdlib.h>
#include <string.h>

#include "histogram.h"

int64_t
rollup_hour(int64_t ms)
{
	int64_t h = ms / MS_PER_HOUR_I;

	if (ms < 0 && ms % MS_PER_HOUR_I != 0)
		h--;
	return h * MS_PER_HOUR_I;
}

void
rollup_batch_init(struct rollup_batch *b, int64_t typical_ms)
{
	memset(b, 0, sizeof *b);
	b->typical_ms = typical_ms;
}

void
rollup_batch_reset(struct rollup_batch *b)
{
	for (size_t i = 0; i < b->count; i++)
		free(b->d[i].hist);
	b->count = 0;
	for (size_t i = 0; i < b->nslots; i++)
		b->slot[i] = -1;
	for (size_t i = 0; i < b->nconv; i++)
		free(b->conv[i].ident);
	b->nconv = 0;
}

void
rollup_batch_free(struct rollup_batch *b)
{
	rollup_batch_reset(b);
	free(b->d);
	free(b->slot);
	free(b->conv);
	memset(b, 0, sizeof *b);
}

static uint64_t
key_hash(const struct rollup_key *k)
{
	uint64_t h = 1469598103934665603ULL;

	h = (h ^ (uint64_t)k->table) * 1099511628211ULL;
	h = (h ^ (uint64_t)k->hour_ms) * 1099511628211ULL;
	h = (h ^ (uint64_t)(unsigned char)k->direction) * 1099511628211ULL;
	for (const char *p = k->carrier; *p; p++)
		h = (h ^ (uint64_t)(unsigned char)*p) * 1099511628211ULL;
	return h;
}

static bool
key_equal(const struct rollup_key *a, const struct rollup_key *b)
{
	return a->table == b->table && a->hour_ms == b->hour_ms &&
	    a->direction == b->direction && strcmp(a->carrier, b->carrier) == 0;
}

/* Rebuilds the index with room for twice the deltas. */
static int
grow_index(struct rollup_batch *b)
{
	size_t nslots = b->nslots ? b->nslots * 2 : 256;
	int32_t *slot = malloc(nslots * sizeof *slot);

	if (slot == NULL)
		return -1;
	for (size_t i = 0; i < nslots; i++)
		slot[i] = -1;
	for (size_t i = 0; i < b->count; i++) {
		size_t s = key_hash(&b->d[i].key) & (nslots - 1);

		while (slot[s] != -1)
			s = (s + 1) & (nslots - 1);
		slot[s] = (int32_t)i;
	}
	free(b->slot);
	b->slot = slot;
	b->nslots = nslots;
	return 0;
}

static struct rollup_delta *
delta_for(struct rollup_batch *b, enum rollup_table table, int64_t hour, char direction,
    const char *carrier)
{
	struct rollup_key k = { .table = table, .hour_ms = hour, .direction = direction };
	struct rollup_delta *d;
	size_t s;

	strncpy(k.carrier, carrier != NULL ? carrier : "", sizeof k.carrier - 1);
	if (2 * (b->count + 1) > b->nslots && grow_index(b) == -1)
		return NULL;
	for (s = key_hash(&k) & (b->nslots - 1); b->slot[s] != -1; s = (s + 1) & (b->nslots - 1))
		if (key_equal(&b->d[b->slot[s]].key, &k))
			return &b->d[b->slot[s]];
	if (b->count == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 64;
		struct rollup_delta *grown = realloc(b->d, cap * sizeof *grown);

		if (grown == NULL)
			return NULL;
		b->d = grown;
		b->cap = cap;
	}
	d = &b->d[b->count];
	memset(d, 0, sizeof *d);
	d->key = k;
	d->add_min = INT64_MAX;
	d->add_max = INT64_MIN;
	b->slot[s] = (int32_t)b->count++;
	return d;
}

static int
hist_delta(struct rollup_delta *d, int64_t ms, int sign)
{
	if (d->hist == NULL && (d->hist = calloc(HIST_BUCKETS, sizeof *d->hist)) == NULL)
		return -1;
	d->hist[hist_bucket(ms)] += sign;
	return 0;
}

static int
note_conveyance(struct rollup_batch *b, char kind, char direction, const char *ident)
{
	if (ident == NULL || ident[0] == '\0')
		return 0;
	if (b->nconv == b->capconv) {
		size_t cap = b->capconv ? b->capconv * 2 : 32;
		struct conveyance_key *grown = realloc(b->conv, cap * sizeof *grown);

		if (grown == NULL)
			return -1;
		b->conv = grown;
		b->capconv = cap;
	}
	if ((b->conv[b->nconv].ident = strdup(ident)) == NULL)
		return -1;
	b->conv[b->nconv].kind = kind;
	b->conv[b->nconv].direction = direction;
	b->nconv++;
	return 0;
}

int
rollup_batch_traversal(struct rollup_batch *b, const struct traversal *t, char direction,
    int sign)
{
	struct rollup_delta *v = delta_for(b, RT_VOLUME, rollup_hour(t->enter_ms), direction,
	    t->carrier);

	if (v == NULL)
		return -1;
	v->n += sign;
	v->teu += sign * (int64_t)t->teu;
	v->containers += sign * (int64_t)t->containers;
	v->gross_kg += sign * (int64_t)t->gross_kg;
	if (note_conveyance(b, 'T', direction, t->train) == -1 ||
	    note_conveyance(b, 'V', direction, t->vessel) == -1)
		return -1;
	if (t->exit_ms >= 0) {
		struct rollup_delta *d = delta_for(b, RT_TRANSIT, rollup_hour(t->exit_ms),
		    direction, t->carrier);
		int64_t dur = t->exit_ms - t->enter_ms;

		if (d == NULL || hist_delta(d, dur, sign) == -1)
			return -1;
		d->n += sign;
		d->sum_ms += sign * dur;
		d->teu += sign * (int64_t)t->teu;
		d->containers += sign * (int64_t)t->containers;
		d->gross_kg += sign * (int64_t)t->gross_kg;
		d->on_time += sign * (dur <= b->typical_ms);
		if (t->plan_ms >= 0) {
			d->planned += sign;
			d->on_plan += sign * (t->exit_ms <= t->plan_ms);
		}
		d->eta_n += sign * (int64_t)t->eta_n;
		d->eta_err_ms += sign * t->eta_err_ms;
		if (sign > 0) {
			if (dur < d->add_min)
				d->add_min = dur;
			if (dur > d->add_max)
				d->add_max = dur;
		} else
			d->removed = true;
	}
	return 0;
}

int
rollup_batch_quality(struct rollup_batch *b, const char *carrier, int64_t record_ms,
    int64_t event_ms, enum quality_event what)
{
	struct rollup_delta *d = delta_for(b, RT_QUALITY, rollup_hour(record_ms), 0, carrier);
	int64_t lag = record_ms - event_ms;

	if (d == NULL)
		return -1;
	switch (what) {
	case QE_STORED_PLAN:
		d->n++;
		d->pln_est++;
		break;
	case QE_STORED:
		if (lag < 0)
			lag = 0;	/* an event a little in the future (clock skew) */
		d->n++;
		d->lag_n++;
		d->lag_sum_ms += lag;
		if (lag > d->lag_max_ms)
			d->lag_max_ms = lag;
		return hist_delta(d, lag, 1);
	case QE_DUPLICATE:
		d->duplicates++;
		break;
	case QE_RETRACTION:
		d->retractions++;
		break;
	case QE_OUT_OF_ORDER:
		d->out_of_order++;
		break;
	}
	return 0;
}
