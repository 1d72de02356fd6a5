/* The writer handle over the configured backend; see store_writer.h. */
#include <stdlib.h>

#include "store_backend.h"

struct store_writer {
	const struct store_writer_ops *ops;
	void *impl;
};

int
store_leg_prepare(struct store *st, const struct leg *leg, struct store_error *err)
{
	return store_backend_of(st)->writer->leg_prepare(store_impl(st), leg, err);
}

void
store_leg_where(struct store *st, const struct leg *leg, char *buf, size_t len)
{
	store_backend_of(st)->writer->leg_where(store_impl(st), leg, buf, len);
}

struct store_writer *
store_writer_open(struct store *st, struct store_error *err)
{
	struct store_writer *w = calloc(1, sizeof *w);

	if (w == NULL) {
		store_error_set(err, STORE_RETRYABLE, "out of memory");
		return NULL;
	}
	w->ops = store_backend_of(st)->writer;
	if ((w->impl = w->ops->open(store_impl(st), err)) == NULL) {
		free(w);
		return NULL;
	}
	return w;
}

void
store_writer_close(struct store_writer *w)
{
	if (w == NULL)
		return;
	w->ops->close(w->impl);
	free(w);
}

int
store_writer_add_leg(struct store_writer *w, size_t index, const struct leg *leg,
    int64_t cache_mib, struct store_error *err)
{
	return w->ops->add_leg(w->impl, index, leg, cache_mib, err);
}

int
store_writer_append(struct store_writer *w, size_t index, struct update_rec **recs, size_t n,
    struct store_error *err)
{
	return w->ops->append(w->impl, index, recs, n, err);
}

int
store_writer_retain_step(struct store_writer *w, size_t index, int64_t cutoff_ms,
    size_t max_units, size_t *units_dropped, int64_t *events_dropped, bool *more,
    struct store_error *err)
{
	return w->ops->retain_step(w->impl, index, cutoff_ms, max_units, units_dropped,
	    events_dropped, more, err);
}
