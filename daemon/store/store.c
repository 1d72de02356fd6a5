/* The opened backend; see store.h. */
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_backend.h"

static const struct store_backend *const backends[] = { &store_sqlite_backend };

struct store {
	const struct store_backend *be;
	void *impl;
};

static const struct store_backend *
find_backend(const char *name)
{
	for (size_t i = 0; i < sizeof backends / sizeof backends[0]; i++)
		if (strcmp(backends[i]->name, name) == 0)
			return backends[i];
	return NULL;
}

bool
store_backend_known(const char *name)
{
	return find_backend(name) != NULL;
}

struct store *
store_open(const struct config *cfg, struct store_error *err)
{
	const struct store_backend *be = find_backend(cfg->store_backend);
	struct store *st;

	if (be == NULL) {
		store_error_set(err, STORE_UNSUPPORTED, "no storage backend named \"%s\"",
		    cfg->store_backend);
		return NULL;
	}
	if ((st = calloc(1, sizeof *st)) == NULL) {
		store_error_set(err, STORE_RETRYABLE, "out of memory");
		return NULL;
	}
	st->be = be;
	if ((st->impl = be->open(cfg, err)) == NULL) {
		free(st);
		return NULL;
	}
	return st;
}

void
store_close(struct store *st)
{
	if (st == NULL)
		return;
	st->be->close(st->impl);
	free(st);
}

const char *
store_backend_name(const struct store *st)
{
	return st->be->name;
}

const char *
store_backend_version(const struct store *st)
{
	return st->be->version();
}

const struct store_backend *
store_backend_of(const struct store *st)
{
	return st->be;
}

void *
store_impl(const struct store *st)
{
	return st->impl;
}
