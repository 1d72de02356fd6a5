/* The SQLite backend: its state, disk layout and errors; see sqlite_store.h. */
#include "sqlite_store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "db.h"

static int
make_dir(const char *path, struct store_error *err)
{
	if (mkdir(path, 0750) == -1 && errno != EEXIST) {
		store_error_set(err, STORE_RETRYABLE, "cannot create %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

static void *
sqlite_open(const struct config *cfg, struct store_error *err)
{
	struct sqlite_store *s = calloc(1, sizeof *s);

	if (s == NULL) {
		store_error_set(err, STORE_RETRYABLE, "out of memory");
		return NULL;
	}
	snprintf(s->state_dir, sizeof s->state_dir, "%s", cfg->state_dir);
	snprintf(s->legs_dir, sizeof s->legs_dir, "%s/legs", cfg->state_dir);
	snprintf(s->catalog_path, sizeof s->catalog_path, "%s/corridor.db", cfg->state_dir);
	s->sync = cfg->sync;
	if (db_global_init() != 0) {
		store_error_set(err, STORE_UNSUPPORTED, "SQLite cannot be set up for threads");
		free(s);
		return NULL;
	}
	if (make_dir(s->state_dir, err) == -1 || make_dir(s->legs_dir, err) == -1) {
		free(s);
		return NULL;
	}
	return s;
}

static void
sqlite_close(void *store)
{
	free(store);
}

static const char *
sqlite_version(void)
{
	return sqlite3_libversion();
}

const struct store_backend store_sqlite_backend = {
	.name = "sqlite",
	.open = sqlite_open,
	.close = sqlite_close,
	.version = sqlite_version,
	.catalog = &sqlite_catalog_ops,
	.writer = &sqlite_writer_ops,
	.reader = &sqlite_reader_ops,
	.derived = &sqlite_derived_ops,
};

int
sqlite_leg_path(const struct sqlite_store *s, const char *code, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/%s.db", s->legs_dir, code);

	return n < 0 || (size_t)n >= len ? -1 : 0;
}

enum store_error_kind
sqlite_error_kind(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_ROW:
	case SQLITE_DONE:
		return STORE_OK;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
	case SQLITE_FORMAT:
		return STORE_CORRUPT;
	default:
		/* busy, locked, out of memory or disk, I/O: the transaction
		 * failed and nothing of it was kept */
		return STORE_RETRYABLE;
	}
}

void
sqlite_error(struct store_error *err, sqlite3 *db, int rc, const char *what)
{
	const char *msg = db != NULL ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
	enum store_error_kind kind = sqlite_error_kind(rc);

	if (err == NULL)
		return;
	store_error_set(err, kind == STORE_OK ? STORE_RETRYABLE : kind, "%s: %s", what, msg);
}

void
sqlite_error_text(struct store_error *err, int rc, const char *text)
{
	enum store_error_kind kind = sqlite_error_kind(rc);

	store_error_set(err, kind == STORE_OK ? STORE_RETRYABLE : kind, "%s", text);
}
