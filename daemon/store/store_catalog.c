/* The catalog handle over the configured backend; see store_catalog.h. */
#include <stdlib.h>

#include "store_backend.h"

struct store_catalog {
	const struct store_catalog_ops *ops;
	void *impl;
};

struct store_catalog *
store_catalog_open(struct store *st, struct store_error *err)
{
	struct store_catalog *cat = calloc(1, sizeof *cat);

	if (cat == NULL) {
		store_error_set(err, STORE_RETRYABLE, "out of memory");
		return NULL;
	}
	cat->ops = store_backend_of(st)->catalog;
	if ((cat->impl = cat->ops->open(store_impl(st), err)) == NULL) {
		free(cat);
		return NULL;
	}
	return cat;
}

void
store_catalog_close(struct store_catalog *cat)
{
	if (cat == NULL)
		return;
	cat->ops->close(cat->impl);
	free(cat);
}

int
store_catalog_sync(struct store_catalog *cat, const struct leg_table *legs,
    struct carrier_table *ct, struct store_error *err)
{
	return cat->ops->sync(cat->impl, legs, ct, err);
}

int
store_catalog_save_marks(struct store_catalog *cat, const struct store_mark *marks, size_t n,
    struct store_error *err)
{
	return cat->ops->save_marks(cat->impl, marks, n, err);
}

int
store_catalog_save_rejections(struct store_catalog *cat, const struct store_rejection *r,
    size_t n, struct store_error *err)
{
	return cat->ops->save_rejections(cat->impl, r, n, err);
}

int
store_catalog_each_rejection(struct store_catalog *cat, const char *carrier, uint64_t after,
    store_seq_fn fn, void *arg, struct store_error *err)
{
	return cat->ops->each_rejection(cat->impl, carrier, after, fn, arg, err);
}

int
store_catalog_each_stored_seq(struct store_catalog *cat, const struct leg *leg,
    const char *carrier, uint64_t after, uint64_t upto, store_seq_fn fn, void *arg,
    struct store_error *err)
{
	return cat->ops->each_stored_seq(cat->impl, leg, carrier, after, upto, fn, arg, err);
}
