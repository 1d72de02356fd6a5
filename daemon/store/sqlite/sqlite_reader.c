/*
 * The SQLite backend's reader handle: one query thread's read-only
 * connections, each leg's file opened on first use; see store_reader.h.
 */
#include <stdlib.h>

#include "sqlite_store.h"

struct sqlite_reader {
	const struct sqlite_store *store;
	sqlite3 *legs[LEGS_MAX];
	sqlite3 *catalog;
};

static void *
reader_open(void *store, struct store_error *err)
{
	struct sqlite_reader *r = calloc(1, sizeof *r);

	if (r == NULL) {
		store_error_set(err, STORE_RETRYABLE, "out of memory");
		return NULL;
	}
	r->store = store;
	return r;
}

static void
reader_close(void *arg)
{
	struct sqlite_reader *r = arg;

	if (r == NULL)
		return;
	for (size_t i = 0; i < LEGS_MAX; i++)
		sqlite3_close(r->legs[i]);
	sqlite3_close(r->catalog);
	free(r);
}

const struct store_reader_ops sqlite_reader_ops = {
	.open = reader_open,
	.close = reader_close,
};
