/* The reader handle over the configured backend; see store_reader.h. */
#include <stdlib.h>

#include "store_backend.h"

struct store_reader {
	const struct store_reader_ops *ops;
	void *impl;
};

struct store_reader *
store_reader_open(struct store *st, struct store_error *err)
{
	struct store_reader *r = calloc(1, sizeof *r);

	if (r == NULL) {
		store_error_set(err, STORE_RETRYABLE, "out of memory");
		return NULL;
	}
	r->ops = store_backend_of(st)->reader;
	if ((r->impl = r->ops->open(store_impl(st), err)) == NULL) {
		free(r);
		return NULL;
	}
	return r;
}

void
store_reader_close(struct store_reader *r)
{
	if (r == NULL)
		return;
	r->ops->close(r->impl);
	free(r);
}
