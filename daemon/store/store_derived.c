/* Reading a leg's derived rows whole; see store_derived.h. */
#include "store_derived.h"

#include "store_backend.h"
#include "store_error.h"

int
store_derived_read(struct store *st, const struct leg *leg, const struct store_derived_fns *fns,
    void *arg, struct store_error *err)
{
	const struct store_derived_ops *ops = store_backend_of(st)->derived;

	if (ops == NULL) {
		store_error_set(err, STORE_UNSUPPORTED, "the %s store cannot read derived rows",
		    store_backend_of(st)->name);
		return -1;
	}
	return ops->read(store_impl(st), leg, fns, arg, err);
}
