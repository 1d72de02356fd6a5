/*
 * The PostgreSQL backend's own state and what its files share (store =
 * postgresql, DESIGN decision 7). Everything in one database that any
 * number of stateless corridord share: the schema is schema/postgresql/,
 * applied by the catalog's open (pg_db_migrate). Every handle (catalog,
 * writer, reader) owns one blocking libpq connection (pg_db.h) used by its
 * own thread only. Nothing outside store/postgresql/ sees this.
 */
#ifndef CORRIDOR_PG_STORE_H
#define CORRIDOR_PG_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "legs.h"
#include "pg_db.h"
#include "store_backend.h"

/* Serialises the writes of one leg across every daemon on the database:
 * taken (pg_advisory_xact_lock(PG_STORE_LEG_LOCK, leg key)) at the start of
 * each writing transaction of the leg, so the shared derive code's
 * read-modify-write of traversals, rollups and conveyances is exact however
 * many daemons write the leg. The first key of the two-key form; the
 * second is pg_store_leg_key(). */
#define PG_STORE_LEG_LOCK 0x636f7272	/* "corr" */

struct pg_store {
	char conninfo[CONFIG_CONNINFO_MAX];		/* writers and the catalog */
	char reader_conninfo[CONFIG_CONNINFO_MAX];	/* the query threads */
	/* run on each new connection of a writer or the catalog: the session
	 * settings that follow from [daemon] synchronous */
	const char *session_sql;
	int64_t analyze_until_rows;	/* limits' pg_analyze_until_rows (pg_analyze.h) */
};

/* A connection of s for a writer or the catalog (reader: for a query
 * thread), not connected yet; NULL with err filled. */
struct pg_db *pg_store_db(const struct pg_store *s, bool reader, struct store_error *err);
/* Connects db if it is not (pg_db_ensure), setting a new connection up
 * with the store's session settings; 0 or -1 with err. */
int pg_store_ensure(const struct pg_store *s, struct pg_db *db, struct store_error *err);

/* Runs sql with text parameters (a NULL one is SQL NULL) on db's live
 * connection and checks the result has status want (PGRES_COMMAND_OK or
 * PGRES_TUPLES_OK): the result, the caller's to PQclear, or NULL with err
 * said under what. */
PGresult *pg_store_exec(struct pg_db *db, const char *what, const char *sql, int nparams,
    const char *const *params, ExecStatusType want, struct store_error *err);
/* Ends the transaction on db: COMMIT (0 or -1 with err), or ROLLBACK, which
 * cannot fail in a way the caller could act on (a lost connection has
 * rolled it back). */
int pg_store_commit(struct pg_db *db, const char *what, struct store_error *err);
void pg_store_rollback(struct pg_db *db);
/* An integer column of a row; the text libpq gives as int64. */
int64_t pg_store_int(const PGresult *res, int row, int col);

/* The second key of a leg's PG_STORE_LEG_LOCK: a hash of its code, the
 * same in every daemon. */
int32_t pg_store_leg_key(const char *code);

/* The schema of schema/postgresql/ (pg_schema.c, generated). */
extern const char *const pg_migrations[];
extern const size_t pg_migrations_count;

extern const struct store_catalog_ops pg_catalog_ops;
extern const struct store_writer_ops pg_writer_ops;
extern const struct store_reader_ops pg_reader_ops;
extern const struct store_derived_ops pg_derived_ops;

#endif
