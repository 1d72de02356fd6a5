/*
 * The PostgreSQL side of store/derive.h: the row operations the shared
 * re-pairing, rollup merging and re-derivation run on, each one statement
 * over the writer's connection inside the transaction it opened (under the
 * leg's PG_STORE_LEG_LOCK, so a read-modify-write of a row is exact). Every
 * statement names the leg, which leads each key of schema/postgresql/.
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
	struct store_error err;
	const char *state;
	PGresult *res;

	if (conn == NULL) {
		pg_leg_fail(l, STORE_RETRYABLE, "not connected to postgresql");
		return NULL;
	}
	/* n < 0: one or more statements without parameters, the last one's
	 * result (a failing one stops the rest) */
	res = n < 0 ? PQexec(conn, sql) :
	    PQexecParams(conn, sql, n, NULL, values, lengths, formats, 0);
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

/* ------------------------------------------------------------ traversal writes */

void
pg_trav_writes_drop(struct pg_leg *l)
{
	for (int c = 0; c < PG_TRAV_PUT_COLS; c++)
		pg_arr_free(&l->tw.put[c]);
	for (int c = 0; c < PG_TRAV_DEL_COLS; c++)
		pg_arr_free(&l->tw.del[c]);
	l->tw.nput = l->tw.ndel = 0;
}

/* One statement of the waiting writes: the leg, then the column arrays. */
static int
trav_exec(struct pg_leg *l, const char *what, const char *sql, struct pg_buf *cols, int ncols)
{
	const char *p[PG_TRAV_PUT_COLS + 1] = { l->code };

	for (int c = 0; c < ncols; c++)
		if ((p[c + 1] = pg_arr_end(&cols[c])) == NULL) {
			pg_leg_fail(l, STORE_RETRYABLE, "out of memory");
			return -1;
		}
	return run(l, what, sql, ncols + 1, p, NULL, NULL) == 0 ? 0 : -1;
}

int
pg_trav_writes_flush(struct pg_leg *l)
{
	int rc = 0;

	if (l->tw.ndel > 0)
		rc = trav_exec(l, "deleting traversals", "DELETE FROM traversals WHERE leg = $1"
		    " AND (unit, direction, enter_time_ms) IN"
		    " (SELECT * FROM unnest($2::text[], $3::text[], $4::bigint[]))", l->tw.del,
		    PG_TRAV_DEL_COLS);
	if (rc == 0 && l->tw.nput > 0)
		rc = trav_exec(l, "storing traversals",
		    "INSERT INTO traversals (leg, unit, direction, enter_time_ms, exit_time_ms,"
		    " duration_ms, carrier, teu, containers, gross_kg, train_id, vessel_call, plan_ms,"
		    " eta_n, eta_err_ms) SELECT $1, * FROM unnest($2::text[], $3::text[],"
		    " $4::bigint[], $5::bigint[], $6::bigint[], $7::text[], $8::bigint[],"
		    " $9::bigint[], $10::bigint[], $11::text[], $12::text[], $13::bigint[],"
		    " $14::bigint[], $15::bigint[])"
		    " ON CONFLICT (leg, unit, direction, enter_time_ms) DO UPDATE SET"
		    " exit_time_ms = excluded.exit_time_ms, duration_ms = excluded.duration_ms,"
		    " carrier = excluded.carrier, teu = excluded.teu, containers = excluded.containers,"
		    " gross_kg = excluded.gross_kg, train_id = excluded.train_id,"
		    " vessel_call = excluded.vessel_call, plan_ms = excluded.plan_ms,"
		    " eta_n = excluded.eta_n, eta_err_ms = excluded.eta_err_ms", l->tw.put,
		    PG_TRAV_PUT_COLS);
	pg_trav_writes_drop(l);
	return rc;
}

/* An op that reads traversals: the waiting writes first. */
static int
flushed(struct pg_leg *l)
{
	return pg_trav_writes_flush(l) == 0 ? 0 : PG_DERIVE_FAILED;
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
pg_unit_cache_fill(struct pg_leg *l, const struct unit_set *units)
{
	struct pg_unit_cache *c = &l->cache;
	struct pg_buf names = { 0 }, dirs = { 0 };
	const char *p[3] = { l->code };
	int rc = -1;

	pg_unit_cache_clear(l);
	if (units->count == 0)
		return 0;
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
	c->res = query(l, "reading the batch's units' events",
	    "SELECT unit, direction, id, event_time_ms, event_code, carrier, unit_teu,"
	    " unit_containers, gross_kg, classifier, train_id, vessel_imo, voyage, record_time_ms"
	    " FROM events WHERE leg = $1 AND (unit, direction) IN"
	    " (SELECT * FROM unnest($2::text[], $3::text[])) AND retracted = 0"
	    " ORDER BY unit, direction, event_time_ms, id", 3, p, 14);
	if (c->res == NULL)
		goto done;
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

	if (flushed(l) != 0)
		return PG_DERIVE_FAILED;
	res = query(l, "reading a unit's traversals",
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

/* Copies the bytea (text form) of column col into row's buffer. */
static int
copy_hist(struct pg_leg *l, const PGresult *res, int col, struct derive_rollup *row)
{
	const char *text = pg_col_text(res, 0, col);
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

static int
op_rollup_get(void *ctx, const struct rollup_key *k, struct derive_rollup *row, bool *found)
{
	static const char *const sql[] = {
		[RT_TRANSIT] = "SELECT n, sum_ms, min_ms, max_ms, on_time, planned, on_plan, eta_n,"
		    " eta_err_ms, teu, containers, gross_kg, hist FROM transit_hourly"
		    " WHERE leg = $1 AND hour_ms = $2 AND direction = $3 AND carrier = $4",
		[RT_VOLUME] = "SELECT units, teu, containers, gross_kg FROM volume_hourly"
		    " WHERE leg = $1 AND hour_ms = $2 AND direction = $3 AND carrier = $4",
		[RT_QUALITY] = "SELECT updates, lag_sum_ms, lag_max_ms, lag_hist, duplicates,"
		    " retractions, out_of_order, lag_n, pln_est FROM quality_hourly"
		    " WHERE leg = $1 AND hour_ms = $2 AND carrier = $3",
	};
	static const int nfields[] = { [RT_TRANSIT] = 13, [RT_VOLUME] = 4, [RT_QUALITY] = 9 };
	struct pg_leg *l = ctx;
	char hour[PG_INT_TEXT_MAX], dir[2];
	const char *p[4];
	int n = key_params(l, k, p, hour, dir), rc = 0;
	PGresult *res;

	*found = false;
	if ((res = query(l, "reading a rollup row", sql[k->table], n, p,
	    nfields[k->table])) == NULL)
		return PG_DERIVE_FAILED;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return 0;
	}
	*found = true;
	switch (k->table) {
	case RT_TRANSIT:
		row->n = pg_col_int(res, 0, 0, 0);
		row->sum_ms = pg_col_int(res, 0, 1, 0);
		row->min_ms = pg_col_int(res, 0, 2, 0);
		row->max_ms = pg_col_int(res, 0, 3, 0);
		row->on_time = pg_col_int(res, 0, 4, 0);
		row->planned = pg_col_int(res, 0, 5, 0);
		row->on_plan = pg_col_int(res, 0, 6, 0);
		row->eta_n = pg_col_int(res, 0, 7, 0);
		row->eta_err_ms = pg_col_int(res, 0, 8, 0);
		row->teu = pg_col_int(res, 0, 9, 0);
		row->containers = pg_col_int(res, 0, 10, 0);
		row->gross_kg = pg_col_int(res, 0, 11, 0);
		rc = copy_hist(l, res, 12, row);
		break;
	case RT_VOLUME:
		row->n = pg_col_int(res, 0, 0, 0);
		row->teu = pg_col_int(res, 0, 1, 0);
		row->containers = pg_col_int(res, 0, 2, 0);
		row->gross_kg = pg_col_int(res, 0, 3, 0);
		break;
	case RT_QUALITY:
		row->n = pg_col_int(res, 0, 0, 0);
		row->lag_sum_ms = pg_col_int(res, 0, 1, 0);
		row->lag_max_ms = pg_col_int(res, 0, 2, 0);
		rc = copy_hist(l, res, 3, row);
		row->duplicates = pg_col_int(res, 0, 4, 0);
		row->retractions = pg_col_int(res, 0, 5, 0);
		row->out_of_order = pg_col_int(res, 0, 6, 0);
		row->lag_n = pg_col_int(res, 0, 7, 0);
		row->pln_est = pg_col_int(res, 0, 8, 0);
		break;
	}
	PQclear(res);
	return rc;
}

/* The most parameters a rollup row's upsert has (transit's). */
#define ROLLUP_PARAMS_MAX 17

static int
op_rollup_put(void *ctx, const struct rollup_key *k, const struct derive_rollup *row)
{
	static const char *const sql[] = {
		[RT_TRANSIT] = "INSERT INTO transit_hourly (leg, hour_ms, direction, carrier, n,"
		    " sum_ms, min_ms, max_ms, on_time, planned, on_plan, eta_n, eta_err_ms, teu,"
		    " containers, gross_kg, hist) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10,"
		    " $11, $12, $13, $14, $15, $16, $17)"
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
		    " lag_n, pln_est) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
		    " ON CONFLICT (leg, hour_ms, carrier) DO UPDATE SET updates = excluded.updates,"
		    " lag_sum_ms = excluded.lag_sum_ms, lag_max_ms = excluded.lag_max_ms,"
		    " lag_hist = excluded.lag_hist, duplicates = excluded.duplicates,"
		    " retractions = excluded.retractions, out_of_order = excluded.out_of_order,"
		    " lag_n = excluded.lag_n, pln_est = excluded.pln_est",
	};
	struct pg_leg *l = ctx;
	char hour[PG_INT_TEXT_MAX], dir[2], num[ROLLUP_PARAMS_MAX][PG_INT_TEXT_MAX];
	const char *p[ROLLUP_PARAMS_MAX];
	int lengths[ROLLUP_PARAMS_MAX] = { 0 }, formats[ROLLUP_PARAMS_MAX] = { 0 };
	int n = key_params(l, k, p, hour, dir), hist = -1;
	int64_t v[ROLLUP_PARAMS_MAX];
	int nv = 0;

	switch (k->table) {
	case RT_TRANSIT: {
		int64_t t[] = { row->n, row->sum_ms, row->min_ms, row->max_ms, row->on_time,
			row->planned, row->on_plan, row->eta_n, row->eta_err_ms, row->teu,
			row->containers, row->gross_kg };

		memcpy(v, t, sizeof t);
		nv = (int)(sizeof t / sizeof t[0]);
		hist = n + nv;
		break;
	}
	case RT_VOLUME: {
		int64_t t[] = { row->n, row->teu, row->containers, row->gross_kg };

		memcpy(v, t, sizeof t);
		nv = (int)(sizeof t / sizeof t[0]);
		break;
	}
	case RT_QUALITY: {
		/* updates, lag sum, lag max, [hist], duplicates, ... */
		int64_t t[] = { row->n, row->lag_sum_ms, row->lag_max_ms, row->duplicates,
			row->retractions, row->out_of_order, row->lag_n, row->pln_est };

		memcpy(v, t, sizeof t);
		nv = (int)(sizeof t / sizeof t[0]);
		hist = n + 3;
		break;
	}
	}
	for (int i = 0, at = n; i < nv; i++, at++) {
		if (at == hist)
			at++;
		int_text(num[at], v[i]);
		p[at] = num[at];
	}
	if (hist >= 0) {
		/* binary: the stored form as it is, empty rather than NULL */
		p[hist] = row->hist != NULL && row->hist_len > 0 ? (const char *)row->hist : "";
		lengths[hist] = row->hist != NULL ? (int)row->hist_len : 0;
		formats[hist] = 1;
	}
	return run(l, "storing a rollup row", sql[k->table], n + nv + (hist >= 0), p, lengths,
	    formats);
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
	char hour[PG_INT_TEXT_MAX], dir[2];
	const char *p[4];
	int n = key_params(l, k, p, hour, dir);

	return run(l, "deleting a rollup row", sql[k->table], n, p, NULL, NULL);
}

static int
op_recount_minmax(void *ctx, const struct rollup_key *k, int64_t *min, int64_t *max)
{
	struct pg_leg *l = ctx;
	char from[PG_INT_TEXT_MAX], to[PG_INT_TEXT_MAX], dir[2] = { k->direction, '\0' };
	const char *p[5] = { l->code, from, to, dir, k->carrier };
	PGresult *res;

	if (flushed(l) != 0)
		return PG_DERIVE_FAILED;
	int_text(from, k->hour_ms);
	int_text(to, k->hour_ms + MS_PER_HOUR_I);
	res = query(l, "recounting a transit hour",
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
	char dir[2] = { c->direction, '\0' };
	const char *p[3] = { l->code, c->ident, dir };
	const char *carrier;
	PGresult *res;

	if (flushed(l) != 0)
		return PG_DERIVE_FAILED;
	memset(out, 0, sizeof *out);
	res = query(l, "counting a conveyance", c->kind == 'T' ? train_sql : vessel_sql, 3, p, 3);
	if (res == NULL)
		return PG_DERIVE_FAILED;
	if (PQntuples(res) > 0) {
		out->units = pg_col_int(res, 0, 0, 0);
		out->first_enter_ms = pg_col_int(res, 0, 1, 0);
		if (out->units > 0 && (carrier = pg_col_text(res, 0, 2)) != NULL)
			snprintf(out->carrier, sizeof out->carrier, "%s", carrier);
	}
	PQclear(res);
	return 0;
}

static int
op_put_conveyance(void *ctx, const struct conveyance_key *c, const struct derive_conveyance *v)
{
	struct pg_leg *l = ctx;
	char dir[2] = { c->direction, '\0' }, first[PG_INT_TEXT_MAX], units[PG_INT_TEXT_MAX];
	const char *p[7] = { l->code, c->kind == 'T' ? "T" : "V", c->ident, dir, first, v->carrier,
		units };

	int_text(first, v->first_enter_ms);
	int_text(units, v->units);
	return run(l, "storing a conveyance",
	    "INSERT INTO conveyances (leg, kind, ident, direction, first_enter_ms, carrier, units)"
	    " VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (leg, kind, ident, direction)"
	    " DO UPDATE SET first_enter_ms = excluded.first_enter_ms,"
	    " carrier = excluded.carrier, units = excluded.units", 7, p, NULL, NULL);
}

static int
op_delete_conveyance(void *ctx, const struct conveyance_key *c)
{
	struct pg_leg *l = ctx;
	char dir[2] = { c->direction, '\0' };
	const char *p[4] = { l->code, c->kind == 'T' ? "T" : "V", c->ident, dir };

	return run(l, "deleting a conveyance", "DELETE FROM conveyances WHERE leg = $1"
	    " AND kind = $2 AND ident = $3 AND direction = $4", 4, p, NULL, NULL);
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
	.clear = op_clear,
	.each_unit = op_each_unit,
	.each_event = op_each_event,
};
