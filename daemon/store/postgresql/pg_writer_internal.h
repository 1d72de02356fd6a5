/*
 * What the PostgreSQL writer (pg_writer.c: transactions, claims, events,
 * retractions, retention) and its side of store/derive.h (pg_derive.c: the
 * row operations over the transaction's connection) share. A pg_leg is one
 * leg of one writer, used by that writer's thread only (or by the thread
 * preparing the leg, on a connection of its own).
 */
#ifndef CORRIDOR_PG_WRITER_INTERNAL_H
#define CORRIDOR_PG_WRITER_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "derive.h"
#include "legs.h"
#include "pg_analyze.h"
#include "pg_store.h"

/* An int64 in decimal: sign, 19 digits, NUL, and some to spare. */
#define PG_INT_TEXT_MAX 24
/* A SQLSTATE: five characters and the NUL. */
#define PG_SQLSTATE_MAX 6
/* What a derive op returns when its statement failed (the pg_leg's err and
 * sqlstate say why): a positive code of this backend, as derive.h wants. */
#define PG_DERIVE_FAILED 1

/* A growing text: an array literal ({"a",NULL,"b"}) passed as one
 * parameter, so that a batch is one statement however many rows it has. */
struct pg_buf {
	char *p;
	size_t len, cap;
	size_t count;		/* elements */
	bool nomem;
};

/* Traversal writes waiting (put_traversal, delete_traversal), as column
 * arrays: they go in two statements, deletes then upserts, with the next
 * read of traversals, rollups or conveyances and with the COMMIT. */
#define PG_TRAV_PUT_COLS 14
#define PG_TRAV_DEL_COLS 3
/* Writes held at most: the arrays' memory is bounded. */
#define PG_TRAV_PENDING_MAX 1000

struct pg_trav_writes {
	struct pg_buf put[PG_TRAV_PUT_COLS];
	struct pg_buf del[PG_TRAV_DEL_COLS];
	size_t nput, ndel;
};

/* Rollup and conveyance writes waiting (rollup_put, rollup_delete,
 * put_conveyance, delete_conveyance of a row read ahead), as column arrays
 * per table: each table's deletes and upserts are one statement each, sent
 * with the other writes waiting in one round trip before the next read of
 * those tables and with the COMMIT. A row is written once while it waits
 * (a second write of it sends the waiting ones first), so a table's deletes
 * and upserts never name the same row. Upserts: the key's columns then the
 * values (transit 16, volume 7, quality 11; conveyances 6); deletes: the
 * key's (3, 3, 2; conveyances 3). They are no more than the rows read
 * ahead, which are a flush's (bounded by derive.c's chunks). */
#define PG_ROLLUP_PUT_COLS 16
#define PG_ROLLUP_DEL_COLS 3
#define PG_ROLLUP_TABLES 3
#define PG_CONV_PUT_COLS 6
#define PG_CONV_DEL_COLS 3

struct pg_row_writes {
	struct pg_buf put[PG_ROLLUP_PUT_COLS];
	struct pg_buf del[PG_ROLLUP_DEL_COLS];
	size_t nput, ndel;
};

/* A rollup row read ahead: the row of its table's result that holds it. */
struct pg_ahead_rollup {
	struct rollup_key key;
	int row;			/* -1: no stored row */
	bool written;			/* put or deleted since: the row is not it */
};

/* Conveyances are counted ahead in two statements: trains, vessel calls. */
#define PG_CONV_READS 2

/* A conveyance counted ahead from the traversals. */
struct pg_ahead_conv {
	char kind, direction;
	char *ident;			/* owned */
	int res;			/* which count (conv_res) */
	int row;			/* its row there */
	bool written;
};

/* What read_ahead read for one derive_flush (valid while the rows it read
 * are not written: an entry written since is read again), and the writes
 * of those rows waiting. */
struct pg_ahead {
	PGresult *res[PG_ROLLUP_TABLES];	/* per enum rollup_table */
	struct pg_ahead_rollup *keys[PG_ROLLUP_TABLES];	/* sorted (ahead_cmp) */
	size_t nkeys[PG_ROLLUP_TABLES];
	PGresult *conv_res[PG_CONV_READS];
	struct pg_ahead_conv *conv;		/* sorted (conv_cmp) */
	size_t nconv;
	struct pg_row_writes rw[PG_ROLLUP_TABLES];
	struct pg_row_writes cw;		/* conveyances */
};

/* A (unit, direction) of the batch whose events were read ahead. */
struct pg_cached_unit {
	const char *unit;		/* the unit set's */
	char direction;
	int start, count;		/* its rows in the cache's result */
};

/* The events of every unit a batch re-pairs, read in one statement before
 * derive_repair (which would read them one unit a round trip); valid until
 * the transaction's next write of events, so only during derive_repair. */
struct pg_unit_cache {
	PGresult *res;			/* unit, direction, then unit_events' columns */
	struct pg_cached_unit *units;	/* sorted by unit (strcmp), direction */
	size_t count;
};

struct pg_leg {
	const struct pg_store *store;
	struct pg_db *db;		/* the writer's (or the preparing thread's) */
	char code[LEG_CODE_MAX];
	enum leg_kind kind;
	int64_t typical_ms;
	struct derive *derive;
	/* its events partition, a quoted identifier, and how it has grown */
	char events_table[LEG_CODE_MAX + 16];
	struct pg_growth growth;
	/* retention: the (unit, direction) its scan stopped after, NULL: none */
	char *retain_after;
	char retain_after_dir[2];
	/* the first failure of the open transaction and its SQLSTATE ("":
	 * none, or not the server's: no memory, a lost connection, bad rows) */
	struct store_error err;
	char sqlstate[PG_SQLSTATE_MAX];
	struct pg_unit_cache cache;	/* empty but while derive_repair runs */
	struct pg_trav_writes tw;	/* empty between transactions */
	struct pg_ahead ahead;		/* empty between transactions */
};

/* Runs sql on l's connection with text parameters, except those formats
 * says are binary (formats and lengths may be NULL: all text); a NULL value
 * is SQL NULL; n < 0: sql is statements without parameters, run in one
 * round trip, and the result is the last one's. The result (status want), the caller's to PQclear; or NULL
 * with l->err and l->sqlstate set (the first failure is kept). */
PGresult *pg_leg_exec(struct pg_leg *l, const char *what, const char *sql, int n,
    const char *const *values, const int *lengths, const int *formats, ExecStatusType want);
/* res (any, NULL too) checked for status want, as pg_leg_exec checks its
 * own: res, or NULL (res cleared) with l->err and l->sqlstate set. */
PGresult *pg_leg_result(struct pg_leg *l, PGresult *res, ExecStatusType want, const char *what);
/* Runs s[0..n) in one round trip (pg_db_pipeline), the result of s[i]
 * checked for status want[i] (said as what[i]): 0 with every result in s,
 * the caller's to PQclear, or -1 with l->err and l->sqlstate (of the first
 * that failed; the results left in s are still the caller's). */
int pg_leg_pipeline(struct pg_leg *l, struct pg_db_stmt *s, const char *const *what,
    const ExecStatusType *want, size_t n);
/* Runs body in a transaction of l under the leg's lock, again after a
 * serialization failure or a deadlock (undo, when not NULL, forgets what a
 * failed try left in arg): 0, or -1 with l->err (pg_writer.c). */
int pg_leg_tx(struct pg_leg *l, int (*body)(struct pg_leg *l, int64_t first_new_id, void *arg),
    void (*undo)(void *arg), void *arg);
/* One retention step of l (store_writer.h's retain_step; pg_retention.c). */
int pg_leg_retain_step(struct pg_leg *l, int64_t cutoff_ms, size_t max_units,
    size_t *units_dropped, int64_t *events_dropped, bool *more, struct store_error *err);
/* Records a failure that is not a statement's (no memory, a malformed row):
 * l->err, unless a failure is recorded already. */
void pg_leg_fail(struct pg_leg *l, enum store_error_kind kind, const char *what);
/* A result of derive.h's functions: 0, or -1 with l->err said. */
int pg_leg_derive_rc(struct pg_leg *l, int rc);

/* The ops of store/derive.h over a pg_leg (the context) and the
 * transaction open on its connection. */
extern const struct derive_ops pg_derive_ops;

/* Appends an element (NULL: SQL NULL), quoted so that any text is itself. */
void pg_arr_add(struct pg_buf *b, const char *v);
/* The literal, "{}" when empty; NULL when out of memory. */
const char *pg_arr_end(struct pg_buf *b);
void pg_arr_free(struct pg_buf *b);

/* Reads the events of units' (unit, direction)s into l->cache, for
 * unit_events to answer from, after first (NULL: none; a statement
 * without rows, said as first_what) in the same round trip; 0 or -1 with
 * l->err. pg_unit_cache_clear() drops them (any time; nothing when empty). */
int pg_unit_cache_fill(struct pg_leg *l, const struct unit_set *units, const char *first_what,
    const struct pg_db_stmt *first);
void pg_unit_cache_clear(struct pg_leg *l);

/* Sends the traversal, rollup and conveyance writes waiting, and then
 * COMMIT when commit, in one round trip: 0 or -1 with l->err.
 * pg_writes_drop() forgets the writes waiting and what was read ahead (a
 * failed transaction's, or the end of any). */
int pg_writes_flush(struct pg_leg *l, bool commit);
void pg_writes_drop(struct pg_leg *l);

/* Text of a column, NULL for SQL NULL; integers with NULL as dflt. */
const char *pg_col_text(const PGresult *res, int row, int col);
int64_t pg_col_int(const PGresult *res, int row, int col, int64_t dflt);

#endif
