/*
 * One blocking libpq connection of the PostgreSQL store, owned by one thread
 * (a writer, a query worker or the catalog's; DESIGN decision 7): connecting
 * with corridor's defaults under the operator's conninfo, reconnecting with
 * backoff after the connection is lost, the numbered migrations of
 * schema/postgresql/ applied once however many daemons start together, and
 * libpq's errors said as the store's (store_error.h).
 */
#ifndef CORRIDOR_PG_DB_H
#define CORRIDOR_PG_DB_H

#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "store_error.h"

/* The advisory lock the migrations run under, for the whole cluster: any
 * number; this one is "corridor" in ASCII, unlikely to be another program's. */
#define PG_DB_MIGRATION_LOCK INT64_C(0x636f727269646f72)
/* The server versions the schema and the queries are written and tested for. */
#define PG_DB_MIN_SERVER_VERSION 150000
#define PG_DB_CONNINFO_MAX 4096
/* Reconnecting: the first try at once, then waits doubling from the least to
 * the most, each plus up to a quarter more so that daemons that lost the
 * same server do not all come back in the same millisecond. */
#define PG_DB_BACKOFF_MIN_MS 100
#define PG_DB_BACKOFF_MAX_MS 5000

struct pg_db;

/* A handle for conninfo (a libpq connection string or URI), not connected
 * yet. NULL with err filled if conninfo is too long or libpq cannot parse it
 * (STORE_UNSUPPORTED), or on allocation failure (STORE_RETRYABLE). */
struct pg_db *pg_db_new(const char *conninfo, struct store_error *err);
void pg_db_free(struct pg_db *db);

/* Connects if not connected: 0, or -1 with err STORE_RETRYABLE (the server
 * unreachable, refusing, starting or stopping; while the backoff lasts this
 * fails at once without trying) or STORE_UNSUPPORTED (a server older than
 * PG_DB_MIN_SERVER_VERSION). Call before each transaction: a new connection
 * is a new session, so a transaction that failed is begun again from the
 * start, never continued on the next call. */
int pg_db_ensure(struct pg_db *db, struct store_error *err);
/* The live connection, NULL when there is none (pg_db_ensure makes one). */
PGconn *pg_db_conn(struct pg_db *db);
/* Failed connection attempts since the last success (for tests and logs). */
unsigned pg_db_failures(const struct pg_db *db);

/* Runs sql (one or more statements, no parameters; rows are ignored): 0, or
 * -1 with err. */
int pg_db_exec(struct pg_db *db, const char *sql, struct store_error *err);
/* 0 if res has status want; else -1 with err said from res (NULL: no
 * memory or no connection) under what. Either way res is the caller's. A
 * result that shows the connection gone, or a server that can no longer
 * write (a standby after a failover), drops the connection, so the next
 * pg_db_ensure reconnects (and finds the new primary through a multi-host
 * conninfo's target_session_attrs=read-write). */
int pg_db_check(struct pg_db *db, const PGresult *res, ExecStatusType want, const char *what,
    struct store_error *err);

/* One statement of a pipeline (pg_db_pipeline): as PQexecParams takes it
 * (lengths and formats may be NULL), and its result once it ran. */
struct pg_db_stmt {
	const char *sql;
	int n;
	const char *const *values;
	const int *lengths;
	const int *formats;
	PGresult *res;		/* the caller's to PQclear; NULL: none came */
};

/* Sends s[0..n) in one round trip (libpq's pipeline mode) on the live
 * connection and collects each one's result: 0 when the pipeline ran to its
 * end (each result then still to be checked with pg_db_check: after a
 * failing statement the rest are PGRES_PIPELINE_ABORTED), or -1 with err
 * when it could not be sent or read to its end, and the connection is
 * dropped (a connection left inside a pipeline is no use). The statements
 * run one after the other, each seeing what the ones before it wrote. */
int pg_db_pipeline(struct pg_db *db, struct pg_db_stmt *s, size_t n, struct store_error *err);

/* Applies migrations[0..count) that the database has not had yet, in one
 * transaction under PG_DB_MIGRATION_LOCK, recording each in
 * schema_migrations with a checksum of its text: a second daemon starting at
 * the same time waits, then finds nothing to do. Fails with STORE_CORRUPT if
 * an applied migration's text differs from this build's, STORE_UNSUPPORTED
 * if the database has migrations this build does not know. */
int pg_db_migrate(struct pg_db *db, const char *const *migrations, size_t count,
    struct store_error *err);
/* How many migrations the database has had (0: none, or no table yet). */
int pg_db_schema_version(struct pg_db *db, int *version, struct store_error *err);

/* The store's kind for a SQLSTATE (NULL: no result, the connection's own
 * failure). Mostly STORE_RETRYABLE: only what retrying cannot cure is not. */
enum store_error_kind pg_db_sqlstate_kind(const char *sqlstate);
/* The wait before the next try after failures failed ones, without the
 * jitter: 0 for none, then PG_DB_BACKOFF_MIN_MS doubling to _MAX_MS. */
int64_t pg_db_backoff_ms(unsigned failures);

#endif
