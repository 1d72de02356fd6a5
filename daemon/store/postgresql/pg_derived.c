/* BRANCH pg ONLY: replaced by the writer helper before merging to main. */
#include "pg_store.h"
#include "store_derived.h"

static int
d_read(void *store, const struct leg *leg, const struct store_derived_fns *fns, void *arg,
    struct store_error *err)
{
	(void)store;
	(void)fns;
	(void)arg;
	store_error_set(err, STORE_UNSUPPORTED, "leg %s: not written yet", leg->code);
	return -1;
}

const struct store_derived_ops pg_derived_ops = { .read = d_read };
