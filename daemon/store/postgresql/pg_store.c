/* The PostgreSQL backend: its state, connections and leg locks; see pg_store.h. */
#include "pg_store.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>

/* The file of a systemd credential named pgpass (LoadCredential=pgpass:...),
 * used as libpq's passfile when neither the conninfo nor PGPASSFILE names
 * one: the unit can hand corridord the password without it being in a
 * command line, the environment or the configuration. */
#define PG_STORE_CREDENTIAL "pgpass"

/* A conninfo is refused when it holds a password: it would be in the
 * configuration file or, as a flag, in every process listing. */
static int
check_conninfo(const char *what, const char *conninfo, struct store_error *err)
{
	PQconninfoOption *opts;
	char *msg = NULL;
	int rc = 0;

	if ((opts = PQconninfoParse(conninfo, &msg)) == NULL) {
		store_error_set(err, msg != NULL ? STORE_UNSUPPORTED : STORE_RETRYABLE,
		    "[postgresql] %s: %.*s", what, msg != NULL ? (int)strcspn(msg, "\n") : 13,
		    msg != NULL ? msg : "out of memory");
		PQfreemem(msg);
		return -1;
	}
	for (PQconninfoOption *o = opts; o->keyword != NULL; o++)
		if (strcmp(o->keyword, "password") == 0 && o->val != NULL && o->val[0] != '\0') {
			store_error_set(err, STORE_UNSUPPORTED, "[postgresql] %s holds a password;"
			    " put it in a passfile (passfile=, PGPASSFILE, ~/.pgpass), a service file"
			    " (service=) or the systemd credential " PG_STORE_CREDENTIAL, what);
			rc = -1;
		}
	PQconninfoFree(opts);
	return rc;
}

/* $CREDENTIALS_DIRECTORY/pgpass as libpq's passfile, unless one is named. */
static void
use_credential(void)
{
	const char *dir = getenv("CREDENTIALS_DIRECTORY");
	char path[PATH_MAX];

	if (dir == NULL || getenv("PGPASSFILE") != NULL)
		return;
	if (snprintf(path, sizeof path, "%s/%s", dir, PG_STORE_CREDENTIAL) >= (int)sizeof path ||
	    access(path, R_OK) != 0)
		return;
	/* start-up, before any thread that could read the environment */
	setenv("PGPASSFILE", path, 0);
}

static void *
pg_open(const struct config *cfg, struct store_error *err)
{
	struct pg_store *s;

	if (check_conninfo("conninfo", cfg->pg_conninfo, err) == -1 ||
	    check_conninfo("reader_conninfo", cfg->pg_reader_conninfo, err) == -1)
		return NULL;
	if ((s = calloc(1, sizeof *s)) == NULL) {
		store_error_set(err, STORE_RETRYABLE, "out of memory");
		return NULL;
	}
	snprintf(s->conninfo, sizeof s->conninfo, "%s", cfg->pg_conninfo);
	snprintf(s->reader_conninfo, sizeof s->reader_conninfo, "%s",
	    cfg->pg_reader_conninfo[0] != '\0' ? cfg->pg_reader_conninfo : cfg->pg_conninfo);
	/* normal: an ack survives a crash of corridord, not of the server */
	s->session_sql = cfg->sync == STORE_SYNC_NORMAL ? "SET synchronous_commit = off" : NULL;
	s->analyze_until_rows = cfg->limits.pg_analyze_until_rows;
	use_credential();
	return s;
}

static void
pg_close(void *store)
{
	free(store);
}

static const char *
pg_version(void)
{
	static char buf[32];
	int v = PQlibVersion();

	/* written once with the same text by any thread that asks */
	snprintf(buf, sizeof buf, "libpq %d.%d", v / 10000, v % 10000);
	return buf;
}

struct pg_db *
pg_store_db(const struct pg_store *s, bool reader, struct store_error *err)
{
	return pg_db_new(reader ? s->reader_conninfo : s->conninfo, err);
}

int
pg_store_ensure(const struct pg_store *s, struct pg_db *db, struct store_error *err)
{
	bool fresh = pg_db_conn(db) == NULL || PQstatus(pg_db_conn(db)) != CONNECTION_OK;

	if (pg_db_ensure(db, err) == -1)
		return -1;
	if (fresh && s->session_sql != NULL && pg_db_exec(db, s->session_sql, err) == -1)
		return -1;
	return 0;
}

PGresult *
pg_store_exec(struct pg_db *db, const char *what, const char *sql, int nparams,
    const char *const *params, ExecStatusType want, struct store_error *err)
{
	PGconn *conn = pg_db_conn(db);
	PGresult *res;

	if (conn == NULL) {
		store_error_set(err, STORE_RETRYABLE, "%s: not connected to postgresql", what);
		return NULL;
	}
	res = PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL, 0);
	if (pg_db_check(db, res, want, what, err) == -1) {
		PQclear(res);
		return NULL;
	}
	return res;
}

int
pg_store_commit(struct pg_db *db, const char *what, struct store_error *err)
{
	PGresult *res = pg_store_exec(db, what, "COMMIT", 0, NULL, PGRES_COMMAND_OK, err);

	PQclear(res);
	return res != NULL ? 0 : -1;
}

void
pg_store_rollback(struct pg_db *db)
{
	struct store_error ignored;

	if (pg_db_conn(db) != NULL)
		PQclear(pg_store_exec(db, "rolling back", "ROLLBACK", 0, NULL, PGRES_COMMAND_OK,
		    &ignored));
}

int64_t
pg_store_int(const PGresult *res, int row, int col)
{
	return strtoll(PQgetvalue(res, row, col), NULL, 10);
}

int32_t
pg_store_leg_key(const char *code)
{
	uint32_t h = 2166136261u;	/* FNV-1a */

	for (const unsigned char *c = (const unsigned char *)code; *c != '\0'; c++) {
		h ^= *c;
		h *= 16777619u;
	}
	return (int32_t)h;
}

const struct store_backend store_postgresql_backend = {
	.name = "postgresql",
	.shared = true,
	.open = pg_open,
	.close = pg_close,
	.version = pg_version,
	.catalog = &pg_catalog_ops,
	.writer = &pg_writer_ops,
	.reader = &pg_reader_ops,
	.derived = &pg_derived_ops,
};
