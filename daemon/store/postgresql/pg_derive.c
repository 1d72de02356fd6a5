/*
 * The PostgreSQL side of store/derive.h: the row operations the shared
 * re-pairing, rollup merging and re-derivation run on, over the writer's
 * connection inside the transaction it opened (under the leg's
 * PG_STORE_LEG_LOCK, so a read-modify-write of a row is exact). Every
 * statement names the leg, which leads each key of schema/postgresql/.
 *
 * A round trip costs more than the statement, so few are made: the rows a
 * flush reads are read ahead (read_ahead) in one pipeline, and writes wait
 * as column arrays, one statement per table, until the next read or the
 * COMMIT, which they go with in one pipeline (pg_db_pipeline).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "histogram.h"
#include "pg_writer_internal.h"

/* Rows a re-derivation's walk over every unit or event of a leg holds at a
 * time (a cursor fetches them in chunks): a leg's events need not fit in
 * memory at once. */
#define PG_DERIVE_FETCH_ROWS 10000
/* A rollup row's query by its key (op_rollup_get), as made. */
#define PG_ROLLUP_SQL_MAX 512

const char *
pg_col_text(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? NULL : PQgetvalue(res, row, col);
}

int64_t
pg_col_int(const PGresult *res, int row, int col, int64_t dflt)
{
	return PQgetisnull(res, row, col) ? dflt : strtoll(PQgetvalue(res, row, col), NULL, 10);
}

static uint32_t
col_u32(const PGresult *res, int row, int col)
{
	return (uint32_t)pg_col_int(res, row, col, 0);
}

void
pg_leg_fail(struct pg_leg *l, enum store_error_kind kind, const char *what)
{
	if (l->err.kind != STORE_OK)
		return;
	store_error_set(&l->err, kind, "leg %s: %s", l->code, what);
	l->sqlstate[0] = '\0';
}

PGresult *
pg_leg_exec(struct pg_leg *l, const char *what, const char *sql, int n,
    const char *const *values, const int *lengths, const int *formats, ExecStatusType want)
{
	PGconn *conn = pg_db_conn(l->db);
	PGresult *res;

	if (conn == NULL) {
		pg_leg_fail(l, STORE_RETRYABLE, "not connected to postgresql");
		return NULL;
	}
	/* n < 0: one or more statements without parameters, the last one's
	 * result (a failing one stops the rest) */
	res = n < 0 ? PQexec(conn, sql) :
	    PQexecParams(conn, sql, n, NULL, values, lengths, formats, 0);
	return pg_leg_result(l, res, want, what);
}

PGresult *
pg_leg_result(struct pg_leg *l, PGresult *res, ExecStatusType want, const char *what)
{
	struct store_error err;
	const char *state;

	if (pg_db_check(l->db, res, want, what, &err) == 0)
		return res;
	if (l->err.kind == STORE_OK) {
		l->err = err;
		state = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
		snprintf(l->sqlstate, sizeof l->sqlstate, "%s", state != NULL ? state : "");
	}
	PQclear(res);
	return NULL;
}

int
pg_leg_derive_rc(struct pg_leg *l, int rc)
{
	switch (rc) {
	case 0:
		return 0;
	case DERIVE_NOMEM:
		pg_leg_fail(l, STORE_RETRYABLE, "out of memory deriving traversals and rollups");
		return -1;
	case DERIVE_CORRUPT:
		pg_leg_fail(l, STORE_CORRUPT, "a stored traversal or rollup row is malformed");
		return -1;
	default:
		/* PG_DERIVE_FAILED: l->err says it; anything else is ours too */
		pg_leg_fail(l, STORE_RETRYABLE, "deriving traversals and rollups failed");
		return -1;
	}
}

/* A query's result with the columns it was written for, else the row is
 * not ours (l->err: corrupt). */
static PGresult *
query(struct pg_leg *l, const char *what, const char *sql, int n, const char *const *values,
    int nfields)
{
	PGresult *res = pg_leg_exec(l, what, sql, n, values, NULL, NULL, PGRES_TUPLES_OK);

	if (res != NULL && PQnfields(res) != nfields) {
		PQclear(res);
		pg_leg_fail(l, STORE_CORRUPT, "a query's answer has other columns");
		return NULL;
	}
	return res;
}

/* A statement whose rows are not wanted: 0 or PG_DERIVE_FAILED. */
static int
run(struct pg_leg *l, const char *what, const char *sql, int n, const char *const *values,
    const int *lengths, const int *formats)
{
	PGresult *res = pg_leg_exec(l, what, sql, n, values, lengths, formats, PGRES_COMMAND_OK);

	PQclear(res);
	return res != NULL ? 0 : PG_DERIVE_FAILED;
}

static void
int_text(char *buf, int64_t v)
{
	snprintf(buf, PG_INT_TEXT_MAX, "%lld", (long long)v);
}

/* An optional integer: NULL when not present. */
static const char *
opt_text(char *buf, int64_t v, bool present)
{
	if (!present)
		return NULL;
	int_text(buf, v);
	return buf;
}

/* ------------------------------------------------------------ writes waiting, pipelines */

/* Statements of one round trip at most: every table's writes waiting
 * (traversals, the three rollup tables and conveyances: two each) and what
 * goes after them (the COMMIT, or read_ahead's reads: one per rollup table
 * and two for conveyances). */
#define PG_PIPELINE_MAX 16
/* Parameters of a statement of a pipeline at most: the leg and the most
 * column arrays (a transit upsert's). */
#define PG_PIPELINE_PARAMS (PG_ROLLUP_PUT_COLS + 1)
_Static_assert(PG_TRAV_PUT_COLS + 1 <= PG_PIPELINE_PARAMS, "traversal upserts fit");
/* A histogram as bytea's hex text: \x, two digits a byte, NUL. */
#define PG_HIST_HEX_MAX (2 + 2 * HIST_BLOB_MAX + 1)

/* Statements sent in one round trip (pg_db_pipeline), their parameters
 * kept here until it is sent. */
struct pipeline {
	struct pg_db_stmt s[PG_PIPELINE_MAX];
	const char *what[PG_PIPELINE_MAX];
	ExecStatusType want[PG_PIPELINE_MAX];
	const char *p[PG_PIPELINE_MAX][PG_PIPELINE_PARAMS];
	size_t n;
	bool nomem, full;
};

/* Adds a statement of n parameters (at most PG_PIPELINE_PARAMS). */
static void
pipe_add(struct pipeline *q, const char *what, const char *sql, int n,
    const char *const *values, const int *lengths, const int *formats, ExecStatusType want)
{
	size_t i = q->n;

	if (i == PG_PIPELINE_MAX || n > PG_PIPELINE_PARAMS) {
		q->full = true;
		return;
	}
	for (int c = 0; c < n; c++)
		q->p[i][c] = values[c];
	q->s[i] = (struct pg_db_stmt){ sql, n, q->p[i], lengths, formats, NULL };
	q->what[i] = what;
	q->want[i] = want;
	q->n++;
}

/* Adds a statement over the leg ($1) and ncols column arrays ($2, ...). */
static void
pipe_add_cols(struct pipeline *q, const struct pg_leg *l, const char *what, const char *sql,
    struct pg_buf *cols, int ncols, ExecStatusType want)
{
	const char *p[PG_PIPELINE_PARAMS] = { l->code };

	if (ncols + 1 > PG_PIPELINE_PARAMS) {
		q->full = true;
		return;
	}
	for (int c = 0; c < ncols; c++)
		if ((p[c + 1] = pg_arr_end(&cols[c])) == NULL)
			q->nomem = true;
	pipe_add(q, what, sql, ncols + 1, p, NULL, NULL, want);
}

/* The results, freed. */
static void
pipe_clear(struct pipeline *q)
{
	for (size_t i = 0; i < q->n; i++) {
		PQclear(q->s[i].res);
		q->s[i].res = NULL;
	}
	q->n = 0;
}

/* Keeps the first failure of the transaction: err, and res's SQLSTATE. */
static void
leg_failed(struct pg_leg *l, const struct store_error *err, const PGresult *res)
{
	const char *state;

	if (l->err.kind != STORE_OK)
		return;
	l->err = *err;
	state = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	snprintf(l->sqlstate, sizeof l->sqlstate, "%s", state != NULL ? state : "");
}

int
pg_leg_pipeline(struct pg_leg *l, struct pg_db_stmt *s, const char *const *what,
    const ExecStatusType *want, size_t n)
{
	struct store_error err;

	if (n == 0)
		return 0;
	if (pg_db_conn(l->db) == NULL) {
		pg_leg_fail(l, STORE_RETRYABLE, "not connected to postgresql");
		return -1;
	}
	if (pg_db_pipeline(l->db, s, n, &err) == -1) {
		leg_failed(l, &err, NULL);
		return -1;
	}
	/* the first failure is the one to tell: the ones after it were not run */
	for (size_t i = 0; i < n; i++)
		if (pg_db_check(l->db, s[i].res, want[i], what[i], &err) == -1) {
			leg_failed(l, &err, s[i].res);
			return -1;
		}
	return 0;
}

/* Runs q's statements in one round trip: 0 with every result as wanted
 * (the caller's, in q, until pipe_clear), or -1 with l->err. */
static int
pipe_run(struct pg_leg *l, struct pipeline *q)
{
	if (q->nomem || q->full) {
		pg_leg_fail(l, STORE_RETRYABLE, q->nomem ? "out of memory" :
		    "more statements than a pipeline holds");
		return -1;
	}
	return pg_leg_pipeline(l, q->s, q->what, q->want, q->n);
}

static void
row_writes_free(struct pg_row_writes *w)
{
	for (int c = 0; c < PG_ROLLUP_PUT_COLS; c++)
		pg_arr_free(&w->put[c]);
	for (int c = 0; c < PG_ROLLUP_DEL_COLS; c++)
		pg_arr_free(&w->del[c]);
	w->nput = w->ndel = 0;
}

/* The writes waiting, forgotten (sent, or a failed transaction's). */
static void
writes_forget(struct pg_leg *l)
{
	for (int c = 0; c < PG_TRAV_PUT_COLS; c++)
		pg_arr_free(&l->tw.put[c]);
	for (int c = 0; c < PG_TRAV_DEL_COLS; c++)
		pg_arr_free(&l->tw.del[c]);
	l->tw.nput = l->tw.ndel = 0;
	for (int t = 0; t < PG_ROLLUP_TABLES; t++)
		row_writes_free(&l->ahead.rw[t]);
	row_writes_free(&l->ahead.cw);
}

static bool
writes_waiting(const struct pg_leg *l)
{
	bool any = l->tw.nput > 0 || l->tw.ndel > 0 || l->ahead.cw.nput > 0 ||
	    l->ahead.cw.ndel > 0;

	for (int t = 0; t < PG_ROLLUP_TABLES; t++)
		any = any || l->ahead.rw[t].nput > 0 || l->ahead.rw[t].ndel > 0;
	return any;
}

static const char trav_del_sql[] = "DELETE FROM traversals WHERE leg = $1"
    " AND (unit, direction, enter_time_ms) IN"
    " (SELECT * FROM unnest($2::text[], $3::text[], $4::bigint[]))";
static const char trav_put_sql[] = "INSERT INTO traversals (leg, unit, direction,"
    " enter_time_ms, exit_time_ms, duration_ms, carrier, teu, containers, gross_kg, train_id,"
    " vessel_call, plan_ms, eta_n, eta_err_ms) SELECT $1, * FROM unnest($2::text[],"
    " $3::text[], $4::bigint[], $5::bigint[], $6::bigint[], $7::text[], $8::bigint[],"
    " $9::bigint[], $10::bigint[], $11::text[], $12::text[], $13::bigint[],"
    " $14::bigint[], $15::bigint[])"
    " ON CONFLICT (leg, unit, direction, enter_time_ms) DO UPDATE SET"
    " exit_time_ms = excluded.exit_time_ms, duration_ms = excluded.duration_ms,"
    " carrier = excluded.carrier, teu = excluded.teu, containers = excluded.containers,"
    " gross_kg = excluded.gross_kg, train_id = excluded.train_id,"
    " vessel_call = excluded.vessel_call, plan_ms = excluded.plan_ms,"
    " eta_n = excluded.eta_n, eta_err_ms = excluded.eta_err_ms";

/* A rollup table's writes waiting, as column arrays (see struct
 * pg_row_writes for the columns). */
static const char *const rollup_del_sql[PG_ROLLUP_TABLES] = {
	[RT_TRANSIT] = "DELETE FROM transit_hourly WHERE leg = $1"
	    " AND (hour_ms, direction, carrier) IN"
	    " (SELECT * FROM unnest($2::bigint[], $3::text[], $4::text[]))",
	[RT_VOLUME] = "DELETE FROM volume_hourly WHERE leg = $1"
	    " AND (hour_ms, direction, carrier) IN"
	    " (SELECT * FROM unnest($2::bigint[], $3::text[], $4::text[]))",
	[RT_QUALITY] = "DELETE FROM quality_hourly WHERE leg = $1 AND (hour_ms, carrier) IN"
	    " (SELECT * FROM unnest($2::bigint[], $3::text[]))",
};
static const char *const rollup_put_sql[PG_ROLLUP_TABLES] = {
	[RT_TRANSIT] = "INSERT INTO transit_hourly (leg, hour_ms, direction, carrier, n,"
	    " sum_ms, min_ms, max_ms, on_time, planned, on_plan, eta_n, eta_err_ms, teu,"
	    " containers, gross_kg, hist) SELECT $1, * FROM unnest($2::bigint[], $3::text[],"
	    " $4::text[], $5::bigint[], $6::bigint[], $7::bigint[], $8::bigint[], $9::bigint[],"
	    " $10::bigint[], $11::bigint[], $12::bigint[], $13::bigint[], $14::bigint[],"
	    " $15::bigint[], $16::bigint[], $17::bytea[])"
	    " ON CONFLICT (leg, hour_ms, direction, carrier) DO UPDATE SET n = excluded.n,"
	    " sum_ms = excluded.sum_ms, min_ms = excluded.min_ms, max_ms = excluded.max_ms,"
	    " on_time = excluded.on_time, planned = excluded.planned,"
	    " on_plan = excluded.on_plan, eta_n = excluded.eta_n,"
	    " eta_err_ms = excluded.eta_err_ms, teu = excluded.teu,"
	    " containers = excluded.containers, gross_kg = excluded.gross_kg,"
	    " hist = excluded.hist",
	[RT_VOLUME] = "INSERT INTO volume_hourly (leg, hour_ms, direction, carrier, units,"
	    " teu, containers, gross_kg) SELECT $1, * FROM unnest($2::bigint[], $3::text[],"
	    " $4::text[], $5::bigint[], $6::bigint[], $7::bigint[], $8::bigint[])"
	    " ON CONFLICT (leg, hour_ms, direction, carrier) DO UPDATE SET"
	    " units = excluded.units, teu = excluded.teu, containers = excluded.containers,"
	    " gross_kg = excluded.gross_kg",
	[RT_QUALITY] = "INSERT INTO quality_hourly (leg, hour_ms, carrier, updates,"
	    " lag_sum_ms, lag_max_ms, lag_hist, duplicates, retractions, out_of_order,"
	    " lag_n, pln_est) SELECT $1, * FROM unnest($2::bigint[], $3::text[], $4::bigint[],"
	    " $5::bigint[], $6::bigint[], $7::bytea[], $8::bigint[], $9::bigint[],"
	    " $10::bigint[], $11::bigint[], $12::bigint[])"
	    " ON CONFLICT (leg, hour_ms, carrier) DO UPDATE SET updates = excluded.updates,"
	    " lag_sum_ms = excluded.lag_sum_ms, lag_max_ms = excluded.lag_max_ms,"
	    " lag_hist = excluded.lag_hist, duplicates = excluded.duplicates,"
	    " retractions = excluded.retractions, out_of_order = excluded.out_of_order,"
	    " lag_n = excluded.lag_n, pln_est = excluded.pln_est",
};
static const int rollup_put_cols[PG_ROLLUP_TABLES] = {
	[RT_TRANSIT] = 16, [RT_VOLUME] = 7, [RT_QUALITY] = 11,
};
static const int rollup_key_cols[PG_ROLLUP_TABLES] = {
	[RT_TRANSIT] = 3, [RT_VOLUME] = 3, [RT_QUALITY] = 2,
};
static const char conv_del_sql[] = "DELETE FROM conveyances WHERE leg = $1"
    " AND (kind, ident, direction) IN (SELECT * FROM unnest($2::text[], $3::text[], $4::text[]))";
static const char conv_put_sql[] = "INSERT INTO conveyances (leg, kind, ident, direction,"
    " first_enter_ms, carrier, units) SELECT $1, * FROM unnest($2::text[], $3::text[],"
    " $4::text[], $5::bigint[], $6::text[], $7::bigint[])"
    " ON CONFLICT (leg, kind, ident, direction) DO UPDATE SET"
    " first_enter_ms = excluded.first_enter_ms, carrier = excluded.carrier,"
    " units = excluded.units";

/* Adds the writes waiting to q, in an order that keeps their meaning: a
 * traversal's delete waits only for an upsert of another one (see
 * op_delete_traversal), and a rollup or conveyance row waits once. */
static void
writes_add(struct pg_leg *l, struct pipeline *q)
{
	struct pg_ahead *a = &l->ahead;

	if (l->tw.ndel > 0)
		pipe_add_cols(q, l, "deleting traversals", trav_del_sql, l->tw.del,
		    PG_TRAV_DEL_COLS, PGRES_COMMAND_OK);
	if (l->tw.nput > 0)
		pipe_add_cols(q, l, "storing traversals", trav_put_sql, l->tw.put,
		    PG_TRAV_PUT_COLS, PGRES_COMMAND_OK);
	for (int t = 0; t < PG_ROLLUP_TABLES; t++) {
		if (a->rw[t].ndel > 0)
			pipe_add_cols(q, l, "deleting rollup rows", rollup_del_sql[t], a->rw[t].del,
			    rollup_key_cols[t], PGRES_COMMAND_OK);
		if (a->rw[t].nput > 0)
			pipe_add_cols(q, l, "storing rollup rows", rollup_put_sql[t], a->rw[t].put,
			    rollup_put_cols[t], PGRES_COMMAND_OK);
	}
	if (a->cw.ndel > 0)
		pipe_add_cols(q, l, "deleting conveyances", conv_del_sql, a->cw.del,
		    PG_CONV_DEL_COLS, PGRES_COMMAND_OK);
	if (a->cw.nput > 0)
		pipe_add_cols(q, l, "storing conveyances", conv_put_sql, a->cw.put,
		    PG_CONV_PUT_COLS, PGRES_COMMAND_OK);
}

int
pg_writes_flush(struct pg_leg *l, bool commit)
{
	struct pipeline q = { .n = 0 };
	int rc;

	writes_add(l, &q);
	if (commit)
		pipe_add(&q, "committing", "COMMIT", 0, NULL, NULL, NULL, PGRES_COMMAND_OK);
	rc = pipe_run(l, &q);
	pipe_clear(&q);
	writes_forget(l);
	return rc;
}

/* An op that reads traversals, rollups or conveyances: the waiting writes
 * first. */
static int
flushed(struct pg_leg *l)
{
	return pg_writes_flush(l, false) == 0 ? 0 : PG_DERIVE_FAILED;
}

/* The writes waiting, then one statement, in one round trip: its result
 * (status want; for rows, nfields columns), the caller's to PQclear, or
 * NULL with l->err. */
static PGresult *
exec_after_writes(struct pg_leg *l, const char *what, const char *sql, int n,
    const char *const *values, const int *lengths, const int *formats, ExecStatusType want,
    int nfields)
{
	struct pipeline q = { .n = 0 };
	PGresult *res = NULL;

	if (!writes_waiting(l))
		res = pg_leg_exec(l, what, sql, n, values, lengths, formats, want);
	else {
		writes_add(l, &q);
		pipe_add(&q, what, sql, n, values, lengths, formats, want);
		if (pipe_run(l, &q) == 0) {
			res = q.s[q.n - 1].res;
			q.s[q.n - 1].res = NULL;
		}
		pipe_clear(&q);
		writes_forget(l);
	}
	if (res != NULL && want == PGRES_TUPLES_OK && PQnfields(res) != nfields) {
		PQclear(res);
		pg_leg_fail(l, STORE_CORRUPT, "a query's answer has other columns");
		return NULL;
	}
	return res;
}

/* The same, for a query. */
static PGresult *
query_after_writes(struct pg_leg *l, const char *what, const char *sql, int n,
    const char *const *values, int nfields)
{
	return exec_after_writes(l, what, sql, n, values, NULL, NULL, PGRES_TUPLES_OK, nfields);
}

/* The same, for a statement whose rows are not wanted: 0 or PG_DERIVE_FAILED. */
static int
run_after_writes(struct pg_leg *l, const char *what, const char *sql, int n,
    const char *const *values, const int *lengths, const int *formats)
{
	PGresult *res = exec_after_writes(l, what, sql, n, values, lengths, formats,
	    PGRES_COMMAND_OK, 0);

	PQclear(res);
	return res != NULL ? 0 : PG_DERIVE_FAILED;
}

/* ------------------------------------------------------------ re-pairing */

/* The event of row i, its columns from col on. */
static void
event_of(const PGresult *res, int i, int col, struct derive_event *e)
{
	*e = (struct derive_event){
		.id = pg_col_int(res, i, col, 0),
		.time_ms = pg_col_int(res, i, col + 1, 0),
		.event_code = (int)pg_col_int(res, i, col + 2, 0),
		.carrier = pg_col_text(res, i, col + 3),
		.teu = col_u32(res, i, col + 4),
		.containers = col_u32(res, i, col + 5),
		.gross_kg = col_u32(res, i, col + 6),
		.classifier = (int)pg_col_int(res, i, col + 7, 0),
		.train = pg_col_text(res, i, col + 8),
		.vessel_imo = pg_col_text(res, i, col + 9),
		.voyage = pg_col_text(res, i, col + 10),
		.record_ms = pg_col_int(res, i, col + 11, 0),
	};
}

/* Calls fn for rows [start, start + count) of res, the events from col on. */
static int
each_event_row(struct pg_leg *l, const PGresult *res, int start, int count, int col,
    derive_event_fn fn, void *arg)
{
	int rc = 0;

	for (int i = start; i < start + count && rc == 0; i++) {
		struct derive_event e;

		event_of(res, i, col, &e);
		if (e.carrier == NULL) {
			pg_leg_fail(l, STORE_CORRUPT, "an event without a carrier");
			rc = PG_DERIVE_FAILED;
		} else
			rc = fn(arg, &e);
	}
	return rc;
}

static int
cached_cmp(const void *a, const void *b)
{
	const struct pg_cached_unit *x = a, *y = b;
	int c = strcmp(x->unit, y->unit);

	return c != 0 ? c : x->direction - y->direction;
}

static struct pg_cached_unit *
cached(struct pg_leg *l, const char *unit, const char *direction)
{
	struct pg_cached_unit key = { .unit = unit, .direction = direction[0] };

	if (l->cache.count == 0)
		return NULL;
	return bsearch(&key, l->cache.units, l->cache.count, sizeof key, cached_cmp);
}

void
pg_unit_cache_clear(struct pg_leg *l)
{
	PQclear(l->cache.res);
	free(l->cache.units);
	memset(&l->cache, 0, sizeof l->cache);
}

int
pg_unit_cache_fill(struct pg_leg *l, const struct unit_set *units, const char *first_what,
    const struct pg_db_stmt *first)
{
	struct pg_unit_cache *c = &l->cache;
	struct pg_buf names = { 0 }, dirs = { 0 };
	const char *p[3] = { l->code };
	struct pipeline q = { .n = 0 };
	int rc = -1;

	pg_unit_cache_clear(l);
	if (first != NULL)
		pipe_add(&q, first_what, first->sql, first->n, first->values, first->lengths,
		    first->formats, PGRES_COMMAND_OK);
	if (units->count == 0) {
		rc = pipe_run(l, &q);
		pipe_clear(&q);
		return rc;
	}
	if ((c->units = calloc(units->count, sizeof *c->units)) == NULL) {
		pg_leg_fail(l, STORE_RETRYABLE, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < units->count; i++)
		c->units[i] = (struct pg_cached_unit){ units->keys[i].unit,
			units->keys[i].direction[0], 0, 0 };
	qsort(c->units, units->count, sizeof *c->units, cached_cmp);
	/* each once */
	for (size_t i = 0; i < units->count; i++)
		if (c->count == 0 || cached_cmp(&c->units[c->count - 1], &c->units[i]) != 0)
			c->units[c->count++] = c->units[i];
	for (size_t i = 0; i < c->count; i++) {
		char dir[2] = { c->units[i].direction, '\0' };

		pg_arr_add(&names, c->units[i].unit);
		pg_arr_add(&dirs, dir);
	}
	if ((p[1] = pg_arr_end(&names)) == NULL || (p[2] = pg_arr_end(&dirs)) == NULL) {
		pg_leg_fail(l, STORE_RETRYABLE, "out of memory");
		goto done;
	}
	/* unit_events' rows of every unit, each unit's together (equal texts
	 * sort next to each other whatever the collation) */
	pipe_add(&q, "reading the batch's units' events",
	    "SELECT unit, direction, id, event_time_ms, event_code, carrier, unit_teu,"
	    " unit_containers, gross_kg, classifier, train_id, vessel_imo, voyage, record_time_ms"
	    " FROM events WHERE leg = $1 AND (unit, direction) IN"
	    " (SELECT * FROM unnest($2::text[], $3::text[])) AND retracted = 0"
	    " ORDER BY unit, direction, event_time_ms, id", 3, p, NULL, NULL, PGRES_TUPLES_OK);
	if (pipe_run(l, &q) != 0)
		goto done;
	c->res = q.s[q.n - 1].res;
	q.s[q.n - 1].res = NULL;
	if (PQnfields(c->res) != 14) {
		pg_leg_fail(l, STORE_CORRUPT, "the batch's units' events: other columns");
		goto done;
	}
	for (int i = 0, n = PQntuples(c->res); i < n;) {
		const char *unit = pg_col_text(c->res, i, 0), *dir = pg_col_text(c->res, i, 1);
		struct pg_cached_unit *u;
		int j = i + 1;

		if (unit == NULL || dir == NULL || (u = cached(l, unit, dir)) == NULL ||
		    u->count > 0) {
			pg_leg_fail(l, STORE_CORRUPT, "the batch's units' events: not asked for");
			goto done;
		}
		while (j < n && !PQgetisnull(c->res, j, 0) &&
		    strcmp(PQgetvalue(c->res, j, 0), unit) == 0 &&
		    strcmp(PQgetvalue(c->res, j, 1), dir) == 0)
			j++;
		u->start = i;
		u->count = j - i;
		i = j;
	}
	rc = 0;
done:
	pipe_clear(&q);
	pg_arr_free(&names);
	pg_arr_free(&dirs);
	if (rc == -1)
		pg_unit_cache_clear(l);
	return rc;
}

static int
op_unit_events(void *ctx, const char *unit, const char *direction, derive_event_fn fn,
    void *arg)
{
	struct pg_leg *l = ctx;
	const char *p[3] = { l->code, unit, direction };
	struct pg_cached_unit *u;
	PGresult *res;
	int rc;

	if ((u = cached(l, unit, direction)) != NULL)
		return each_event_row(l, l->cache.res, u->start, u->count, 2, fn, arg);
	res = query(l, "reading a unit's events",
	    "SELECT id, event_time_ms, event_code, carrier, unit_teu, unit_containers, gross_kg,"
	    " classifier, train_id, vessel_imo, voyage, record_time_ms FROM events"
	    " WHERE leg = $1 AND unit = $2 AND direction = $3 AND retracted = 0"
	    " ORDER BY event_time_ms, id", 3, p, 12);
	if (res == NULL)
		return PG_DERIVE_FAILED;
	rc = each_event_row(l, res, 0, PQntuples(res), 0, fn, arg);
	PQclear(res);
	return rc;
}

static int
op_unit_traversals(void *ctx, const char *unit, const char *direction, derive_traversal_fn fn,
    void *arg)
{
	struct pg_leg *l = ctx;
	const char *p[3] = { l->code, unit, direction };
	PGresult *res;
	int rc = 0;

	res = query_after_writes(l, "reading a unit's traversals",
	    "SELECT enter_time_ms, exit_time_ms, carrier, teu, containers, gross_kg, train_id,"
	    " vessel_call, plan_ms, eta_n, eta_err_ms FROM traversals"
	    " WHERE leg = $1 AND unit = $2 AND direction = $3 ORDER BY enter_time_ms", 3, p, 11);
	if (res == NULL)
		return PG_DERIVE_FAILED;
	for (int i = 0; i < PQntuples(res) && rc == 0; i++) {
		struct traversal t = {
			.enter_ms = pg_col_int(res, i, 0, 0),
			.exit_ms = pg_col_int(res, i, 1, -1),
			.carrier = pg_col_text(res, i, 2),
			.teu = col_u32(res, i, 3),
			.containers = col_u32(res, i, 4),
			.gross_kg = col_u32(res, i, 5),
			.train = pg_col_text(res, i, 6),
			.vessel = pg_col_text(res, i, 7),
			.plan_ms = pg_col_int(res, i, 8, -1),
			.eta_n = col_u32(res, i, 9),
			.eta_err_ms = pg_col_int(res, i, 10, 0),
		};

		if (t.carrier == NULL) {
			pg_leg_fail(l, STORE_CORRUPT, "a traversal without a carrier");
			rc = PG_DERIVE_FAILED;
		} else
			rc = fn(arg, &t);
	}
	PQclear(res);
	return rc;
}

static int
op_put_traversal(void *ctx, const char *unit, const char *direction, const struct traversal *t)
{
	struct pg_leg *l = ctx;
	char num[9][PG_INT_TEXT_MAX];
	const char *v[PG_TRAV_PUT_COLS] = { unit, direction, num[0],
		opt_text(num[1], t->exit_ms, t->exit_ms >= 0),
		opt_text(num[2], t->exit_ms - t->enter_ms, t->exit_ms >= 0),
		t->carrier, num[3], num[4], num[5], t->train, t->vessel,
		opt_text(num[6], t->plan_ms, t->plan_ms >= 0), num[7], num[8] };

	int_text(num[0], t->enter_ms);
	int_text(num[3], t->teu);
	int_text(num[4], t->containers);
	int_text(num[5], t->gross_kg);
	int_text(num[7], t->eta_n);
	int_text(num[8], t->eta_err_ms);
	/* the deletes waiting go first at the flush, as they came first */
	for (int c = 0; c < PG_TRAV_PUT_COLS; c++)
		pg_arr_add(&l->tw.put[c], v[c]);
	if (++l->tw.nput == PG_TRAV_PENDING_MAX)
		return flushed(l);
	return 0;
}

static int
op_delete_traversal(void *ctx, const char *unit, const char *direction, int64_t enter_ms)
{
	struct pg_leg *l = ctx;
	char num[PG_INT_TEXT_MAX];
	const char *v[PG_TRAV_DEL_COLS] = { unit, direction, num };

	/* after an upsert waiting: that one goes first */
	if (l->tw.nput > 0 && flushed(l) != 0)
		return PG_DERIVE_FAILED;
	int_text(num, enter_ms);
	for (int c = 0; c < PG_TRAV_DEL_COLS; c++)
		pg_arr_add(&l->tw.del[c], v[c]);
	if (++l->tw.ndel == PG_TRAV_PENDING_MAX)
		return flushed(l);
	return 0;
}

/* ------------------------------------------------------------ rollups */

/* The key's parameters after the leg: hour, [direction,] carrier; how many
 * parameters in all. */
static int
key_params(const struct pg_leg *l, const struct rollup_key *k, const char **p, char *hour,
    char *dir)
{
	int_text(hour, k->hour_ms);
	dir[0] = k->direction;
	dir[1] = '\0';
	p[0] = l->code;
	p[1] = hour;
	if (k->table == RT_QUALITY) {
		p[2] = k->carrier;
		return 3;
	}
	p[2] = dir;
	p[3] = k->carrier;
	return 4;
}

/* Copies the bytea (text form) of row i, column col into row's buffer. */
static int
copy_hist(struct pg_leg *l, const PGresult *res, int i, int col, struct derive_rollup *row)
{
	const char *text = pg_col_text(res, i, col);
	unsigned char *bytes;
	size_t len = 0;

	row->hist_len = 0;
	if (text == NULL)
		return 0;
	if ((bytes = PQunescapeBytea((const unsigned char *)text, &len)) == NULL) {
		pg_leg_fail(l, STORE_RETRYABLE, "out of memory reading a histogram");
		return PG_DERIVE_FAILED;
	}
	if (len > HIST_BLOB_MAX) {
		PQfreemem(bytes);
		pg_leg_fail(l, STORE_CORRUPT, "a rollup row's histogram is too long");
		return PG_DERIVE_FAILED;
	}
	memcpy(row->hist, bytes, len);
	row->hist_len = len;
	PQfreemem(bytes);
	return 0;
}

/* A rollup row's columns, as rollup_get's and read_ahead's queries name
 * them after their first columns. */
static const char *const rollup_cols_sql[PG_ROLLUP_TABLES] = {
	[RT_TRANSIT] = "n, sum_ms, min_ms, max_ms, on_time, planned, on_plan, eta_n,"
	    " eta_err_ms, teu, containers, gross_kg, hist",
	[RT_VOLUME] = "units, teu, containers, gross_kg",
	[RT_QUALITY] = "updates, lag_sum_ms, lag_max_ms, lag_hist, duplicates, retractions,"
	    " out_of_order, lag_n, pln_est",
};
static const int rollup_nfields[PG_ROLLUP_TABLES] = {
	[RT_TRANSIT] = 13, [RT_VOLUME] = 4, [RT_QUALITY] = 9,
};

/* Row i of res, its columns (rollup_cols_sql) from col on, into row. */
static int
rollup_of(struct pg_leg *l, enum rollup_table table, const PGresult *res, int i, int col,
    struct derive_rollup *row)
{
	int rc = 0;

	switch (table) {
	case RT_TRANSIT:
		row->n = pg_col_int(res, i, col, 0);
		row->sum_ms = pg_col_int(res, i, col + 1, 0);
		row->min_ms = pg_col_int(res, i, col + 2, 0);
		row->max_ms = pg_col_int(res, i, col + 3, 0);
		row->on_time = pg_col_int(res, i, col + 4, 0);
		row->planned = pg_col_int(res, i, col + 5, 0);
		row->on_plan = pg_col_int(res, i, col + 6, 0);
		row->eta_n = pg_col_int(res, i, col + 7, 0);
		row->eta_err_ms = pg_col_int(res, i, col + 8, 0);
		row->teu = pg_col_int(res, i, col + 9, 0);
		row->containers = pg_col_int(res, i, col + 10, 0);
		row->gross_kg = pg_col_int(res, i, col + 11, 0);
		rc = copy_hist(l, res, i, col + 12, row);
		break;
	case RT_VOLUME:
		row->n = pg_col_int(res, i, col, 0);
		row->teu = pg_col_int(res, i, col + 1, 0);
		row->containers = pg_col_int(res, i, col + 2, 0);
		row->gross_kg = pg_col_int(res, i, col + 3, 0);
		break;
	case RT_QUALITY:
		row->n = pg_col_int(res, i, col, 0);
		row->lag_sum_ms = pg_col_int(res, i, col + 1, 0);
		row->lag_max_ms = pg_col_int(res, i, col + 2, 0);
		rc = copy_hist(l, res, i, col + 3, row);
		row->duplicates = pg_col_int(res, i, col + 4, 0);
		row->retractions = pg_col_int(res, i, col + 5, 0);
		row->out_of_order = pg_col_int(res, i, col + 6, 0);
		row->lag_n = pg_col_int(res, i, col + 7, 0);
		row->pln_est = pg_col_int(res, i, col + 8, 0);
		break;
	}
	return rc;
}

/* ------------------------------------------------------------ read ahead */

static int
ahead_cmp(const void *a, const void *b)
{
	const struct pg_ahead_rollup *x = a, *y = b;

	if (x->key.hour_ms != y->key.hour_ms)
		return x->key.hour_ms < y->key.hour_ms ? -1 : 1;
	if (x->key.direction != y->key.direction)
		return x->key.direction - y->key.direction;
	return strcmp(x->key.carrier, y->key.carrier);
}

static int
ahead_conv_cmp(const void *a, const void *b)
{
	const struct pg_ahead_conv *x = a, *y = b;

	if (x->kind != y->kind)
		return x->kind - y->kind;
	if (x->direction != y->direction)
		return x->direction - y->direction;
	return strcmp(x->ident, y->ident);
}

/* What read_ahead read, forgotten (not the writes waiting). */
static void
ahead_clear(struct pg_leg *l)
{
	struct pg_ahead *a = &l->ahead;

	for (int t = 0; t < PG_ROLLUP_TABLES; t++) {
		PQclear(a->res[t]);
		a->res[t] = NULL;
		free(a->keys[t]);
		a->keys[t] = NULL;
		a->nkeys[t] = 0;
	}
	for (int r = 0; r < PG_CONV_READS; r++) {
		PQclear(a->conv_res[r]);
		a->conv_res[r] = NULL;
	}
	for (size_t i = 0; i < a->nconv; i++)
		free(a->conv[i].ident);
	free(a->conv);
	a->conv = NULL;
	a->nconv = 0;
}

void
pg_writes_drop(struct pg_leg *l)
{
	writes_forget(l);
	ahead_clear(l);
}

/* k's entry of what was read ahead, NULL: not read ahead. */
static struct pg_ahead_rollup *
ahead_rollup(struct pg_leg *l, const struct rollup_key *k)
{
	struct pg_ahead_rollup key = { .key = *k };
	const struct pg_ahead *a = &l->ahead;

	if (a->nkeys[k->table] == 0)
		return NULL;
	return bsearch(&key, a->keys[k->table], a->nkeys[k->table], sizeof key, ahead_cmp);
}

static struct pg_ahead_conv *
ahead_conv(struct pg_leg *l, const struct conveyance_key *c)
{
	struct pg_ahead_conv key = { .kind = c->kind, .direction = c->direction,
		.ident = c->ident };

	if (l->ahead.nconv == 0)
		return NULL;
	return bsearch(&key, l->ahead.conv, l->ahead.nconv, sizeof key, ahead_conv_cmp);
}

/* The stored rows of keys that exist, each with its key's place (1 on)
 * first: one statement per table. */
static const char *const ahead_sql[PG_ROLLUP_TABLES] = {
	[RT_TRANSIT] = "SELECT k.i, t.n, t.sum_ms, t.min_ms, t.max_ms, t.on_time, t.planned,"
	    " t.on_plan, t.eta_n, t.eta_err_ms, t.teu, t.containers, t.gross_kg, t.hist"
	    " FROM unnest($2::bigint[], $3::text[], $4::text[]) WITH ORDINALITY"
	    " AS k (hour_ms, direction, carrier, i) JOIN transit_hourly t ON t.leg = $1"
	    " AND t.hour_ms = k.hour_ms AND t.direction = k.direction AND t.carrier = k.carrier",
	[RT_VOLUME] = "SELECT k.i, t.units, t.teu, t.containers, t.gross_kg"
	    " FROM unnest($2::bigint[], $3::text[], $4::text[]) WITH ORDINALITY"
	    " AS k (hour_ms, direction, carrier, i) JOIN volume_hourly t ON t.leg = $1"
	    " AND t.hour_ms = k.hour_ms AND t.direction = k.direction AND t.carrier = k.carrier",
	[RT_QUALITY] = "SELECT k.i, t.updates, t.lag_sum_ms, t.lag_max_ms, t.lag_hist,"
	    " t.duplicates, t.retractions, t.out_of_order, t.lag_n, t.pln_est"
	    " FROM unnest($2::bigint[], $3::text[]) WITH ORDINALITY AS k (hour_ms, carrier, i)"
	    " JOIN quality_hourly t ON t.leg = $1 AND t.hour_ms = k.hour_ms"
	    " AND t.carrier = k.carrier",
};

/* count_conveyance's answer for each train (first) and vessel call
 * (second) asked, with the place (0 on) of its entry first; one row each. */
static const char *const ahead_conv_sql[PG_CONV_READS] = {
	"SELECT k.i, c.* FROM unnest($2::bigint[], $3::text[], $4::text[])"
	" AS k (i, ident, direction) CROSS JOIN LATERAL (SELECT count(*), min(enter_time_ms),"
	" (array_agg(carrier ORDER BY enter_time_ms, unit COLLATE \"C\"))[1] FROM traversals t"
	" WHERE t.leg = $1 AND t.train_id = k.ident AND t.direction = k.direction) AS c",
	"SELECT k.i, c.* FROM unnest($2::bigint[], $3::text[], $4::text[])"
	" AS k (i, ident, direction) CROSS JOIN LATERAL (SELECT count(*), min(enter_time_ms),"
	" (array_agg(carrier ORDER BY enter_time_ms, unit COLLATE \"C\"))[1] FROM traversals t"
	" WHERE t.leg = $1 AND t.vessel_call = k.ident AND t.direction = k.direction) AS c",
};
#define PG_CONV_FIELDS 4

/* Puts the rows of res (read ahead for table t) with their entries. */
static int
ahead_take(struct pg_leg *l, enum rollup_table t)
{
	struct pg_ahead *a = &l->ahead;
	const PGresult *res = a->res[t];

	if (PQnfields(res) != rollup_nfields[t] + 1) {
		pg_leg_fail(l, STORE_CORRUPT, "rollup rows read ahead: other columns");
		return -1;
	}
	for (int r = 0; r < PQntuples(res); r++) {
		int64_t i = pg_col_int(res, r, 0, 0);

		if (i < 1 || (size_t)i > a->nkeys[t] || a->keys[t][i - 1].row != -1) {
			pg_leg_fail(l, STORE_CORRUPT, "rollup rows read ahead: not asked for");
			return -1;
		}
		a->keys[t][i - 1].row = r;
	}
	qsort(a->keys[t], a->nkeys[t], sizeof a->keys[t][0], ahead_cmp);
	return 0;
}

static int
ahead_take_conv(struct pg_leg *l, int which)
{
	struct pg_ahead *a = &l->ahead;
	const PGresult *res = a->conv_res[which];

	if (PQnfields(res) != PG_CONV_FIELDS) {
		pg_leg_fail(l, STORE_CORRUPT, "conveyances counted ahead: other columns");
		return -1;
	}
	for (int r = 0; r < PQntuples(res); r++) {
		int64_t i = pg_col_int(res, r, 0, -1);

		if (i < 0 || (size_t)i >= a->nconv || a->conv[i].res != which ||
		    a->conv[i].row != -1) {
			pg_leg_fail(l, STORE_CORRUPT, "conveyances counted ahead: not asked for");
			return -1;
		}
		a->conv[i].row = r;
	}
	return 0;
}

/* The rollup rows and conveyance counts derive_flush will ask for, in one
 * round trip with the writes waiting (which they must see). */
static int
op_read_ahead(void *ctx, const struct rollup_key *keys, size_t n,
    const struct conveyance_key *conv, size_t nconv)
{
	struct pg_leg *l = ctx;
	struct pg_ahead *a = &l->ahead;
	struct pg_buf cols[PG_ROLLUP_TABLES][PG_ROLLUP_DEL_COLS] = { 0 };
	struct pg_buf ccols[PG_CONV_READS][PG_CONV_DEL_COLS] = { 0 };
	size_t at[PG_ROLLUP_TABLES], conv_at[PG_CONV_READS], counts[PG_ROLLUP_TABLES] = { 0 };
	struct pipeline q = { .n = 0 };
	int rc = -1;

	ahead_clear(l);
	for (size_t i = 0; i < n; i++)
		counts[keys[i].table]++;
	for (int t = 0; t < PG_ROLLUP_TABLES; t++)
		if (counts[t] > 0 && (a->keys[t] = calloc(counts[t], sizeof *a->keys[t])) == NULL)
			goto nomem;
	if (nconv > 0 && (a->conv = calloc(nconv, sizeof *a->conv)) == NULL)
		goto nomem;
	for (size_t i = 0; i < n; i++) {
		const struct rollup_key *k = &keys[i];
		struct pg_buf *c = cols[k->table];
		char hour[PG_INT_TEXT_MAX], dir[2] = { k->direction, '\0' };

		a->keys[k->table][a->nkeys[k->table]++] =
		    (struct pg_ahead_rollup){ .key = *k, .row = -1 };
		int_text(hour, k->hour_ms);
		pg_arr_add(&c[0], hour);
		if (k->table != RT_QUALITY)
			pg_arr_add(&c[1], dir);
		pg_arr_add(&c[rollup_key_cols[k->table] - 1], k->carrier);
	}
	for (size_t i = 0; i < nconv; i++) {
		int which = conv[i].kind == 'T' ? 0 : 1;
		char num[PG_INT_TEXT_MAX], dir[2] = { conv[i].direction, '\0' };

		a->conv[i] = (struct pg_ahead_conv){ .kind = conv[i].kind,
			.direction = conv[i].direction, .ident = strdup(conv[i].ident),
			.res = which, .row = -1 };
		a->nconv++;
		if (a->conv[i].ident == NULL)
			goto nomem;
		int_text(num, (int64_t)i);
		pg_arr_add(&ccols[which][0], num);
		pg_arr_add(&ccols[which][1], conv[i].ident);
		pg_arr_add(&ccols[which][2], dir);
	}
	writes_add(l, &q);
	for (int t = 0; t < PG_ROLLUP_TABLES; t++) {
		at[t] = q.n;
		if (a->nkeys[t] > 0)
			pipe_add_cols(&q, l, "reading rollup rows ahead", ahead_sql[t], cols[t],
			    rollup_key_cols[t], PGRES_TUPLES_OK);
	}
	for (int w = 0; w < PG_CONV_READS; w++) {
		conv_at[w] = q.n;
		if (ccols[w][0].count > 0)
			pipe_add_cols(&q, l, "counting conveyances ahead", ahead_conv_sql[w],
			    ccols[w], PG_CONV_DEL_COLS, PGRES_TUPLES_OK);
	}
	if (pipe_run(l, &q) != 0)
		goto done;
	for (int t = 0; t < PG_ROLLUP_TABLES; t++)
		if (a->nkeys[t] > 0) {
			a->res[t] = q.s[at[t]].res;
			q.s[at[t]].res = NULL;
			if (ahead_take(l, (enum rollup_table)t) == -1)
				goto done;
		}
	for (int w = 0; w < PG_CONV_READS; w++)
		if (ccols[w][0].count > 0) {
			a->conv_res[w] = q.s[conv_at[w]].res;
			q.s[conv_at[w]].res = NULL;
			if (ahead_take_conv(l, w) == -1)
				goto done;
		}
	/* every conveyance has its row: an aggregate answers even for none */
	for (size_t i = 0; i < a->nconv; i++)
		if (a->conv[i].row == -1) {
			pg_leg_fail(l, STORE_CORRUPT, "conveyances counted ahead: one missing");
			goto done;
		}
	if (a->nconv > 0)
		qsort(a->conv, a->nconv, sizeof a->conv[0], ahead_conv_cmp);
	rc = 0;
	goto done;
nomem:
	pg_leg_fail(l, STORE_RETRYABLE, "out of memory");
done:
	pipe_clear(&q);
	writes_forget(l);
	for (int t = 0; t < PG_ROLLUP_TABLES; t++)
		for (int c = 0; c < PG_ROLLUP_DEL_COLS; c++)
			pg_arr_free(&cols[t][c]);
	for (int w = 0; w < PG_CONV_READS; w++)
		for (int c = 0; c < PG_CONV_DEL_COLS; c++)
			pg_arr_free(&ccols[w][c]);
	if (rc != 0) {
		ahead_clear(l);
		return PG_DERIVE_FAILED;
	}
	return 0;
}

/* ------------------------------------------------------------ rollup ops */

static int
op_rollup_get(void *ctx, const struct rollup_key *k, struct derive_rollup *row, bool *found)
{
	struct pg_leg *l = ctx;
	struct pg_ahead_rollup *e = ahead_rollup(l, k);
	char sql[PG_ROLLUP_SQL_MAX], hour[PG_INT_TEXT_MAX], dir[2];
	const char *p[4];
	int n, rc;
	PGresult *res;

	*found = false;
	if (e != NULL && !e->written) {
		if (e->row < 0)
			return 0;
		*found = true;
		return rollup_of(l, k->table, l->ahead.res[k->table], e->row, 1, row);
	}
	/* not read ahead, or written since: the stored row, after the writes */
	n = key_params(l, k, p, hour, dir);
	snprintf(sql, sizeof sql, "SELECT %s FROM %s WHERE leg = $1 AND hour_ms = $2 AND %s",
	    rollup_cols_sql[k->table], k->table == RT_TRANSIT ? "transit_hourly" :
	    k->table == RT_VOLUME ? "volume_hourly" : "quality_hourly",
	    k->table == RT_QUALITY ? "carrier = $3" : "direction = $3 AND carrier = $4");
	if ((res = query_after_writes(l, "reading a rollup row", sql, n, p,
	    rollup_nfields[k->table])) == NULL)
		return PG_DERIVE_FAILED;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return 0;
	}
	*found = true;
	rc = rollup_of(l, k->table, res, 0, 0, row);
	PQclear(res);
	return rc;
}

/* The histogram of row as bytea's hex text into hex (PG_HIST_HEX_MAX). */
static void
hist_hex(const struct derive_rollup *row, char *hex)
{
	static const char digits[] = "0123456789abcdef";
	size_t len = row->hist != NULL && row->hist_len <= HIST_BLOB_MAX ? row->hist_len : 0;

	hex[0] = '\\';
	hex[1] = 'x';
	for (size_t i = 0; i < len; i++) {
		hex[2 + 2 * i] = digits[row->hist[i] >> 4];
		hex[3 + 2 * i] = digits[row->hist[i] & 0xf];
	}
	hex[2 + 2 * len] = '\0';
}

/* row's values after the key, as its table's upsert takes them (hist in
 * its place; the caller's text buffers num), into v; how many. */
static int
rollup_values(enum rollup_table table, const struct derive_rollup *row,
    char num[][PG_INT_TEXT_MAX], const char *hist, const char **v)
{
	int64_t x[PG_ROLLUP_PUT_COLS];
	int nx = 0, nv = 0, hist_at = -1;

	switch (table) {
	case RT_TRANSIT: {
		int64_t t[] = { row->n, row->sum_ms, row->min_ms, row->max_ms, row->on_time,
			row->planned, row->on_plan, row->eta_n, row->eta_err_ms, row->teu,
			row->containers, row->gross_kg };

		memcpy(x, t, sizeof t);
		nx = (int)(sizeof t / sizeof t[0]);
		hist_at = nx;
		break;
	}
	case RT_VOLUME: {
		int64_t t[] = { row->n, row->teu, row->containers, row->gross_kg };

		memcpy(x, t, sizeof t);
		nx = (int)(sizeof t / sizeof t[0]);
		break;
	}
	case RT_QUALITY: {
		/* updates, lag sum, lag max, [hist], duplicates, ... */
		int64_t t[] = { row->n, row->lag_sum_ms, row->lag_max_ms, row->duplicates,
			row->retractions, row->out_of_order, row->lag_n, row->pln_est };

		memcpy(x, t, sizeof t);
		nx = (int)(sizeof t / sizeof t[0]);
		hist_at = 3;
		break;
	}
	}
	for (int i = 0; i < nx; i++) {
		if (nv == hist_at)
			v[nv++] = hist;
		int_text(num[i], x[i]);
		v[nv++] = num[i];
	}
	if (nv == hist_at)
		v[nv++] = hist;
	return nv;
}

/* The most parameters a rollup row's upsert of one row has (transit's). */
#define ROLLUP_PARAMS_MAX 17

/* Stores k's row now (after the writes waiting): a row not read ahead, or
 * written twice. */
static int
rollup_put_now(struct pg_leg *l, const struct rollup_key *k, const struct derive_rollup *row)
{
	static const char *const sql[] = {
		[RT_TRANSIT] = "INSERT INTO transit_hourly (leg, hour_ms, direction, carrier, n,"
		    " sum_ms, min_ms, max_ms, on_time, planned, on_plan, eta_n, eta_err_ms, teu,"
		    " containers, gross_kg, hist) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10,"
		    " $11, $12, $13, $14, $15, $16, decode($17, 'hex'))"
		    " ON CONFLICT (leg, hour_ms, direction, carrier) DO UPDATE SET n = excluded.n,"
		    " sum_ms = excluded.sum_ms, min_ms = excluded.min_ms, max_ms = excluded.max_ms,"
		    " on_time = excluded.on_time, planned = excluded.planned,"
		    " on_plan = excluded.on_plan, eta_n = excluded.eta_n,"
		    " eta_err_ms = excluded.eta_err_ms, teu = excluded.teu,"
		    " containers = excluded.containers, gross_kg = excluded.gross_kg,"
		    " hist = excluded.hist",
		[RT_VOLUME] = "INSERT INTO volume_hourly (leg, hour_ms, direction, carrier, units,"
		    " teu, containers, gross_kg) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
		    " ON CONFLICT (leg, hour_ms, direction, carrier) DO UPDATE SET"
		    " units = excluded.units, teu = excluded.teu, containers = excluded.containers,"
		    " gross_kg = excluded.gross_kg",
		[RT_QUALITY] = "INSERT INTO quality_hourly (leg, hour_ms, carrier, updates,"
		    " lag_sum_ms, lag_max_ms, lag_hist, duplicates, retractions, out_of_order,"
		    " lag_n, pln_est) VALUES ($1, $2, $3, $4, $5, $6, decode($7, 'hex'), $8, $9,"
		    " $10, $11, $12)"
		    " ON CONFLICT (leg, hour_ms, carrier) DO UPDATE SET updates = excluded.updates,"
		    " lag_sum_ms = excluded.lag_sum_ms, lag_max_ms = excluded.lag_max_ms,"
		    " lag_hist = excluded.lag_hist, duplicates = excluded.duplicates,"
		    " retractions = excluded.retractions, out_of_order = excluded.out_of_order,"
		    " lag_n = excluded.lag_n, pln_est = excluded.pln_est",
	};
	char hour[PG_INT_TEXT_MAX], dir[2], num[PG_ROLLUP_PUT_COLS][PG_INT_TEXT_MAX];
	char hex[PG_HIST_HEX_MAX];
	const char *p[ROLLUP_PARAMS_MAX];
	int n = key_params(l, k, p, hour, dir);

	/* decode() takes the digits without the \x */
	hist_hex(row, hex);
	n += rollup_values(k->table, row, num, hex + 2, p + n);
	return run_after_writes(l, "storing a rollup row", sql[k->table], n, p, NULL, NULL);
}

static int
op_rollup_put(void *ctx, const struct rollup_key *k, const struct derive_rollup *row)
{
	struct pg_leg *l = ctx;
	struct pg_ahead_rollup *e = ahead_rollup(l, k);
	struct pg_row_writes *w = &l->ahead.rw[k->table];
	char hour[PG_INT_TEXT_MAX], dir[2] = { k->direction, '\0' };
	char num[PG_ROLLUP_PUT_COLS][PG_INT_TEXT_MAX], hex[PG_HIST_HEX_MAX];
	const char *v[PG_ROLLUP_PUT_COLS];
	int nk = rollup_key_cols[k->table], nv;

	if (e == NULL || e->written)
		return rollup_put_now(l, k, row);
	/* waits for the next read or the COMMIT, with the table's others */
	e->written = true;
	int_text(hour, k->hour_ms);
	v[0] = hour;
	if (k->table != RT_QUALITY)
		v[1] = dir;
	v[nk - 1] = k->carrier;
	hist_hex(row, hex);
	nv = nk + rollup_values(k->table, row, num, hex, v + nk);
	for (int c = 0; c < nv; c++)
		pg_arr_add(&w->put[c], v[c]);
	w->nput++;
	return 0;
}

static int
op_rollup_delete(void *ctx, const struct rollup_key *k)
{
	static const char *const sql[] = {
		[RT_TRANSIT] = "DELETE FROM transit_hourly WHERE leg = $1 AND hour_ms = $2"
		    " AND direction = $3 AND carrier = $4",
		[RT_VOLUME] = "DELETE FROM volume_hourly WHERE leg = $1 AND hour_ms = $2"
		    " AND direction = $3 AND carrier = $4",
		[RT_QUALITY] = "DELETE FROM quality_hourly WHERE leg = $1 AND hour_ms = $2"
		    " AND carrier = $3",
	};
	struct pg_leg *l = ctx;
	struct pg_ahead_rollup *e = ahead_rollup(l, k);
	struct pg_row_writes *w = &l->ahead.rw[k->table];
	char hour[PG_INT_TEXT_MAX], dir[2];
	const char *p[4];
	int n = key_params(l, k, p, hour, dir);

	if (e == NULL || e->written)
		return run_after_writes(l, "deleting a rollup row", sql[k->table], n, p, NULL,
		    NULL);
	e->written = true;
	/* the key's parameters after the leg are its delete's columns */
	for (int c = 1; c < n; c++)
		pg_arr_add(&w->del[c - 1], p[c]);
	w->ndel++;
	return 0;
}

static int
op_recount_minmax(void *ctx, const struct rollup_key *k, int64_t *min, int64_t *max)
{
	struct pg_leg *l = ctx;
	char from[PG_INT_TEXT_MAX], to[PG_INT_TEXT_MAX], dir[2] = { k->direction, '\0' };
	const char *p[5] = { l->code, from, to, dir, k->carrier };
	PGresult *res;

	int_text(from, k->hour_ms);
	int_text(to, k->hour_ms + MS_PER_HOUR_I);
	res = query_after_writes(l, "recounting a transit hour",
	    "SELECT min(duration_ms), max(duration_ms) FROM traversals WHERE leg = $1"
	    " AND exit_time_ms >= $2 AND exit_time_ms < $3 AND direction = $4 AND carrier = $5",
	    5, p, 2);
	if (res == NULL)
		return PG_DERIVE_FAILED;
	/* none: 0 and 0, as an aggregate of no rows reads in SQLite */
	*min = PQntuples(res) > 0 ? pg_col_int(res, 0, 0, 0) : 0;
	*max = PQntuples(res) > 0 ? pg_col_int(res, 0, 1, 0) : 0;
	PQclear(res);
	return 0;
}

/* count_conveyance's columns from col of row i into out. */
static void
conveyance_of(const PGresult *res, int i, int col, struct derive_conveyance *out)
{
	const char *carrier;

	memset(out, 0, sizeof *out);
	out->units = pg_col_int(res, i, col, 0);
	out->first_enter_ms = pg_col_int(res, i, col + 1, 0);
	if (out->units > 0 && (carrier = pg_col_text(res, i, col + 2)) != NULL)
		snprintf(out->carrier, sizeof out->carrier, "%s", carrier);
}

static int
op_count_conveyance(void *ctx, const struct conveyance_key *c, struct derive_conveyance *out)
{
	/* the carrier of the first traversal to enter, as SQLite's bare
	 * column beside min() gives: of traversals entering in the same
	 * millisecond, the first its index scan meets, which is the one of
	 * the smallest unit (the index ends with the primary key) */
	static const char train_sql[] = "SELECT count(*), min(enter_time_ms),"
	    " (array_agg(carrier ORDER BY enter_time_ms, unit COLLATE \"C\"))[1] FROM traversals"
	    " WHERE leg = $1 AND train_id = $2 AND direction = $3";
	static const char vessel_sql[] = "SELECT count(*), min(enter_time_ms),"
	    " (array_agg(carrier ORDER BY enter_time_ms, unit COLLATE \"C\"))[1] FROM traversals"
	    " WHERE leg = $1 AND vessel_call = $2 AND direction = $3";
	struct pg_leg *l = ctx;
	struct pg_ahead_conv *e = ahead_conv(l, c);
	char dir[2] = { c->direction, '\0' };
	const char *p[3] = { l->code, c->ident, dir };
	PGresult *res;

	if (e != NULL && !e->written) {
		conveyance_of(l->ahead.conv_res[e->res], e->row, 1, out);
		return 0;
	}
	memset(out, 0, sizeof *out);
	res = query_after_writes(l, "counting a conveyance", c->kind == 'T' ? train_sql :
	    vessel_sql, 3, p, 3);
	if (res == NULL)
		return PG_DERIVE_FAILED;
	if (PQntuples(res) > 0)
		conveyance_of(res, 0, 0, out);
	PQclear(res);
	return 0;
}

static int
op_put_conveyance(void *ctx, const struct conveyance_key *c, const struct derive_conveyance *v)
{
	struct pg_leg *l = ctx;
	struct pg_ahead_conv *e = ahead_conv(l, c);
	char dir[2] = { c->direction, '\0' }, first[PG_INT_TEXT_MAX], units[PG_INT_TEXT_MAX];
	const char *p[7] = { l->code, c->kind == 'T' ? "T" : "V", c->ident, dir, first, v->carrier,
		units };

	int_text(first, v->first_enter_ms);
	int_text(units, v->units);
	if (e == NULL || e->written)
		return run_after_writes(l, "storing a conveyance",
		    "INSERT INTO conveyances (leg, kind, ident, direction, first_enter_ms, carrier,"
		    " units) VALUES ($1, $2, $3, $4, $5, $6, $7)"
		    " ON CONFLICT (leg, kind, ident, direction) DO UPDATE SET"
		    " first_enter_ms = excluded.first_enter_ms, carrier = excluded.carrier,"
		    " units = excluded.units", 7, p, NULL, NULL);
	e->written = true;
	for (int col = 0; col < PG_CONV_PUT_COLS; col++)
		pg_arr_add(&l->ahead.cw.put[col], p[col + 1]);
	l->ahead.cw.nput++;
	return 0;
}

static int
op_delete_conveyance(void *ctx, const struct conveyance_key *c)
{
	struct pg_leg *l = ctx;
	struct pg_ahead_conv *e = ahead_conv(l, c);
	char dir[2] = { c->direction, '\0' };
	const char *p[4] = { l->code, c->kind == 'T' ? "T" : "V", c->ident, dir };

	if (e == NULL || e->written)
		return run_after_writes(l, "deleting a conveyance", "DELETE FROM conveyances"
		    " WHERE leg = $1 AND kind = $2 AND ident = $3 AND direction = $4", 4, p, NULL,
		    NULL);
	e->written = true;
	for (int col = 0; col < PG_CONV_DEL_COLS; col++)
		pg_arr_add(&l->ahead.cw.del[col], p[col + 1]);
	l->ahead.cw.ndel++;
	return 0;
}

/* ------------------------------------------------------------ re-derivation */

static int
op_clear(void *ctx)
{
	static const char *const sql[] = {
		"DELETE FROM traversals WHERE leg = $1",
		"DELETE FROM transit_hourly WHERE leg = $1",
		"DELETE FROM volume_hourly WHERE leg = $1",
		"DELETE FROM conveyances WHERE leg = $1",
		"DELETE FROM quality_hourly WHERE leg = $1",
	};
	struct pg_leg *l = ctx;
	const char *p[1] = { l->code };
	int rc = 0;

	if (flushed(l) != 0)
		return PG_DERIVE_FAILED;
	/* the rows read ahead are gone with the rest */
	ahead_clear(l);
	for (size_t i = 0; i < sizeof sql / sizeof sql[0] && rc == 0; i++)
		rc = run(l, "clearing the derived rows", sql[i], 1, p, NULL, NULL);
	return rc;
}

/* Walks the rows of select (over the leg, $1) through a cursor named name,
 * PG_DERIVE_FETCH_ROWS at a time, calling row for each; row may run other
 * statements on the connection meanwhile. */
static int
each_of(struct pg_leg *l, const char *name, const char *select, int nfields,
    int (*row)(struct pg_leg *l, const PGresult *res, int i, void *arg), void *arg)
{
	char sql[512], fetch[64], close[64];
	const char *p[1] = { l->code };
	PGresult *res;
	int rc = 0, n;

	snprintf(sql, sizeof sql, "DECLARE %s NO SCROLL CURSOR FOR %s", name, select);
	snprintf(fetch, sizeof fetch, "FETCH %d FROM %s", PG_DERIVE_FETCH_ROWS, name);
	snprintf(close, sizeof close, "CLOSE %s", name);
	if (run(l, "walking the leg", sql, 1, p, NULL, NULL) != 0)
		return PG_DERIVE_FAILED;
	do {
		if ((res = query(l, "walking the leg", fetch, 0, NULL, nfields)) == NULL)
			return PG_DERIVE_FAILED;
		n = PQntuples(res);
		for (int i = 0; i < n && rc == 0; i++)
			rc = row(l, res, i, arg);
		PQclear(res);
	} while (rc == 0 && n == PG_DERIVE_FETCH_ROWS);
	if (rc == 0)
		rc = run(l, "walking the leg", close, 0, NULL, NULL, NULL);
	return rc;
}

struct unit_cb {
	derive_unit_fn fn;
	void *arg;
};

struct event_cb {
	derive_event_fn fn;
	void *arg;
};

static int
unit_row(struct pg_leg *l, const PGresult *res, int i, void *arg)
{
	const struct unit_cb *cb = arg;
	const char *unit = pg_col_text(res, i, 0), *dir = pg_col_text(res, i, 1);

	if (unit == NULL || dir == NULL || dir[0] == '\0') {
		pg_leg_fail(l, STORE_CORRUPT, "an event without a unit or direction");
		return PG_DERIVE_FAILED;
	}
	return cb->fn(cb->arg, unit, dir);
}

static int
op_each_unit(void *ctx, derive_unit_fn fn, void *arg)
{
	struct unit_cb cb = { fn, arg };

	return each_of(ctx, "corridor_units",
	    "SELECT DISTINCT unit, direction FROM events WHERE leg = $1", 2, unit_row, &cb);
}

static int
event_row(struct pg_leg *l, const PGresult *res, int i, void *arg)
{
	const struct event_cb *cb = arg;
	const char *retracts = pg_col_text(res, i, 3);
	struct derive_event e = {
		.carrier = pg_col_text(res, i, 0),
		.record_ms = pg_col_int(res, i, 1, 0),
		.time_ms = pg_col_int(res, i, 2, 0),
		.retracts = retracts != NULL && retracts[0] == 't',
		.classifier = (int)pg_col_int(res, i, 4, 0),
	};

	if (e.carrier == NULL) {
		pg_leg_fail(l, STORE_CORRUPT, "an event without a carrier");
		return PG_DERIVE_FAILED;
	}
	return cb->fn(cb->arg, &e);
}

static int
op_each_event(void *ctx, derive_event_fn fn, void *arg)
{
	struct event_cb cb = { fn, arg };

	return each_of(ctx, "corridor_events", "SELECT carrier, record_time_ms, event_time_ms,"
	    " retracts_message_id IS NOT NULL, classifier FROM events WHERE leg = $1", 5,
	    event_row, &cb);
}

const struct derive_ops pg_derive_ops = {
	.unit_events = op_unit_events,
	.unit_traversals = op_unit_traversals,
	.put_traversal = op_put_traversal,
	.delete_traversal = op_delete_traversal,
	.rollup_get = op_rollup_get,
	.rollup_put = op_rollup_put,
	.rollup_delete = op_rollup_delete,
	.recount_minmax = op_recount_minmax,
	.count_conveyance = op_count_conveyance,
	.put_conveyance = op_put_conveyance,
	.delete_conveyance = op_delete_conveyance,
	.read_ahead = op_read_ahead,
	.clear = op_clear,
	.each_unit = op_each_unit,
	.each_event = op_each_event,
};
