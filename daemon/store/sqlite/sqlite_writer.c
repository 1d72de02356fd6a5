/*
 * The SQLite backend's writer handle: the leg files one writer thread owns,
 * by leg index; see store_writer.h. Each leg's writes are in leg_store.c.
 */
#include <stdio.h>
#include <stdlib.h>

#include "leg_store.h"
#include "sqlite_store.h"

struct sqlite_writer {
	const struct sqlite_store *store;
	struct leg_store *legs[LEGS_MAX];
};

static int
writer_leg_prepare(void *store, const struct leg *leg, struct store_error *err)
{
	const struct sqlite_store *s = store;
	struct leg_store *ls;
	char msg[512];

	if ((ls = leg_store_open(s->legs_dir, leg, s->sync, msg, sizeof msg)) == NULL) {
		sqlite_error_text(err, SQLITE_CANTOPEN, msg);
		return -1;
	}
	leg_store_close(ls);
	return 0;
}

static void
writer_leg_where(void *store, const struct leg *leg, char *buf, size_t len)
{
	if (sqlite_leg_path(store, leg->code, buf, len) == -1)
		snprintf(buf, len, "%s.db", leg->code);
}

static void *
writer_open(void *store, struct store_error *err)
{
	struct sqlite_writer *w = calloc(1, sizeof *w);

	if (w == NULL) {
		store_error_set(err, STORE_RETRYABLE, "out of memory");
		return NULL;
	}
	w->store = store;
	return w;
}

static void
writer_close(void *arg)
{
	struct sqlite_writer *w = arg;

	if (w == NULL)
		return;
	for (size_t i = 0; i < LEGS_MAX; i++)
		leg_store_close(w->legs[i]);
	free(w);
}

static int
writer_add_leg(void *arg, size_t index, const struct leg *leg, int64_t cache_mib,
    struct store_error *err)
{
	struct sqlite_writer *w = arg;
	char msg[512];

	if (index >= LEGS_MAX || w->legs[index] != NULL) {
		store_error_set(err, STORE_UNSUPPORTED, "leg %s: index %zu taken", leg->code, index);
		return -1;
	}
	w->legs[index] = leg_store_open(w->store->legs_dir, leg, w->store->sync, msg, sizeof msg);
	if (w->legs[index] == NULL) {
		sqlite_error_text(err, SQLITE_CANTOPEN, msg);
		return -1;
	}
	leg_store_set_cache(w->legs[index], cache_mib);
	return 0;
}

static struct leg_store *
leg_of(struct sqlite_writer *w, size_t index, struct store_error *err)
{
	if (index >= LEGS_MAX || w->legs[index] == NULL) {
		store_error_set(err, STORE_UNSUPPORTED, "no leg %zu in this writer", index);
		return NULL;
	}
	return w->legs[index];
}

static int
writer_append(void *arg, size_t index, struct update_rec **recs, size_t n,
    struct store_error *err)
{
	struct leg_store *ls = leg_of(arg, index, err);

	if (ls == NULL) {
		/* the leg could not be taken (writer_add_leg failed): its
		 * updates fail as a failed transaction's would */
		for (size_t k = 0; k < n; k++)
			recs[k]->result = REC_FAILED;
		return -1;
	}
	return leg_store_append(ls, recs, n, err);
}

static int
writer_retain_step(void *arg, size_t index, int64_t cutoff_ms, size_t max_units,
    size_t *units_dropped, int64_t *events_dropped, bool *more, struct store_error *err)
{
	struct leg_store *ls = leg_of(arg, index, err);

	if (ls == NULL)
		return -1;
	return leg_store_retain(ls, cutoff_ms, max_units, units_dropped, events_dropped, more,
	    err);
}

const struct store_writer_ops sqlite_writer_ops = {
	.leg_prepare = writer_leg_prepare,
	.leg_where = writer_leg_where,
	.open = writer_open,
	.close = writer_close,
	.add_leg = writer_add_leg,
	.append = writer_append,
	.retain_step = writer_retain_step,
};
