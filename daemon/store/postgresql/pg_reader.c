/* BRANCH pg ONLY: replaced by the reader helper before merging to main. */
#include "pg_store.h"

static void *
r_open(void *store, struct store_error *err)
{
	(void)store;
	store_error_set(err, STORE_UNSUPPORTED, "postgresql reader not written yet");
	return NULL;
}

static void
r_close(void *r)
{
	(void)r;
}

const struct store_reader_ops pg_reader_ops = { .open = r_open, .close = r_close };
