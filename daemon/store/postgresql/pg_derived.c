/*
 * The PostgreSQL backend's whole read of a leg's derived rows
 * (store_derived.h): a connection of its own, one REPEATABLE READ READ ONLY
 * transaction, so every table comes from the same snapshot. The fields mean
 * what sqlite_derived.c gives (NULL times and plans as -1).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg_store.h"
#include "store_derived.h"

static const char *
col_text(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? NULL : PQgetvalue(res, row, col);
}

static int64_t
col_int(const PGresult *res, int row, int col, int64_t dflt)
{
	return PQgetisnull(res, row, col) ? dflt : strtoll(PQgetvalue(res, row, col), NULL, 10);
}

static void
traversal_row(const PGresult *res, int i, const struct store_derived_fns *fns, void *arg)
{
	struct traversal t = {
		.enter_ms = col_int(res, i, 2, 0),
		.exit_ms = col_int(res, i, 3, -1),
		.carrier = col_text(res, i, 4),
		.teu = (uint32_t)col_int(res, i, 5, 0),
		.containers = (uint32_t)col_int(res, i, 6, 0),
		.gross_kg = (uint32_t)col_int(res, i, 7, 0),
		.train = col_text(res, i, 8),
		.vessel = col_text(res, i, 9),
		.plan_ms = col_int(res, i, 10, -1),
		.eta_n = (uint32_t)col_int(res, i, 11, 0),
		.eta_err_ms = col_int(res, i, 12, 0),
	};

	fns->traversal(arg, col_text(res, i, 0), col_text(res, i, 1), &t);
}

/* A rollup row: key columns, then the values in the order of the SELECT.
 * 0, or -1 when its histogram cannot be decoded (no memory). */
static int
rollup_row(const PGresult *res, int i, enum rollup_table table,
    const struct store_derived_fns *fns, void *arg)
{
	struct rollup_key k = { .table = table, .hour_ms = col_int(res, i, 0, 0) };
	struct derive_rollup v = { 0 };
	const char *carrier;
	int c = 1;

	if (table != RT_QUALITY) {
		const char *dir = col_text(res, i, c++);

		k.direction = dir != NULL ? dir[0] : 0;
	}
	carrier = col_text(res, i, c++);
	snprintf(k.carrier, sizeof k.carrier, "%s", carrier != NULL ? carrier : "");
	v.n = col_int(res, i, c++, 0);
	if (table == RT_TRANSIT) {
		v.sum_ms = col_int(res, i, c++, 0);
		v.min_ms = col_int(res, i, c++, 0);
		v.max_ms = col_int(res, i, c++, 0);
		v.on_time = col_int(res, i, c++, 0);
		v.planned = col_int(res, i, c++, 0);
		v.on_plan = col_int(res, i, c++, 0);
		v.eta_n = col_int(res, i, c++, 0);
		v.eta_err_ms = col_int(res, i, c++, 0);
	}
	if (table != RT_QUALITY) {
		v.teu = col_int(res, i, c++, 0);
		v.containers = col_int(res, i, c++, 0);
		v.gross_kg = col_int(res, i, c++, 0);
	} else {
		v.lag_n = col_int(res, i, c++, 0);
		v.lag_sum_ms = col_int(res, i, c++, 0);
		v.lag_max_ms = col_int(res, i, c++, 0);
		v.pln_est = col_int(res, i, c++, 0);
		v.duplicates = col_int(res, i, c++, 0);
		v.retractions = col_int(res, i, c++, 0);
		v.out_of_order = col_int(res, i, c++, 0);
	}
	if (table != RT_VOLUME && !PQgetisnull(res, i, c)) {
		v.hist = PQunescapeBytea((const unsigned char *)PQgetvalue(res, i, c), &v.hist_len);
		if (v.hist == NULL)
			return -1;
	}
	fns->rollup(arg, &k, &v);
	PQfreemem(v.hist);
	return 0;
}

static void
conveyance_row(const PGresult *res, int i, const struct store_derived_fns *fns, void *arg)
{
	const char *kind = col_text(res, i, 0), *dir = col_text(res, i, 2);
	const char *carrier = col_text(res, i, 4);
	struct conveyance_key c = {
		.kind = kind != NULL ? kind[0] : 0,
		.direction = dir != NULL ? dir[0] : 0,
		.ident = (char *)col_text(res, i, 1),
	};
	struct derive_conveyance v = {
		.first_enter_ms = col_int(res, i, 3, 0),
		.units = col_int(res, i, 5, 0),
	};

	snprintf(v.carrier, sizeof v.carrier, "%s", carrier != NULL ? carrier : "");
	fns->conveyance(arg, &c, &v);
}

enum { Q_TRAVERSALS, Q_TRANSIT, Q_VOLUME, Q_QUALITY, Q_CONVEYANCES, Q_COUNT };

static const struct {
	const char *sql;
	int nfields;
} queries[Q_COUNT] = {
	[Q_TRAVERSALS] = { "SELECT unit, direction, enter_time_ms, exit_time_ms, carrier, teu,"
	    " containers, gross_kg, train_id, vessel_call, plan_ms, eta_n, eta_err_ms"
	    " FROM traversals WHERE leg = $1", 13 },
	[Q_TRANSIT] = { "SELECT hour_ms, direction, carrier, n, sum_ms, min_ms, max_ms, on_time,"
	    " planned, on_plan, eta_n, eta_err_ms, teu, containers, gross_kg, hist"
	    " FROM transit_hourly WHERE leg = $1", 16 },
	[Q_VOLUME] = { "SELECT hour_ms, direction, carrier, units, teu, containers, gross_kg"
	    " FROM volume_hourly WHERE leg = $1", 7 },
	[Q_QUALITY] = { "SELECT hour_ms, carrier, updates, lag_n, lag_sum_ms, lag_max_ms,"
	    " pln_est, duplicates, retractions, out_of_order, lag_hist FROM quality_hourly"
	    " WHERE leg = $1", 11 },
	[Q_CONVEYANCES] = { "SELECT kind, ident, direction, first_enter_ms, carrier, units"
	    " FROM conveyances WHERE leg = $1", 6 },
};

static int
read_table(struct pg_db *db, const struct leg *leg, int q, const struct store_derived_fns *fns,
    void *arg, struct store_error *err)
{
	const char *p[1] = { leg->code };
	PGresult *res;
	int rc = 0;

	res = pg_store_exec(db, "reading derived rows", queries[q].sql, 1, p, PGRES_TUPLES_OK,
	    err);
	if (res == NULL)
		return -1;
	if (PQnfields(res) != queries[q].nfields) {
		store_error_set(err, STORE_CORRUPT, "leg %s: derived rows: other columns",
		    leg->code);
		PQclear(res);
		return -1;
	}
	for (int i = 0; i < PQntuples(res) && rc == 0; i++) {
		switch (q) {
		case Q_TRAVERSALS:
			traversal_row(res, i, fns, arg);
			break;
		case Q_TRANSIT:
			rc = rollup_row(res, i, RT_TRANSIT, fns, arg);
			break;
		case Q_VOLUME:
			rc = rollup_row(res, i, RT_VOLUME, fns, arg);
			break;
		case Q_QUALITY:
			rc = rollup_row(res, i, RT_QUALITY, fns, arg);
			break;
		case Q_CONVEYANCES:
			conveyance_row(res, i, fns, arg);
			break;
		}
	}
	if (rc != 0)
		store_error_set(err, STORE_RETRYABLE, "leg %s: out of memory", leg->code);
	PQclear(res);
	return rc;
}

static int
d_read(void *store, const struct leg *leg, const struct store_derived_fns *fns, void *arg,
    struct store_error *err)
{
	const struct pg_store *s = store;
	const bool wanted[Q_COUNT] = {
		[Q_TRAVERSALS] = fns->traversal != NULL,
		[Q_TRANSIT] = fns->rollup != NULL,
		[Q_VOLUME] = fns->rollup != NULL,
		[Q_QUALITY] = fns->rollup != NULL,
		[Q_CONVEYANCES] = fns->conveyance != NULL,
	};
	struct pg_db *db;
	PGresult *res;
	int rc = -1;

	/* the writers' server, not reader_conninfo's (a standby may lag what
	 * was just written) */
	if ((db = pg_store_db(s, false, err)) == NULL)
		return -1;
	if (pg_store_ensure(s, db, err) == 0 && (res = pg_store_exec(db, "reading derived rows",
	    "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", 0, NULL, PGRES_COMMAND_OK,
	    err)) != NULL) {
		PQclear(res);
		rc = 0;
		for (int q = 0; q < Q_COUNT && rc == 0; q++)
			if (wanted[q])
				rc = read_table(db, leg, q, fns, arg, err);
		if (rc == 0)
			rc = pg_store_commit(db, "reading derived rows", err);
		else
			pg_store_rollback(db);
	}
	pg_db_free(db);
	return rc;
}

const struct store_derived_ops pg_derived_ops = { .read = d_read };
