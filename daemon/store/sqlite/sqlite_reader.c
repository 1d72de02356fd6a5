/*
 * The SQLite backend's reader handle: one query thread's read-only
 * connections, each leg's file opened on first use, and every SELECT the
 * query commands need, each prepared once per connection and kept; see
 * store_reader.h. A statement is reset as soon as its rows are read. Inside
 * store_reader_begin/end (one query) each file touched is read in one
 * transaction: one snapshot per file, and no lock and stat of the WAL index
 * per primitive (a JOURNEYS asks for a unit's entries tens of thousands of
 * times); outside, every primitive is its own transaction. No read
 * transaction outlives the query, so WAL checkpoints are never held back by
 * an idle query thread.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "sqlite_store.h"

/* The statements on a leg's file. */
enum leg_sql {
	LS_TRANSIT_HOURS,
	LS_BY_EXIT,
	LS_LATEST_ENTRY,
	LS_ENTERED_SINCE,
	LS_OPEN,
	LS_UNIT_TRAVERSALS,
	LS_UNPAIRED,
	LS_UNIT_REPORTED,
	LS_VOLUME_HOURS,
	LS_CONVEYANCES,
	LS_HOLDS,
	LS_RELEASE,
	LS_DELAYS,
	LS_QUALITY,
	LS_COUNT
};

/* ?1 from, ?2 to, ?3 direction, ?4 carrier (NULL: any) where a filter applies. */
static const char *const leg_sql[LS_COUNT] = {
	[LS_TRANSIT_HOURS] = "SELECT n, sum_ms, min_ms, max_ms, on_time, planned, on_plan,"
	    " eta_n, eta_err_ms, teu, containers, gross_kg, hist FROM transit_hourly"
	    " WHERE hour_ms >= ?1 AND hour_ms < ?2 AND (?3 IS NULL OR direction = ?3)"
	    " AND (?4 IS NULL OR carrier = ?4)",
	[LS_BY_EXIT] = "SELECT unit, direction, carrier, enter_time_ms, exit_time_ms,"
	    " duration_ms, teu, containers, gross_kg, plan_ms, eta_n, eta_err_ms"
	    " FROM traversals INDEXED BY traversals_by_exit"
	    " WHERE exit_time_ms >= ?1 AND exit_time_ms < ?2 AND (?3 IS NULL OR direction = ?3)"
	    " AND (?4 IS NULL OR carrier = ?4)",
	[LS_LATEST_ENTRY] = "SELECT max(enter_time_ms) FROM traversals"
	    " WHERE unit = ?1 AND direction = ?2 AND enter_time_ms <= ?3",
	[LS_ENTERED_SINCE] = "SELECT 1 FROM traversals"
	    " WHERE unit = ?1 AND direction = ?2 AND enter_time_ms >= ?3 LIMIT 1",
	[LS_OPEN] = "SELECT unit, direction, carrier, enter_time_ms, teu, containers"
	    " FROM traversals INDEXED BY traversals_open WHERE exit_time_ms IS NULL"
	    " ORDER BY enter_time_ms, unit",
	[LS_UNIT_TRAVERSALS] = "SELECT direction, enter_time_ms, exit_time_ms FROM traversals"
	    " WHERE unit = ?1",
	[LS_UNPAIRED] = "SELECT e.direction, e.event_time_ms, e.event_code"
	    " FROM events AS e INDEXED BY events_by_unit WHERE e.unit = ?1 AND e.classifier = 1"
	    " AND e.retracted = 0 AND NOT EXISTS (SELECT 1 FROM traversals AS t"
	    " WHERE t.unit = e.unit AND t.direction = e.direction"
	    " AND t.exit_time_ms = e.event_time_ms) ORDER BY e.direction, e.event_time_ms",
	[LS_UNIT_REPORTED] = "SELECT 1 FROM events WHERE unit = ?1 LIMIT 1",
	[LS_VOLUME_HOURS] = "SELECT hour_ms, units, teu, containers, gross_kg"
	    " FROM volume_hourly WHERE hour_ms >= ?1 AND hour_ms < ?2"
	    " AND (?3 IS NULL OR direction = ?3) AND (?4 IS NULL OR carrier = ?4)",
	[LS_CONVEYANCES] = "SELECT first_enter_ms, kind FROM conveyances"
	    " INDEXED BY conveyances_by_time WHERE first_enter_ms >= ?1 AND first_enter_ms < ?2"
	    " AND (?3 IS NULL OR direction = ?3) AND (?4 IS NULL OR carrier = ?4)",
	/* the IN lets the planner use events_holds, whose WHERE names both codes */
	[LS_HOLDS] = "SELECT unit, direction, event_time_ms FROM events"
	    " INDEXED BY events_holds WHERE event_code IN (10, 11) AND event_code = 10"
	    " AND classifier = 1 AND retracted = 0"
	    " AND event_time_ms >= ?1 AND event_time_ms < ?2 AND (?3 IS NULL OR direction = ?3)"
	    " AND (?4 IS NULL OR carrier = ?4)",
	[LS_RELEASE] = "SELECT min(event_time_ms) FROM events"
	    " INDEXED BY events_by_unit WHERE unit = ?1 AND direction = ?2 AND event_time_ms >= ?3"
	    " AND event_code = 11 AND classifier = 1 AND retracted = 0",
	[LS_DELAYS] = "SELECT delay_reason, unit FROM events"
	    " INDEXED BY events_delayed WHERE delay_reason IS NOT NULL AND retracted = 0"
	    " AND event_time_ms >= ?1 AND event_time_ms < ?2"
	    " AND (?3 IS NULL OR direction = ?3) AND (?4 IS NULL OR carrier = ?4)",
	[LS_QUALITY] = "SELECT carrier, updates, lag_max_ms, lag_hist, duplicates, retractions,"
	    " out_of_order, lag_n, pln_est FROM quality_hourly"
	    " WHERE hour_ms >= ?1 AND hour_ms < ?2 AND (?4 IS NULL OR carrier = ?4)",
};

/* The statements on the catalog. */
enum catalog_sql {
	CS_REJECTION_COUNTS,
	CS_MARK_DUPLICATES,
	CS_CARRIER_KNOWN,
	CS_COUNT
};

static const char *const catalog_sql[CS_COUNT] = {
	[CS_REJECTION_COUNTS] = "SELECT carrier, reason, count(*) FROM rejections"
	    " WHERE recorded_ms >= ?1 AND recorded_ms < ?2 AND (?4 IS NULL OR carrier = ?4)"
	    " GROUP BY carrier, reason ORDER BY carrier, count(*) DESC, reason",
	[CS_MARK_DUPLICATES] = "SELECT carrier, sum(n) FROM duplicates_hourly"
	    " WHERE hour_ms >= ?1 AND hour_ms < ?2 AND (?4 IS NULL OR carrier = ?4)"
	    " GROUP BY carrier",
	[CS_CARRIER_KNOWN] = "SELECT 1 FROM carriers WHERE code = ?1",
};

_Static_assert((int)CS_COUNT <= (int)LS_COUNT, "a reader_db holds the catalog's statements");

/* One open file and its statements. */
struct reader_db {
	sqlite3 *db;
	char code[LEG_CODE_MAX];	/* the leg it was opened for ("" for the catalog) */
	sqlite3_stmt *st[LS_COUNT];	/* room for the catalog's too */
	sqlite3_stmt *begin, *commit;	/* the query's read transaction */
	bool in_txn;			/* begun in this query */
};

struct sqlite_reader {
	const struct sqlite_store *store;
	struct reader_db legs[LEGS_MAX];
	struct reader_db catalog;
	bool in_query;			/* between reader_begin and reader_end */
};

/* Ends d's read transaction, if the query began one. */
static void
db_end(struct reader_db *d)
{
	if (!d->in_txn)
		return;
	d->in_txn = false;
	if (sqlite3_step(d->commit) != SQLITE_DONE) {
		/* a read transaction ends whatever COMMIT says; make sure */
		sqlite3_reset(d->commit);
		if (!sqlite3_get_autocommit(d->db))
			sqlite3_exec(d->db, "ROLLBACK", NULL, NULL, NULL);
	}
	sqlite3_reset(d->commit);
}

static void
db_close(struct reader_db *d)
{
	db_end(d);
	for (size_t i = 0; i < sizeof d->st / sizeof d->st[0]; i++)
		sqlite3_finalize(d->st[i]);
	sqlite3_finalize(d->begin);
	sqlite3_finalize(d->commit);
	sqlite3_close(d->db);
	memset(d, 0, sizeof *d);
}

/* Begins d's read transaction for the query (BEGIN is deferred: the first
 * SELECT takes the snapshot). */
static int
db_begin(struct reader_db *d, const char *what, struct store_error *err)
{
	int rc;

	if (d->in_txn)
		return 0;
	if ((d->begin == NULL && (rc = sqlite3_prepare_v2(d->db, "BEGIN", -1, &d->begin,
	    NULL)) != SQLITE_OK) || (d->commit == NULL && (rc = sqlite3_prepare_v2(d->db,
	    "COMMIT", -1, &d->commit, NULL)) != SQLITE_OK)) {
		sqlite_error(err, d->db, rc, what);
		return -1;
	}
	rc = sqlite3_step(d->begin);
	sqlite3_reset(d->begin);
	if (rc != SQLITE_DONE) {
		sqlite_error(err, d->db, rc, what);
		return -1;
	}
	d->in_txn = true;
	return 0;
}

static void *
reader_open(void *store, struct store_error *err)
{
	struct sqlite_reader *r = calloc(1, sizeof *r);

	if (r == NULL) {
		store_error_set(err, STORE_RETRYABLE, "out of memory");
		return NULL;
	}
	r->store = store;
	return r;
}

static void
reader_close(void *arg)
{
	struct sqlite_reader *r = arg;

	if (r == NULL)
		return;
	for (size_t i = 0; i < LEGS_MAX; i++)
		db_close(&r->legs[i]);
	db_close(&r->catalog);
	free(r);
}

/* Opens d on path (if it is not open) and prepares sql as its statement k. */
static sqlite3_stmt *
db_stmt(struct reader_db *d, bool in_query, const char *path, const char *what, size_t k,
    const char *sql, struct store_error *err)
{
	char msg[STORE_ERROR_MAX];
	int rc;

	if (d->db == NULL && (d->db = db_open_ro(path, msg, sizeof msg)) == NULL) {
		store_error_set(err, STORE_RETRYABLE, "cannot open %s: %s", what, msg);
		return NULL;
	}
	if (d->st[k] == NULL && (rc = sqlite3_prepare_v3(d->db, sql, -1,
	    SQLITE_PREPARE_PERSISTENT, &d->st[k], NULL)) != SQLITE_OK) {
		/* a file of another layout, or damaged */
		sqlite_error(err, d->db, rc, what);
		return NULL;
	}
	if (sqlite3_stmt_busy(d->st[k])) {
		/* a row callback called the primitive it is inside of */
		store_error_set(err, STORE_UNSUPPORTED, "%s: a read re-entered itself", what);
		return NULL;
	}
	if (in_query && db_begin(d, what, err) == -1)
		return NULL;
	return d->st[k];
}

static sqlite3_stmt *
leg_stmt(struct sqlite_reader *r, size_t leg, const struct leg *l, enum leg_sql k,
    struct store_error *err)
{
	struct reader_db *d;
	char path[CONFIG_PATH_MAX + LEG_CODE_MAX + 16] = "";

	if (leg >= LEGS_MAX) {
		store_error_set(err, STORE_UNSUPPORTED, "no leg %zu", leg);
		return NULL;
	}
	d = &r->legs[leg];
	if (d->db != NULL && strcmp(d->code, l->code) != 0)
		db_close(d);	/* the index names another leg now */
	if (d->db == NULL) {
		if (sqlite_leg_path(r->store, l->code, path, sizeof path) == -1) {
			store_error_set(err, STORE_UNSUPPORTED, "leg %s: path too long", l->code);
			return NULL;
		}
		snprintf(d->code, sizeof d->code, "%s", l->code);
	}
	return db_stmt(d, r->in_query, path, l->code, (size_t)k, leg_sql[k], err);
}

static sqlite3_stmt *
catalog_stmt(struct sqlite_reader *r, enum catalog_sql k, struct store_error *err)
{
	return db_stmt(&r->catalog, r->in_query, r->store->catalog_path, "the catalog", (size_t)k,
	    catalog_sql[k], err);
}

static void
bind_filter(sqlite3_stmt *st, const struct store_filter *f)
{
	sqlite3_bind_int64(st, 1, f->from);
	sqlite3_bind_int64(st, 2, f->to);
	if (f->direction != NULL)
		sqlite3_bind_text(st, 3, f->direction, -1, SQLITE_STATIC);
	if (f->carrier != NULL)
		sqlite3_bind_text(st, 4, f->carrier, -1, SQLITE_STATIC);
}

/* The end of every read: the statement is reset for the next use; rc is the
 * last step's, stop the callback's. */
static int
done(sqlite3_stmt *st, int rc, int stop, const char *what, struct store_error *err)
{
	sqlite3 *db = sqlite3_db_handle(st);

	if (stop == 0 && rc != SQLITE_DONE && rc != SQLITE_ROW) {
		sqlite_error(err, db, rc, what);
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
		return -1;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return stop;
}

static const char *
text(sqlite3_stmt *st, int col)
{
	const char *s = (const char *)sqlite3_column_text(st, col);

	return s != NULL ? s : "";
}

static int
each_transit_hour(void *arg, size_t leg, const struct leg *l, const struct store_filter *f,
    store_transit_hour_fn fn, void *fnarg, struct store_error *err)
{
	sqlite3_stmt *st = leg_stmt(arg, leg, l, LS_TRANSIT_HOURS, err);
	int rc, stop = 0;

	if (st == NULL)
		return -1;
	bind_filter(st, f);
	while (stop == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_transit_hour h = {
			.n = sqlite3_column_int64(st, 0), .sum_ms = sqlite3_column_int64(st, 1),
			.min_ms = sqlite3_column_int64(st, 2), .max_ms = sqlite3_column_int64(st, 3),
			.on_time = sqlite3_column_int64(st, 4), .planned = sqlite3_column_int64(st, 5),
			.on_plan = sqlite3_column_int64(st, 6), .eta_n = sqlite3_column_int64(st, 7),
			.eta_err_ms = sqlite3_column_int64(st, 8), .teu = sqlite3_column_int64(st, 9),
			.containers = sqlite3_column_int64(st, 10),
			.gross_kg = sqlite3_column_int64(st, 11),
			.hist = sqlite3_column_blob(st, 12),
			.hist_len = (size_t)sqlite3_column_bytes(st, 12),
		};

		stop = fn(fnarg, &h);
	}
	return done(st, rc, stop, l->code, err);
}

static int
each_traversal_by_exit(void *arg, size_t leg, const struct leg *l, const struct store_filter *f,
    store_traversal_fn fn, void *fnarg, struct store_error *err)
{
	sqlite3_stmt *st = leg_stmt(arg, leg, l, LS_BY_EXIT, err);
	int rc, stop = 0;

	if (st == NULL)
		return -1;
	bind_filter(st, f);
	while (stop == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_traversal t = {
			.unit = text(st, 0), .direction = text(st, 1), .carrier = text(st, 2),
			.enter_ms = sqlite3_column_int64(st, 3), .exit_ms = sqlite3_column_int64(st, 4),
			.duration_ms = sqlite3_column_int64(st, 5), .teu = sqlite3_column_int64(st, 6),
			.containers = sqlite3_column_int64(st, 7),
			.gross_kg = sqlite3_column_int64(st, 8),
			.planned = sqlite3_column_type(st, 9) != SQLITE_NULL,
			.plan_ms = sqlite3_column_int64(st, 9), .eta_n = sqlite3_column_int64(st, 10),
			.eta_err_ms = sqlite3_column_int64(st, 11),
		};

		stop = fn(fnarg, &t);
	}
	return done(st, rc, stop, l->code, err);
}

/* One row of one nullable integer for (?1 unit, ?2 direction, ?3 time):
 * *out, or -1 when there is no row or it is NULL. */
static int
unit_time_value(struct sqlite_reader *r, size_t leg, const struct leg *l, enum leg_sql k,
    const char *unit, const char *direction, int64_t at_ms, int64_t *out,
    struct store_error *err)
{
	sqlite3_stmt *st = leg_stmt(r, leg, l, k, err);
	int rc;

	*out = -1;
	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, unit, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, direction, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, at_ms);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
		*out = sqlite3_column_int64(st, 0);
	return done(st, rc, 0, l->code, err);
}

static int
latest_entry(void *arg, size_t leg, const struct leg *l, const char *unit,
    const char *direction, int64_t at_ms, int64_t *enter_ms, struct store_error *err)
{
	return unit_time_value(arg, leg, l, LS_LATEST_ENTRY, unit, direction, at_ms, enter_ms,
	    err);
}

static int
entered_since(void *arg, size_t leg, const struct leg *l, const char *unit,
    const char *direction, int64_t after_ms, bool *entered, struct store_error *err)
{
	int64_t one;
	int rc = unit_time_value(arg, leg, l, LS_ENTERED_SINCE, unit, direction, after_ms, &one,
	    err);

	*entered = rc == 0 && one == 1;
	return rc;
}

static int
release_after(void *arg, size_t leg, const struct leg *l, const char *unit,
    const char *direction, int64_t at_ms, int64_t *rels_ms, struct store_error *err)
{
	return unit_time_value(arg, leg, l, LS_RELEASE, unit, direction, at_ms, rels_ms, err);
}

static int
each_open(void *arg, size_t leg, const struct leg *l, store_open_fn fn, void *fnarg,
    struct store_error *err)
{
	sqlite3_stmt *st = leg_stmt(arg, leg, l, LS_OPEN, err);
	int rc, stop = 0;

	if (st == NULL)
		return -1;
	while (stop == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_open_traversal o = {
			.unit = text(st, 0), .direction = text(st, 1), .carrier = text(st, 2),
			.enter_ms = sqlite3_column_int64(st, 3), .teu = sqlite3_column_int64(st, 4),
			.containers = sqlite3_column_int64(st, 5),
		};

		stop = fn(fnarg, &o);
	}
	return done(st, rc, stop, l->code, err);
}

static int
each_unit_traversal(void *arg, size_t leg, const struct leg *l, const char *unit,
    store_unit_traversal_fn fn, void *fnarg, struct store_error *err)
{
	sqlite3_stmt *st = leg_stmt(arg, leg, l, LS_UNIT_TRAVERSALS, err);
	int rc, stop = 0;

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, unit, -1, SQLITE_STATIC);
	while (stop == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_unit_traversal t = {
			.direction = text(st, 0), .enter_ms = sqlite3_column_int64(st, 1),
			.exit_ms = sqlite3_column_type(st, 2) == SQLITE_NULL ? -1 :
			    sqlite3_column_int64(st, 2),
		};

		stop = fn(fnarg, &t);
	}
	return done(st, rc, stop, l->code, err);
}

static int
each_unpaired_event(void *arg, size_t leg, const struct leg *l, const char *unit,
    store_unpaired_fn fn, void *fnarg, struct store_error *err)
{
	sqlite3_stmt *st = leg_stmt(arg, leg, l, LS_UNPAIRED, err);
	int rc, stop = 0;

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, unit, -1, SQLITE_STATIC);
	while (stop == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_unpaired_event e = {
			.direction = text(st, 0), .event_ms = sqlite3_column_int64(st, 1),
			.event_code = sqlite3_column_int(st, 2),
		};

		stop = fn(fnarg, &e);
	}
	return done(st, rc, stop, l->code, err);
}

/* Whether sql k with ?1 = key gives a row. */
static int
key_exists(sqlite3_stmt *st, const char *what, const char *key, bool *found,
    struct store_error *err)
{
	int rc;

	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	*found = rc == SQLITE_ROW;
	return done(st, rc, 0, what, err);
}

static int
unit_reported(void *arg, size_t leg, const struct leg *l, const char *unit, bool *reported,
    struct store_error *err)
{
	sqlite3_stmt *st = leg_stmt(arg, leg, l, LS_UNIT_REPORTED, err);

	*reported = false;
	return st == NULL ? -1 : key_exists(st, l->code, unit, reported, err);
}

static int
carrier_known(void *arg, const char *code, bool *known, struct store_error *err)
{
	sqlite3_stmt *st = catalog_stmt(arg, CS_CARRIER_KNOWN, err);

	*known = false;
	return st == NULL ? -1 : key_exists(st, "the catalog", code, known, err);
}

static int
each_volume_hour(void *arg, size_t leg, const struct leg *l, const struct store_filter *f,
    store_volume_hour_fn fn, void *fnarg, struct store_error *err)
{
	sqlite3_stmt *st = leg_stmt(arg, leg, l, LS_VOLUME_HOURS, err);
	int rc, stop = 0;

	if (st == NULL)
		return -1;
	bind_filter(st, f);
	while (stop == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_volume_hour v = {
			.hour_ms = sqlite3_column_int64(st, 0), .units = sqlite3_column_int64(st, 1),
			.teu = sqlite3_column_int64(st, 2), .containers = sqlite3_column_int64(st, 3),
			.gross_kg = sqlite3_column_int64(st, 4),
		};

		stop = fn(fnarg, &v);
	}
	return done(st, rc, stop, l->code, err);
}

static int
each_conveyance(void *arg, size_t leg, const struct leg *l, const struct store_filter *f,
    store_conveyance_fn fn, void *fnarg, struct store_error *err)
{
	sqlite3_stmt *st = leg_stmt(arg, leg, l, LS_CONVEYANCES, err);
	int rc, stop = 0;

	if (st == NULL)
		return -1;
	bind_filter(st, f);
	while (stop == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_conveyance c = {
			.first_enter_ms = sqlite3_column_int64(st, 0),
			.train = text(st, 1)[0] == 'T',
		};

		stop = fn(fnarg, &c);
	}
	return done(st, rc, stop, l->code, err);
}

static int
each_hold(void *arg, size_t leg, const struct leg *l, const struct store_filter *f,
    store_event_fn fn, void *fnarg, struct store_error *err)
{
	sqlite3_stmt *st = leg_stmt(arg, leg, l, LS_HOLDS, err);
	int rc, stop = 0;

	if (st == NULL)
		return -1;
	bind_filter(st, f);
	while (stop == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_event_ref e = {
			.unit = text(st, 0), .direction = text(st, 1),
			.event_ms = sqlite3_column_int64(st, 2),
		};

		stop = fn(fnarg, &e);
	}
	return done(st, rc, stop, l->code, err);
}

static int
each_delay(void *arg, size_t leg, const struct leg *l, const struct store_filter *f,
    store_delay_fn fn, void *fnarg, struct store_error *err)
{
	sqlite3_stmt *st = leg_stmt(arg, leg, l, LS_DELAYS, err);
	int rc, stop = 0;

	if (st == NULL)
		return -1;
	bind_filter(st, f);
	while (stop == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_delay d = { .reason = text(st, 0), .unit = text(st, 1) };

		stop = fn(fnarg, &d);
	}
	return done(st, rc, stop, l->code, err);
}

static int
each_quality_hour(void *arg, size_t leg, const struct leg *l, const struct store_filter *f,
    store_quality_hour_fn fn, void *fnarg, struct store_error *err)
{
	sqlite3_stmt *st = leg_stmt(arg, leg, l, LS_QUALITY, err);
	int rc, stop = 0;

	if (st == NULL)
		return -1;
	bind_filter(st, f);
	while (stop == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_quality_hour q = {
			.carrier = text(st, 0), .updates = sqlite3_column_int64(st, 1),
			.lag_max_ms = sqlite3_column_int64(st, 2),
			.lag = sqlite3_column_blob(st, 3), .lag_len = (size_t)sqlite3_column_bytes(st, 3),
			.duplicates = sqlite3_column_int64(st, 4),
			.retractions = sqlite3_column_int64(st, 5),
			.out_of_order = sqlite3_column_int64(st, 6),
			.lag_n = sqlite3_column_int64(st, 7), .pln_est = sqlite3_column_int64(st, 8),
		};

		stop = fn(fnarg, &q);
	}
	return done(st, rc, stop, l->code, err);
}

static int
each_rejection_count(void *arg, const struct store_filter *f, store_rejection_count_fn fn,
    void *fnarg, struct store_error *err)
{
	sqlite3_stmt *st = catalog_stmt(arg, CS_REJECTION_COUNTS, err);
	int rc, stop = 0;

	if (st == NULL)
		return -1;
	bind_filter(st, f);
	while (stop == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_rejection_count c = {
			.carrier = text(st, 0), .reason = sqlite3_column_int(st, 1),
			.count = sqlite3_column_int64(st, 2),
		};

		stop = fn(fnarg, &c);
	}
	return done(st, rc, stop, "the catalog", err);
}

static int
each_mark_duplicates(void *arg, const struct store_filter *f, store_carrier_count_fn fn,
    void *fnarg, struct store_error *err)
{
	sqlite3_stmt *st = catalog_stmt(arg, CS_MARK_DUPLICATES, err);
	int rc, stop = 0;

	if (st == NULL)
		return -1;
	bind_filter(st, f);
	while (stop == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_carrier_count c = {
			.carrier = text(st, 0), .count = sqlite3_column_int64(st, 1),
		};

		stop = fn(fnarg, &c);
	}
	return done(st, rc, stop, "the catalog", err);
}

static int
reader_begin(void *arg, struct store_error *err)
{
	struct sqlite_reader *r = arg;

	(void)err;
	r->in_query = true;	/* each file's transaction begins at its first read */
	return 0;
}

static void
reader_end(void *arg)
{
	struct sqlite_reader *r = arg;

	for (size_t i = 0; i < LEGS_MAX; i++)
		db_end(&r->legs[i]);
	db_end(&r->catalog);
	r->in_query = false;
}

static int
backup(void *arg, const struct leg_table *legs, const char *dest,
    struct store_backup_file *files, size_t *nfiles, struct store_error *err)
{
	struct sqlite_reader *r = arg;

	return sqlite_backup(r->store, legs, dest, files, nfiles, err);
}

const struct store_reader_ops sqlite_reader_ops = {
	.open = reader_open,
	.close = reader_close,
	.begin = reader_begin,
	.end = reader_end,
	.each_transit_hour = each_transit_hour,
	.each_traversal_by_exit = each_traversal_by_exit,
	.latest_entry = latest_entry,
	.entered_since = entered_since,
	.each_open = each_open,
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
