/*
 * The PostgreSQL backend's reader handle: one query thread's connection
 * (reader_conninfo, which may name a standby) and every SELECT of
 * daemon/store/sqlite/sqlite_reader.c with the leg in front, giving the same
 * rows in the same order; see store_reader.h. The connection is made at the
 * first read, not at open, so a reader opened while the database is down
 * works once it is back.
 *
 * Inside store_reader_begin/end (one query) every primitive reads in one
 * REPEATABLE READ READ ONLY transaction, begun at the first read (a PING
 * never touches the database) and ended by end: one snapshot per command.
 * Outside, a single-row primitive is its own statement (autocommit), and a
 * primitive of many rows its own short transaction.
 *
 * Rows: SQLite orders what these SELECTs return by the index it reads them
 * through; here every ORDER BY says that order in full, text by bytes
 * (COLLATE "C", SQLite's BINARY) whatever the database's collation. A
 * primitive of many rows reads them through a cursor, PG_READER_FETCH_ROWS
 * at a time, so a year of traversals is never held in memory at once, a
 * callback that stops ends the read at the server, and a callback may call
 * another primitive meanwhile (HOLDS asks for each hold's release). The
 * single-row statements are prepared once per connection (JOURNEYS asks for
 * a unit's latest entry tens of thousands of times). Results are binary:
 * integers in network byte order, and the histograms byte for byte as
 * stored.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg_store.h"

/* Rows fetched from a cursor at a time: memory stays bounded, and a
 * callback that stops early leaves few rows fetched for nothing. */
#define PG_READER_FETCH_ROWS 1000
/* Cursors open at once: a callback's primitive inside another's. */
#define PG_READER_CURSORS_MAX 4
/* The most parameters a statement takes. */
#define PG_READER_PARAMS_MAX 5
/* A statement's or cursor's name, and a DECLARE or FETCH around a SELECT. */
#define PG_READER_NAME_MAX 32
#define PG_READER_SQL_MAX 2048
/* An int64 in decimal, with its sign and NUL. */
#define PG_READER_INT_MAX 24
/* The parameter types (pg_type.h's OIDs, which libpq does not export). */
#define PG_READER_OID_INT8 20
#define PG_READER_OID_TEXT 25

/* The statements; the leg ones take $1 leg. */
enum reader_stmt {
	RS_TRANSIT_HOURS,
	RS_BY_EXIT,
	RS_LATEST_ENTRY,
	RS_ENTERED_SINCE,
	RS_OPEN,
	RS_OPEN_STAYING,
	RS_UNIT_TRAVERSALS,
	RS_UNPAIRED,
	RS_UNIT_REPORTED,
	RS_VOLUME_HOURS,
	RS_CONVEYANCES,
	RS_HOLDS,
	RS_RELEASE,
	RS_DELAYS,
	RS_QUALITY,
	RS_REJECTION_COUNTS,
	RS_MARK_DUPLICATES,
	RS_CARRIER_KNOWN,
	RS_COUNT
};

struct reader_sql {
	const char *sql;
	const char *params;	/* a letter per parameter: t text, i bigint */
	int ncols;
	bool many;		/* rows through a cursor, else at most one row */
};

/* The filter's parameters: $2 from, $3 to, $4 direction, $5 carrier (NULL: any). */
#define FILTER_PARAMS "tiitt"
#define DIRECTION_CARRIER " AND ($4::text IS NULL OR direction = $4)" \
	" AND ($5::text IS NULL OR carrier = $5)"

static const struct reader_sql reader_sql[RS_COUNT] = {
	[RS_TRANSIT_HOURS] = { "SELECT n, sum_ms, min_ms, max_ms, on_time, planned, on_plan,"
	    " eta_n, eta_err_ms, teu, containers, gross_kg, hist FROM transit_hourly"
	    " WHERE leg = $1 AND hour_ms >= $2 AND hour_ms < $3" DIRECTION_CARRIER
	    " ORDER BY hour_ms, direction COLLATE \"C\", carrier COLLATE \"C\"",
	    FILTER_PARAMS, 13, true },
	/* SQLite: traversals_by_exit, whose key goes on with the table's */
	[RS_BY_EXIT] = { "SELECT unit, direction, carrier, enter_time_ms, exit_time_ms,"
	    " duration_ms, teu, containers, gross_kg, plan_ms, eta_n, eta_err_ms"
	    " FROM traversals WHERE leg = $1 AND exit_time_ms >= $2 AND exit_time_ms < $3"
	    DIRECTION_CARRIER " ORDER BY exit_time_ms, direction COLLATE \"C\","
	    " carrier COLLATE \"C\", duration_ms NULLS FIRST, unit COLLATE \"C\", enter_time_ms",
	    FILTER_PARAMS, 12, true },
	[RS_LATEST_ENTRY] = { "SELECT max(enter_time_ms) FROM traversals"
	    " WHERE leg = $1 AND unit = $2 AND direction = $3 AND enter_time_ms <= $4",
	    "ttti", 1, false },
	[RS_ENTERED_SINCE] = { "SELECT 1::bigint FROM traversals"
	    " WHERE leg = $1 AND unit = $2 AND direction = $3 AND enter_time_ms >= $4 LIMIT 1",
	    "ttti", 1, false },
	[RS_OPEN] = { "SELECT unit, direction, carrier, enter_time_ms, teu, containers"
	    " FROM traversals WHERE leg = $1 AND exit_time_ms IS NULL"
	    " ORDER BY enter_time_ms, unit COLLATE \"C\", direction COLLATE \"C\"",
	    "t", 6, true },
	/* $2, $3: the onward legs' codes going W, E, comma-separated (a leg
	 * code has no comma: leg_code_valid); the primary key's range per
	 * onward leg, as entered_since reads it */
	[RS_OPEN_STAYING] = { "SELECT o.unit, o.direction, o.carrier, o.enter_time_ms, o.teu,"
	    " o.containers FROM traversals o WHERE o.leg = $1 AND o.exit_time_ms IS NULL"
	    " AND NOT EXISTS (SELECT 1 FROM traversals d WHERE d.leg = ANY (string_to_array("
	    "CASE WHEN o.direction = 'E' THEN $3 ELSE $2 END, ','))"
	    " AND d.unit = o.unit AND d.direction = o.direction"
	    " AND d.enter_time_ms >= o.enter_time_ms)"
	    " ORDER BY o.enter_time_ms, o.unit COLLATE \"C\", o.direction COLLATE \"C\"",
	    "ttt", 6, true },
	[RS_UNIT_TRAVERSALS] = { "SELECT direction, enter_time_ms, exit_time_ms FROM traversals"
	    " WHERE leg = $1 AND unit = $2 ORDER BY direction COLLATE \"C\", enter_time_ms",
	    "tt", 3, true },
	[RS_UNPAIRED] = { "SELECT e.direction, e.event_time_ms, e.event_code FROM events AS e"
	    " WHERE e.leg = $1 AND e.unit = $2 AND e.classifier = 1 AND e.retracted = 0"
	    " AND NOT EXISTS (SELECT 1 FROM traversals AS t WHERE t.leg = $1"
	    " AND t.unit = e.unit AND t.direction = e.direction"
	    " AND t.exit_time_ms = e.event_time_ms)"
	    " ORDER BY e.direction COLLATE \"C\", e.event_time_ms, e.id",
	    "tt", 3, true },
	[RS_UNIT_REPORTED] = { "SELECT 1::bigint FROM events WHERE leg = $1 AND unit = $2 LIMIT 1",
	    "tt", 1, false },
	[RS_VOLUME_HOURS] = { "SELECT hour_ms, units, teu, containers, gross_kg"
	    " FROM volume_hourly WHERE leg = $1 AND hour_ms >= $2 AND hour_ms < $3"
	    DIRECTION_CARRIER " ORDER BY hour_ms, direction COLLATE \"C\", carrier COLLATE \"C\"",
	    FILTER_PARAMS, 5, true },
	/* SQLite: conveyances_by_time, then the table's key */
	[RS_CONVEYANCES] = { "SELECT first_enter_ms, kind FROM conveyances"
	    " WHERE leg = $1 AND first_enter_ms >= $2 AND first_enter_ms < $3" DIRECTION_CARRIER
	    " ORDER BY first_enter_ms, kind COLLATE \"C\", ident COLLATE \"C\","
	    " direction COLLATE \"C\"",
	    FILTER_PARAMS, 2, true },
	/* the IN lets the planner use events_holds, whose WHERE names both
	 * codes; SQLite reads events_holds, then the rowid (id) */
	[RS_HOLDS] = { "SELECT unit, direction, event_time_ms FROM events"
	    " WHERE leg = $1 AND event_code IN (10, 11) AND event_code = 10"
	    " AND classifier = 1 AND retracted = 0"
	    " AND event_time_ms >= $2 AND event_time_ms < $3" DIRECTION_CARRIER
	    " ORDER BY event_time_ms, id",
	    FILTER_PARAMS, 3, true },
	[RS_RELEASE] = { "SELECT min(event_time_ms) FROM events"
	    " WHERE leg = $1 AND unit = $2 AND direction = $3 AND event_time_ms >= $4"
	    " AND event_code = 11 AND classifier = 1 AND retracted = 0",
	    "ttti", 1, false },
	[RS_DELAYS] = { "SELECT delay_reason, unit FROM events"
	    " WHERE leg = $1 AND delay_reason IS NOT NULL AND retracted = 0"
	    " AND event_time_ms >= $2 AND event_time_ms < $3" DIRECTION_CARRIER
	    " ORDER BY event_time_ms, id",
	    FILTER_PARAMS, 2, true },
	/* no direction: $4 is the carrier */
	[RS_QUALITY] = { "SELECT carrier, updates, lag_max_ms, lag_hist, duplicates, retractions,"
	    " out_of_order, lag_n, pln_est FROM quality_hourly"
	    " WHERE leg = $1 AND hour_ms >= $2 AND hour_ms < $3"
	    " AND ($4::text IS NULL OR carrier = $4) ORDER BY hour_ms, carrier COLLATE \"C\"",
	    "tiit", 9, true },
	/* the catalog: $1 from, $2 to, $3 carrier */
	[RS_REJECTION_COUNTS] = { "SELECT carrier, reason, count(*) FROM rejections"
	    " WHERE recorded_ms >= $1 AND recorded_ms < $2 AND ($3::text IS NULL OR carrier = $3)"
	    " GROUP BY carrier, reason ORDER BY carrier COLLATE \"C\", count(*) DESC, reason",
	    "iit", 3, true },
	/* sum(bigint) is numeric; SQLite's is an integer (or an overflow error) */
	[RS_MARK_DUPLICATES] = { "SELECT carrier, sum(n)::bigint FROM duplicates_hourly"
	    " WHERE hour_ms >= $1 AND hour_ms < $2 AND ($3::text IS NULL OR carrier = $3)"
	    " GROUP BY carrier ORDER BY carrier COLLATE \"C\"",
	    "iit", 2, true },
	[RS_CARRIER_KNOWN] = { "SELECT 1::bigint FROM carriers WHERE code = $1", "t", 1, false },
};

static const char begin_sql[] = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";
static const char catalog_what[] = "the catalog";

struct pg_reader {
	const struct pg_store *store;
	struct pg_db *db;
	bool prepared[RS_COUNT];	/* on the current connection */
	bool in_query;			/* between reader_begin and reader_end */
	bool in_txn;			/* a transaction of ours is open on the connection */
	bool txn_failed;		/* and a statement of it failed: roll it back */
	int cursors;			/* open now: the next one's number */
};

/* A primitive's parameters as text; a NULL one is SQL NULL. */
struct params {
	const char *v[PG_READER_PARAMS_MAX];
	char num[PG_READER_PARAMS_MAX][PG_READER_INT_MAX];
	int n;
};

static void
param_text(struct params *p, const char *s)
{
	p->v[p->n++] = s;
}

static void
param_int(struct params *p, int64_t x)
{
	snprintf(p->num[p->n], sizeof p->num[p->n], "%" PRId64, x);
	p->v[p->n] = p->num[p->n];
	p->n++;
}

static void
param_filter(struct params *p, const char *leg, const struct store_filter *f, bool direction)
{
	if (leg != NULL)
		param_text(p, leg);
	param_int(p, f->from);
	param_int(p, f->to);
	if (direction)
		param_text(p, f->direction);
	param_text(p, f->carrier);
}

static void *
reader_open(void *store, struct store_error *err)
{
	struct pg_reader *r = calloc(1, sizeof *r);

	if (r == NULL) {
		store_error_set(err, STORE_RETRYABLE, "out of memory");
		return NULL;
	}
	r->store = store;
	/* no connection yet: the first read makes it */
	if ((r->db = pg_store_db(r->store, true, err)) == NULL) {
		free(r);
		return NULL;
	}
	return r;
}

static void
reader_close(void *arg)
{
	struct pg_reader *r = arg;

	if (r == NULL)
		return;
	pg_db_free(r->db);
	free(r);
}

static bool
live(struct pg_reader *r)
{
	PGconn *c = pg_db_conn(r->db);

	return c != NULL && PQstatus(c) == CONNECTION_OK;
}

/* Runs sql with results in binary on the live connection; the result (the
 * caller's to PQclear) or NULL with err. */
static PGresult *
exec_bin(struct pg_reader *r, const char *what, const char *sql, const struct params *p,
    const char *types, ExecStatusType want, struct store_error *err)
{
	Oid oids[PG_READER_PARAMS_MAX];
	PGconn *c = pg_db_conn(r->db);
	PGresult *res;
	int n = p != NULL ? p->n : 0;

	if (c == NULL) {
		store_error_set(err, STORE_RETRYABLE, "%s: not connected to postgresql", what);
		return NULL;
	}
	for (int i = 0; i < n; i++)
		oids[i] = types[i] == 'i' ? PG_READER_OID_INT8 : PG_READER_OID_TEXT;
	res = PQexecParams(c, sql, n, oids, p != NULL ? p->v : NULL, NULL, NULL, 1);
	if (pg_db_check(r->db, res, want, what, err) == -1) {
		PQclear(res);
		return NULL;
	}
	return res;
}

/* Ends our transaction: COMMIT, or ROLLBACK after a failure; whatever
 * happens the connection is left idle (or dropped, to be made again). */
static void
txn_finish(struct pg_reader *r)
{
	struct store_error ignored;
	PGconn *c;

	if (!r->in_txn)
		return;
	r->in_txn = false;
	if (live(r) && (r->txn_failed || pg_store_commit(r->db, "ending the query", &ignored) ==
	    -1))
		pg_store_rollback(r->db);
	if ((c = pg_db_conn(r->db)) != NULL && PQtransactionStatus(c) != PQTRANS_IDLE)
		pg_store_rollback(r->db);
	r->txn_failed = false;
	r->cursors = 0;
}

/* Makes the connection ready for a statement of what: connected, and in
 * the query's transaction inside begin/end; with txn also outside, in a
 * transaction of the primitive's own (*own). */
static int
enter(struct pg_reader *r, const char *what, bool txn, bool *own, struct store_error *err)
{
	PGresult *res;

	*own = false;
	if (r->in_txn) {
		if (!live(r)) {
			/* another transaction would be another snapshot */
			store_error_set(err, STORE_RETRYABLE, "%s: the connection to postgresql was"
			    " lost in the query", what);
			return -1;
		}
		return 0;
	}
	if (!live(r)) {
		/* a new connection is a new session: nothing is prepared there */
		memset(r->prepared, 0, sizeof r->prepared);
		r->cursors = 0;
		if (pg_db_ensure(r->db, err) == -1)
			return -1;
	}
	if (!txn && !r->in_query)
		return 0;
	if ((res = exec_bin(r, what, begin_sql, NULL, NULL, PGRES_COMMAND_OK, err)) == NULL)
		return -1;
	PQclear(res);
	r->in_txn = true;
	r->txn_failed = false;
	*own = !r->in_query;
	return 0;
}

/* After a primitive: a failure dooms the transaction it was in. */
static void
leave(struct pg_reader *r, bool own, bool failed)
{
	if (failed && r->in_txn)
		r->txn_failed = true;
	if (own)
		txn_finish(r);
}

static bool
ncols_ok(const PGresult *res, enum reader_stmt k, const char *what, struct store_error *err)
{
	if (PQnfields(res) == reader_sql[k].ncols)
		return true;
	store_error_set(err, STORE_CORRUPT, "%s: %d columns where %d were asked for", what,
	    PQnfields(res), reader_sql[k].ncols);
	return false;
}

/* An integer column in binary (int8, int4 or int2, big-endian); NULL is 0,
 * as the SQLite reader gives for a NULL integer. A value of another size
 * sets *bad. */
static int64_t
col_int(const PGresult *res, int row, int col, bool *bad)
{
	const unsigned char *p;
	uint64_t u = 0;
	int len;

	if (PQgetisnull(res, row, col))
		return 0;
	p = (const unsigned char *)PQgetvalue(res, row, col);
	len = PQgetlength(res, row, col);
	if (len != 8 && len != 4 && len != 2) {
		*bad = true;
		return 0;
	}
	for (int i = 0; i < len; i++)
		u = u << 8 | p[i];
	if (len < 8 && (p[0] & 0x80))
		u |= UINT64_MAX << (8 * len);	/* sign-extend */
	return (int64_t)u;
}

/* A text column (libpq ends a binary value with a NUL too); NULL is "". */
static const char *
col_text(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? "" : PQgetvalue(res, row, col);
}

/* A bytea column as raw bytes; NULL or empty gives NULL and 0 (as the
 * SQLite reader gives for an empty blob). */
static const void *
col_blob(const PGresult *res, int row, int col, size_t *len)
{
	*len = PQgetisnull(res, row, col) ? 0 : (size_t)PQgetlength(res, row, col);
	return *len > 0 ? PQgetvalue(res, row, col) : NULL;
}

/* Decodes a row and hands it to the primitive's callback: its answer, and
 * *bad set (without calling it) if the row is not what the SELECT says. */
typedef int (*row_fn)(const PGresult *res, int row, void *arg, bool *bad);

/* Rows of statement k through a cursor: 0 when all were seen, the
 * callback's nonzero answer when it stopped, -1 with err. */
static int
each_row(struct pg_reader *r, enum reader_stmt k, const char *what, const struct params *p,
    row_fn fn, void *arg, struct store_error *err)
{
	char name[PG_READER_NAME_MAX], sql[PG_READER_SQL_MAX];
	PGresult *res;
	bool own, bad = false, failed = true;
	int stop = 0, n;

	if (r->cursors >= PG_READER_CURSORS_MAX) {
		store_error_set(err, STORE_UNSUPPORTED, "%s: reads nested %d deep", what,
		    r->cursors);
		return -1;
	}
	if (enter(r, what, true, &own, err) == -1)
		return -1;
	snprintf(name, sizeof name, "corridor_c%d", r->cursors);
	if (snprintf(sql, sizeof sql, "DECLARE %s NO SCROLL CURSOR FOR %s", name,
	    reader_sql[k].sql) >= (int)sizeof sql) {
		store_error_set(err, STORE_UNSUPPORTED, "%s: statement too long", what);
		goto out;
	}
	if ((res = exec_bin(r, what, sql, p, reader_sql[k].params, PGRES_COMMAND_OK, err)) ==
	    NULL)
		goto out;
	PQclear(res);
	r->cursors++;
	snprintf(sql, sizeof sql, "FETCH FORWARD %d FROM %s", PG_READER_FETCH_ROWS, name);
	do {
		if ((res = exec_bin(r, what, sql, NULL, NULL, PGRES_TUPLES_OK, err)) == NULL)
			goto closed;
		if (!ncols_ok(res, k, what, err)) {
			PQclear(res);
			goto closed;
		}
		n = PQntuples(res);
		for (int i = 0; i < n && stop == 0 && !bad; i++)
			stop = fn(res, i, arg, &bad);
		PQclear(res);
	} while (stop == 0 && !bad && n == PG_READER_FETCH_ROWS);
	if (bad) {
		store_error_set(err, STORE_CORRUPT, "%s: a value of an unexpected size", what);
		goto closed;
	}
	/* a callback that failed may have lost the connection or doomed the
	 * transaction: its answer stands, whatever CLOSE says */
	snprintf(sql, sizeof sql, "CLOSE %s", name);
	if ((res = exec_bin(r, what, sql, NULL, NULL, PGRES_COMMAND_OK, err)) == NULL &&
	    stop == 0)
		goto closed;
	PQclear(res);
	failed = res == NULL;
	r->cursors--;
	leave(r, own, failed);
	return stop;
closed:
	/* the cursor goes with the failed transaction */
	r->cursors--;
out:
	leave(r, own, failed);
	return -1;
}

/* Statement k's one row (or none): the result, with PQntuples 0 or 1, or
 * NULL with err. */
static PGresult *
one_row(struct pg_reader *r, enum reader_stmt k, const char *what, const struct params *p,
    struct store_error *err)
{
	Oid oids[PG_READER_PARAMS_MAX];
	char name[PG_READER_NAME_MAX];
	PGresult *res;
	bool own;

	if (enter(r, what, false, &own, err) == -1)
		return NULL;
	snprintf(name, sizeof name, "corridor_r%d", (int)k);
	if (!r->prepared[k]) {
		for (int i = 0; i < p->n; i++)
			oids[i] = reader_sql[k].params[i] == 'i' ? PG_READER_OID_INT8 :
			    PG_READER_OID_TEXT;
		res = PQprepare(pg_db_conn(r->db), name, reader_sql[k].sql, p->n, oids);
		if (pg_db_check(r->db, res, PGRES_COMMAND_OK, what, err) == -1) {
			PQclear(res);
			leave(r, own, true);
			return NULL;
		}
		PQclear(res);
		r->prepared[k] = true;
	}
	res = PQexecPrepared(pg_db_conn(r->db), name, p->n, p->v, NULL, NULL, 1);
	if (pg_db_check(r->db, res, PGRES_TUPLES_OK, what, err) == -1 ||
	    !ncols_ok(res, k, what, err)) {
		PQclear(res);
		leave(r, own, true);
		return NULL;
	}
	if (PQntuples(res) > 1) {
		PQclear(res);
		store_error_set(err, STORE_CORRUPT, "%s: more than one row", what);
		leave(r, own, true);
		return NULL;
	}
	leave(r, own, false);
	return res;
}

static bool
leg_ok(size_t leg, struct store_error *err)
{
	if (leg < LEGS_MAX)
		return true;
	store_error_set(err, STORE_UNSUPPORTED, "no leg %zu", leg);
	return false;
}

/* ------------------------------------------------------------ the primitives */

/* A primitive's callback and its argument, for its row function (which
 * casts fn back to the primitive's own callback type). */
typedef void (*any_fn)(void);
struct call {
	any_fn fn;
	void *arg;
};

/* The rows of statement k over one leg under filter f (direction: whether
 * k takes the direction), each decoded by row for fn. */
static int
each_filtered(void *r, size_t leg, const struct leg *l, const struct store_filter *f,
    bool direction, enum reader_stmt k, row_fn row, any_fn fn, void *fnarg,
    struct store_error *err)
{
	struct call c = { fn, fnarg };
	struct params p = { 0 };

	if (!leg_ok(leg, err))
		return -1;
	param_filter(&p, l->code, f, direction);
	return each_row(r, k, l->code, &p, row, &c, err);
}

static int
transit_row(const PGresult *res, int i, void *arg, bool *bad)
{
	const struct call *c = arg;
	struct store_transit_hour h = {
		.n = col_int(res, i, 0, bad), .sum_ms = col_int(res, i, 1, bad),
		.min_ms = col_int(res, i, 2, bad), .max_ms = col_int(res, i, 3, bad),
		.on_time = col_int(res, i, 4, bad), .planned = col_int(res, i, 5, bad),
		.on_plan = col_int(res, i, 6, bad), .eta_n = col_int(res, i, 7, bad),
		.eta_err_ms = col_int(res, i, 8, bad), .teu = col_int(res, i, 9, bad),
		.containers = col_int(res, i, 10, bad), .gross_kg = col_int(res, i, 11, bad),
	};

	h.hist = col_blob(res, i, 12, &h.hist_len);
	return *bad ? 0 : ((store_transit_hour_fn)c->fn)(c->arg, &h);
}

static int
each_transit_hour(void *arg, size_t leg, const struct leg *l, const struct store_filter *f,
    store_transit_hour_fn fn, void *fnarg, struct store_error *err)
{
	return each_filtered(arg, leg, l, f, true, RS_TRANSIT_HOURS, transit_row, (any_fn)fn, fnarg, err);
}

static int
traversal_row(const PGresult *res, int i, void *arg, bool *bad)
{
	const struct call *c = arg;
	struct store_traversal t = {
		.unit = col_text(res, i, 0), .direction = col_text(res, i, 1),
		.carrier = col_text(res, i, 2), .enter_ms = col_int(res, i, 3, bad),
		.exit_ms = col_int(res, i, 4, bad), .duration_ms = col_int(res, i, 5, bad),
		.teu = col_int(res, i, 6, bad), .containers = col_int(res, i, 7, bad),
		.gross_kg = col_int(res, i, 8, bad), .planned = !PQgetisnull(res, i, 9),
		.plan_ms = col_int(res, i, 9, bad), .eta_n = col_int(res, i, 10, bad),
		.eta_err_ms = col_int(res, i, 11, bad),
	};

	return *bad ? 0 : ((store_traversal_fn)c->fn)(c->arg, &t);
}

static int
each_traversal_by_exit(void *arg, size_t leg, const struct leg *l, const struct store_filter *f,
    store_traversal_fn fn, void *fnarg, struct store_error *err)
{
	return each_filtered(arg, leg, l, f, true, RS_BY_EXIT, traversal_row, (any_fn)fn, fnarg, err);
}

/* One nullable integer for ($2 unit, $3 direction, $4 time): *out, or -1
 * when there is no row or it is NULL. */
static int
unit_time_value(struct pg_reader *r, size_t leg, const struct leg *l, enum reader_stmt k,
    const char *unit, const char *direction, int64_t at_ms, int64_t *out,
    struct store_error *err)
{
	struct params p = { 0 };
	PGresult *res;
	bool bad = false;
	int64_t v;

	*out = -1;
	if (!leg_ok(leg, err))
		return -1;
	param_text(&p, l->code);
	param_text(&p, unit);
	param_text(&p, direction);
	param_int(&p, at_ms);
	if ((res = one_row(r, k, l->code, &p, err)) == NULL)
		return -1;
	if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 0)) {
		v = col_int(res, 0, 0, &bad);
		if (bad) {
			PQclear(res);
			store_error_set(err, STORE_CORRUPT, "%s: a value of an unexpected size",
			    l->code);
			return -1;
		}
		*out = v;
	}
	PQclear(res);
	return 0;
}

static int
latest_entry(void *arg, size_t leg, const struct leg *l, const char *unit,
    const char *direction, int64_t at_ms, int64_t *enter_ms, struct store_error *err)
{
	return unit_time_value(arg, leg, l, RS_LATEST_ENTRY, unit, direction, at_ms, enter_ms,
	    err);
}

static int
entered_since(void *arg, size_t leg, const struct leg *l, const char *unit,
    const char *direction, int64_t after_ms, bool *entered, struct store_error *err)
{
	int64_t one;
	int rc = unit_time_value(arg, leg, l, RS_ENTERED_SINCE, unit, direction, after_ms, &one,
	    err);

	*entered = rc == 0 && one == 1;
	return rc;
}

static int
release_after(void *arg, size_t leg, const struct leg *l, const char *unit,
    const char *direction, int64_t at_ms, int64_t *rels_ms, struct store_error *err)
{
	return unit_time_value(arg, leg, l, RS_RELEASE, unit, direction, at_ms, rels_ms, err);
}

static int
open_row(const PGresult *res, int i, void *arg, bool *bad)
{
	const struct call *c = arg;
	struct store_open_traversal o = {
		.unit = col_text(res, i, 0), .direction = col_text(res, i, 1),
		.carrier = col_text(res, i, 2), .enter_ms = col_int(res, i, 3, bad),
		.teu = col_int(res, i, 4, bad), .containers = col_int(res, i, 5, bad),
	};

	return *bad ? 0 : ((store_open_fn)c->fn)(c->arg, &o);
}

static int
each_open(void *arg, size_t leg, const struct leg *l, store_open_fn fn, void *fnarg,
    struct store_error *err)
{
	struct call c = { (any_fn)fn, fnarg };
	struct params p = { 0 };

	if (!leg_ok(leg, err))
		return -1;
	param_text(&p, l->code);
	return each_row(arg, RS_OPEN, l->code, &p, open_row, &c, err);
}

/* The codes of set's legs, comma-separated, into buf: 0, or -1 when they
 * do not fit (a buffer of LEGS_MAX * LEG_CODE_MAX always holds them). */
static int
leg_codes(char *buf, size_t len, const struct leg_table *legs, const struct store_leg_set *set)
{
	size_t o = 0;

	buf[0] = '\0';
	for (size_t k = 0; k < set->n; k++) {
		int n = snprintf(buf + o, len - o, "%s%s", k ? "," : "",
		    legs->legs[set->index[k]].code);

		if (n < 0 || (size_t)n >= len - o)
			return -1;
		o += (size_t)n;
	}
	return 0;
}

static int
each_open_staying(void *arg, size_t leg, const struct leg_table *legs,
    const struct store_leg_set *onward_w, const struct store_leg_set *onward_e,
    store_open_fn fn, void *fnarg, struct store_error *err)
{
	char w[LEGS_MAX * LEG_CODE_MAX], e[LEGS_MAX * LEG_CODE_MAX];
	struct call c = { (any_fn)fn, fnarg };
	struct params p = { 0 };

	if (!leg_ok(leg, err))
		return -1;
	if (leg_codes(w, sizeof w, legs, onward_w) == -1 ||
	    leg_codes(e, sizeof e, legs, onward_e) == -1) {
		store_error_set(err, STORE_UNSUPPORTED, "too many onward legs");
		return -1;
	}
	param_text(&p, legs->legs[leg].code);
	param_text(&p, w);
	param_text(&p, e);
	return each_row(arg, RS_OPEN_STAYING, legs->legs[leg].code, &p, open_row, &c, err);
}

static int
unit_traversal_row(const PGresult *res, int i, void *arg, bool *bad)
{
	const struct call *c = arg;
	struct store_unit_traversal t = {
		.direction = col_text(res, i, 0), .enter_ms = col_int(res, i, 1, bad),
		.exit_ms = PQgetisnull(res, i, 2) ? -1 : col_int(res, i, 2, bad),
	};

	return *bad ? 0 : ((store_unit_traversal_fn)c->fn)(c->arg, &t);
}

static int
each_unit_traversal(void *arg, size_t leg, const struct leg *l, const char *unit,
    store_unit_traversal_fn fn, void *fnarg, struct store_error *err)
{
	struct call c = { (any_fn)fn, fnarg };
	struct params p = { 0 };

	if (!leg_ok(leg, err))
		return -1;
	param_text(&p, l->code);
	param_text(&p, unit);
	return each_row(arg, RS_UNIT_TRAVERSALS, l->code, &p, unit_traversal_row, &c, err);
}

static int
unpaired_row(const PGresult *res, int i, void *arg, bool *bad)
{
	const struct call *c = arg;
	struct store_unpaired_event e = {
		.direction = col_text(res, i, 0), .event_ms = col_int(res, i, 1, bad),
		.event_code = (int)col_int(res, i, 2, bad),
	};

	return *bad ? 0 : ((store_unpaired_fn)c->fn)(c->arg, &e);
}

static int
each_unpaired_event(void *arg, size_t leg, const struct leg *l, const char *unit,
    store_unpaired_fn fn, void *fnarg, struct store_error *err)
{
	struct call c = { (any_fn)fn, fnarg };
	struct params p = { 0 };

	if (!leg_ok(leg, err))
		return -1;
	param_text(&p, l->code);
	param_text(&p, unit);
	return each_row(arg, RS_UNPAIRED, l->code, &p, unpaired_row, &c, err);
}

/* Whether statement k with p gives a row. */
static int
key_exists(struct pg_reader *r, enum reader_stmt k, const char *what, const struct params *p,
    bool *found, struct store_error *err)
{
	PGresult *res = one_row(r, k, what, p, err);

	if (res == NULL)
		return -1;
	*found = PQntuples(res) == 1;
	PQclear(res);
	return 0;
}

static int
unit_reported(void *arg, size_t leg, const struct leg *l, const char *unit, bool *reported,
    struct store_error *err)
{
	struct params p = { 0 };

	*reported = false;
	if (!leg_ok(leg, err))
		return -1;
	param_text(&p, l->code);
	param_text(&p, unit);
	return key_exists(arg, RS_UNIT_REPORTED, l->code, &p, reported, err);
}

static int
carrier_known(void *arg, const char *code, bool *known, struct store_error *err)
{
	struct params p = { 0 };

	*known = false;
	param_text(&p, code);
	return key_exists(arg, RS_CARRIER_KNOWN, catalog_what, &p, known, err);
}

static int
volume_row(const PGresult *res, int i, void *arg, bool *bad)
{
	const struct call *c = arg;
	struct store_volume_hour v = {
		.hour_ms = col_int(res, i, 0, bad), .units = col_int(res, i, 1, bad),
		.teu = col_int(res, i, 2, bad), .containers = col_int(res, i, 3, bad),
		.gross_kg = col_int(res, i, 4, bad),
	};

	return *bad ? 0 : ((store_volume_hour_fn)c->fn)(c->arg, &v);
}

static int
each_volume_hour(void *arg, size_t leg, const struct leg *l, const struct store_filter *f,
    store_volume_hour_fn fn, void *fnarg, struct store_error *err)
{
	return each_filtered(arg, leg, l, f, true, RS_VOLUME_HOURS, volume_row, (any_fn)fn, fnarg, err);
}

static int
conveyance_row(const PGresult *res, int i, void *arg, bool *bad)
{
	const struct call *c = arg;
	struct store_conveyance v = {
		.first_enter_ms = col_int(res, i, 0, bad), .train = col_text(res, i, 1)[0] == 'T',
	};

	return *bad ? 0 : ((store_conveyance_fn)c->fn)(c->arg, &v);
}

static int
each_conveyance(void *arg, size_t leg, const struct leg *l, const struct store_filter *f,
    store_conveyance_fn fn, void *fnarg, struct store_error *err)
{
	return each_filtered(arg, leg, l, f, true, RS_CONVEYANCES, conveyance_row, (any_fn)fn, fnarg, err);
}

static int
hold_row(const PGresult *res, int i, void *arg, bool *bad)
{
	const struct call *c = arg;
	struct store_event_ref e = {
		.unit = col_text(res, i, 0), .direction = col_text(res, i, 1),
		.event_ms = col_int(res, i, 2, bad),
	};

	return *bad ? 0 : ((store_event_fn)c->fn)(c->arg, &e);
}

static int
each_hold(void *arg, size_t leg, const struct leg *l, const struct store_filter *f,
    store_event_fn fn, void *fnarg, struct store_error *err)
{
	return each_filtered(arg, leg, l, f, true, RS_HOLDS, hold_row, (any_fn)fn, fnarg, err);
}

static int
delay_row(const PGresult *res, int i, void *arg, bool *bad)
{
	const struct call *c = arg;
	struct store_delay d = { .reason = col_text(res, i, 0), .unit = col_text(res, i, 1) };

	(void)bad;
	return ((store_delay_fn)c->fn)(c->arg, &d);
}

static int
each_delay(void *arg, size_t leg, const struct leg *l, const struct store_filter *f,
    store_delay_fn fn, void *fnarg, struct store_error *err)
{
	return each_filtered(arg, leg, l, f, true, RS_DELAYS, delay_row, (any_fn)fn, fnarg, err);
}

static int
quality_row(const PGresult *res, int i, void *arg, bool *bad)
{
	const struct call *c = arg;
	struct store_quality_hour q = {
		.carrier = col_text(res, i, 0), .updates = col_int(res, i, 1, bad),
		.lag_max_ms = col_int(res, i, 2, bad), .duplicates = col_int(res, i, 4, bad),
		.retractions = col_int(res, i, 5, bad), .out_of_order = col_int(res, i, 6, bad),
		.lag_n = col_int(res, i, 7, bad), .pln_est = col_int(res, i, 8, bad),
	};

	q.lag = col_blob(res, i, 3, &q.lag_len);
	return *bad ? 0 : ((store_quality_hour_fn)c->fn)(c->arg, &q);
}

static int
each_quality_hour(void *arg, size_t leg, const struct leg *l, const struct store_filter *f,
    store_quality_hour_fn fn, void *fnarg, struct store_error *err)
{
	return each_filtered(arg, leg, l, f, false, RS_QUALITY, quality_row, (any_fn)fn, fnarg, err);
}

static int
rejection_row(const PGresult *res, int i, void *arg, bool *bad)
{
	const struct call *c = arg;
	struct store_rejection_count n = {
		.carrier = col_text(res, i, 0), .reason = (int)col_int(res, i, 1, bad),
		.count = col_int(res, i, 2, bad),
	};

	return *bad ? 0 : ((store_rejection_count_fn)c->fn)(c->arg, &n);
}

static int
each_rejection_count(void *arg, const struct store_filter *f, store_rejection_count_fn fn,
    void *fnarg, struct store_error *err)
{
	struct call c = { (any_fn)fn, fnarg };
	struct params p = { 0 };

	param_filter(&p, NULL, f, false);
	return each_row(arg, RS_REJECTION_COUNTS, catalog_what, &p, rejection_row, &c, err);
}

static int
duplicates_row(const PGresult *res, int i, void *arg, bool *bad)
{
	const struct call *c = arg;
	struct store_carrier_count n = {
		.carrier = col_text(res, i, 0), .count = col_int(res, i, 1, bad),
	};

	return *bad ? 0 : ((store_carrier_count_fn)c->fn)(c->arg, &n);
}

static int
each_mark_duplicates(void *arg, const struct store_filter *f, store_carrier_count_fn fn,
    void *fnarg, struct store_error *err)
{
	struct call c = { (any_fn)fn, fnarg };
	struct params p = { 0 };

	param_filter(&p, NULL, f, false);
	return each_row(arg, RS_MARK_DUPLICATES, catalog_what, &p, duplicates_row, &c, err);
}

static int
reader_begin(void *arg, struct store_error *err)
{
	struct pg_reader *r = arg;

	(void)err;
	/* the transaction begins at the first read: a command that reads
	 * nothing works while the database is down */
	r->in_query = true;
	return 0;
}

static void
reader_end(void *arg)
{
	struct pg_reader *r = arg;

	txn_finish(r);
	r->in_query = false;
}

static int
backup(void *arg, const struct leg_table *legs, const char *dest,
    struct store_backup_file *files, size_t *nfiles, struct store_error *err)
{
	(void)arg;
	(void)legs;
	(void)dest;
	(void)files;
	*nfiles = 0;
	store_error_set(err, STORE_UNSUPPORTED, "BACKUP is for the SQLite store; back PostgreSQL"
	    " up with pg_basebackup (or pg_dump)");
	return -1;
}

const struct store_reader_ops pg_reader_ops = {
	.open = reader_open,
	.close = reader_close,
	.begin = reader_begin,
	.end = reader_end,
	.each_transit_hour = each_transit_hour,
	.each_traversal_by_exit = each_traversal_by_exit,
	.latest_entry = latest_entry,
	.entered_since = entered_since,
	.each_open = each_open,
	.each_open_staying = each_open_staying,
	.each_unit_traversal = each_unit_traversal,
	.each_unpaired_event = each_unpaired_event,
	.unit_reported = unit_reported,
	.each_volume_hour = each_volume_hour,
	.each_conveyance = each_conveyance,
	.each_hold = each_hold,
	.release_after = release_after,
	.each_delay = each_delay,
	.each_quality_hour = each_quality_hour,
	.each_rejection_count = each_rejection_count,
	.each_mark_duplicates = each_mark_duplicates,
	.carrier_known = carrier_known,
	.backup = backup,
};
