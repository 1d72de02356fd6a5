/*
 * The SQLite backend's whole read of a leg's derived rows (store_derived.h):
 * a read-only connection of its own on the leg's file, one read
 * transaction, so every table comes from the same snapshot.
 */
#include <stdio.h>
#include <string.h>

#include "db.h"
#include "histogram.h"
#include "sqlite_store.h"
#include "store_derived.h"

static int64_t
column_opt(sqlite3_stmt *st, int col)
{
	return sqlite3_column_type(st, col) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, col);
}

static const char *
col_text(sqlite3_stmt *st, int col)
{
	return (const char *)sqlite3_column_text(st, col);
}

static void
traversal_row(sqlite3_stmt *st, const struct store_derived_fns *fns, void *arg)
{
	struct traversal t = {
		.enter_ms = sqlite3_column_int64(st, 2),
		.exit_ms = column_opt(st, 3),
		.carrier = col_text(st, 4),
		.teu = (uint32_t)sqlite3_column_int64(st, 5),
		.containers = (uint32_t)sqlite3_column_int64(st, 6),
		.gross_kg = (uint32_t)sqlite3_column_int64(st, 7),
		.train = col_text(st, 8),
		.vessel = col_text(st, 9),
		.plan_ms = column_opt(st, 10),
		.eta_n = (uint32_t)sqlite3_column_int64(st, 11),
		.eta_err_ms = sqlite3_column_int64(st, 12),
	};

	fns->traversal(arg, col_text(st, 0), col_text(st, 1), &t);
}

/* A rollup row: key columns, then the values in the order of the SELECT. */
static void
rollup_row(sqlite3_stmt *st, enum rollup_table table, const struct store_derived_fns *fns,
    void *arg)
{
	struct rollup_key k = { .table = table, .hour_ms = sqlite3_column_int64(st, 0) };
	struct derive_rollup v = { 0 };
	int c = 1;

	if (table != RT_QUALITY) {
		const char *dir = col_text(st, c++);

		k.direction = dir != NULL ? dir[0] : 0;
	}
	snprintf(k.carrier, sizeof k.carrier, "%s", col_text(st, c++));
	v.n = sqlite3_column_int64(st, c++);
	if (table == RT_TRANSIT) {
		v.sum_ms = sqlite3_column_int64(st, c++);
		v.min_ms = sqlite3_column_int64(st, c++);
		v.max_ms = sqlite3_column_int64(st, c++);
		v.on_time = sqlite3_column_int64(st, c++);
		v.planned = sqlite3_column_int64(st, c++);
		v.on_plan = sqlite3_column_int64(st, c++);
		v.eta_n = sqlite3_column_int64(st, c++);
		v.eta_err_ms = sqlite3_column_int64(st, c++);
	}
	if (table != RT_QUALITY) {
		v.teu = sqlite3_column_int64(st, c++);
		v.containers = sqlite3_column_int64(st, c++);
		v.gross_kg = sqlite3_column_int64(st, c++);
	} else {
		v.lag_n = sqlite3_column_int64(st, c++);
		v.lag_sum_ms = sqlite3_column_int64(st, c++);
		v.lag_max_ms = sqlite3_column_int64(st, c++);
		v.pln_est = sqlite3_column_int64(st, c++);
		v.duplicates = sqlite3_column_int64(st, c++);
		v.retractions = sqlite3_column_int64(st, c++);
		v.out_of_order = sqlite3_column_int64(st, c++);
	}
	if (table != RT_VOLUME) {
		v.hist = (unsigned char *)sqlite3_column_blob(st, c);
		v.hist_len = (size_t)sqlite3_column_bytes(st, c);
	}
	fns->rollup(arg, &k, &v);
}

static void
conveyance_row(sqlite3_stmt *st, const struct store_derived_fns *fns, void *arg)
{
	const char *kind = col_text(st, 0), *dir = col_text(st, 2);
	struct conveyance_key c = {
		.kind = kind != NULL ? kind[0] : 0,
		.direction = dir != NULL ? dir[0] : 0,
		.ident = (char *)col_text(st, 1),
	};
	struct derive_conveyance v = {
		.first_enter_ms = sqlite3_column_int64(st, 3),
		.units = sqlite3_column_int64(st, 5),
	};

	snprintf(v.carrier, sizeof v.carrier, "%s", col_text(st, 4));
	fns->conveyance(arg, &c, &v);
}

enum { Q_TRAVERSALS, Q_TRANSIT, Q_VOLUME, Q_QUALITY, Q_CONVEYANCES, Q_COUNT };

static const char *const q_sql[Q_COUNT] = {
	[Q_TRAVERSALS] = "SELECT unit, direction, enter_time_ms, exit_time_ms, carrier, teu,"
	    " containers, gross_kg, train_id, vessel_call, plan_ms, eta_n, eta_err_ms"
	    " FROM traversals",
	[Q_TRANSIT] = "SELECT hour_ms, direction, carrier, n, sum_ms, min_ms, max_ms, on_time,"
	    " planned, on_plan, eta_n, eta_err_ms, teu, containers, gross_kg, hist"
	    " FROM transit_hourly",
	[Q_VOLUME] = "SELECT hour_ms, direction, carrier, units, teu, containers, gross_kg"
	    " FROM volume_hourly",
	[Q_QUALITY] = "SELECT hour_ms, carrier, updates, lag_n, lag_sum_ms, lag_max_ms, pln_est,"
	    " duplicates, retractions, out_of_order, lag_hist FROM quality_hourly",
	[Q_CONVEYANCES] = "SELECT kind, ident, direction, first_enter_ms, carrier, units"
	    " FROM conveyances",
};

static int
read_table(sqlite3 *db, int q, const struct store_derived_fns *fns, void *arg)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(db, q_sql[q], -1, &st, NULL);

	while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		switch (q) {
		case Q_TRAVERSALS:
			traversal_row(st, fns, arg);
			break;
		case Q_TRANSIT:
			rollup_row(st, RT_TRANSIT, fns, arg);
			break;
		case Q_VOLUME:
			rollup_row(st, RT_VOLUME, fns, arg);
			break;
		case Q_QUALITY:
			rollup_row(st, RT_QUALITY, fns, arg);
			break;
		case Q_CONVEYANCES:
			conveyance_row(st, fns, arg);
			break;
		}
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static int
derived_read(void *store, const struct leg *leg, const struct store_derived_fns *fns, void *arg,
    struct store_error *err)
{
	char path[CONFIG_PATH_MAX + 64], msg[512];
	const bool wanted[Q_COUNT] = {
		[Q_TRAVERSALS] = fns->traversal != NULL,
		[Q_TRANSIT] = fns->rollup != NULL,
		[Q_VOLUME] = fns->rollup != NULL,
		[Q_QUALITY] = fns->rollup != NULL,
		[Q_CONVEYANCES] = fns->conveyance != NULL,
	};
	sqlite3 *db;
	int rc;

	if (sqlite_leg_path(store, leg->code, path, sizeof path) == -1) {
		store_error_set(err, STORE_UNSUPPORTED, "leg %s: path too long", leg->code);
		return -1;
	}
	if ((db = db_open_ro(path, msg, sizeof msg)) == NULL) {
		sqlite_error_text(err, SQLITE_CANTOPEN, msg);
		return -1;
	}
	rc = sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
	for (int q = 0; q < Q_COUNT && rc == SQLITE_OK; q++)
		if (wanted[q])
			rc = read_table(db, q, fns, arg);
	if (rc != SQLITE_OK)
		sqlite_error(err, db, rc, leg->code);
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	sqlite3_close(db);
	return rc == SQLITE_OK ? 0 : -1;
}

const struct store_derived_ops sqlite_derived_ops = {
	.read = derived_read,
};
