/* BRANCH pg ONLY: replaced by the writer helper before merging to main. */
#include "pg_store.h"

static int
w_prepare(void *store, const struct leg *leg, struct store_error *err)
{
	(void)store;
	store_error_set(err, STORE_UNSUPPORTED, "leg %s: postgresql writer not written yet",
	    leg->code);
	return -1;
}

static void
w_where(void *store, const struct leg *leg, char *buf, size_t len)
{
	(void)store;
	snprintf(buf, len, "events_%s", leg->code);
}

static void *
w_open(void *store, struct store_error *err)
{
	(void)store;
	store_error_set(err, STORE_UNSUPPORTED, "postgresql writer not written yet");
	return NULL;
}

static void
w_close(void *w)
{
	(void)w;
}

const struct store_writer_ops pg_writer_ops = {
	.leg_prepare = w_prepare, .leg_where = w_where, .open = w_open, .close = w_close,
};
