/*
 * The SQLite side of store/derive.h: the row operations the shared
 * re-pairing, rollup merging and re-derivation run on, over one leg file's
 * prepared statements inside the writer's open transaction (the rollup
 * rows are rollup_store.c's), and the transaction that derives a leg again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "leg_store_internal.h"
#include "log.h"
#include "timeutil.h"

static const char *
col_text(sqlite3_stmt *st, int col)
{
	return (const char *)sqlite3_column_text(st, col);
}

static uint32_t
column_u32(sqlite3_stmt *st, int col)
{
	return sqlite3_column_type(st, col) == SQLITE_NULL ? 0 :
	    (uint32_t)sqlite3_column_int64(st, col);
}

static int64_t
column_opt(sqlite3_stmt *st, int col)
{
	return sqlite3_column_type(st, col) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, col);
}

/* The caller's callback of an op that walks rows. */
struct row_cb {
	union {
		derive_event_fn event;
		derive_traversal_fn traversal;
		derive_unit_fn unit;
	} fn;
	void *arg;
};

/* Steps st to its end, calling row for each row; a non-zero return of row
 * stops it and is returned. */
static int
each_row(sqlite3_stmt *st, int (*row)(sqlite3_stmt *st, const struct row_cb *cb),
    const struct row_cb *cb)
{
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int r = row(st, cb);

		if (r != 0) {
			rc = r;
			break;
		}
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static int
unit_event_row(sqlite3_stmt *st, const struct row_cb *cb)
{
	struct derive_event e = {
		.id = sqlite3_column_int64(st, 0),
		.time_ms = sqlite3_column_int64(st, 1),
		.event_code = sqlite3_column_int(st, 2),
		.carrier = col_text(st, 3),
		.teu = column_u32(st, 4),
		.containers = column_u32(st, 5),
		.gross_kg = column_u32(st, 6),
		.classifier = sqlite3_column_int(st, 7),
		.train = col_text(st, 8),
		.vessel_imo = col_text(st, 9),
		.voyage = col_text(st, 10),
		.record_ms = sqlite3_column_int64(st, 11),
	};

	return cb->fn.event(cb->arg, &e);
}

static int
op_unit_events(void *ctx, const char *unit, const char *direction, derive_event_fn fn,
    void *arg)
{
	struct leg_store *s = ctx;
	sqlite3_stmt *st = s->st[ST_UNIT_EVENTS];

	struct row_cb cb = { .fn.event = fn, .arg = arg };

	leg_bind_text(st, 1, unit);
	leg_bind_text(st, 2, direction);
	return each_row(st, unit_event_row, &cb);
}

static int
unit_traversal_row(sqlite3_stmt *st, const struct row_cb *cb)
{
	struct traversal t = {
		.enter_ms = sqlite3_column_int64(st, 0),
		.exit_ms = column_opt(st, 1),
		.carrier = col_text(st, 2),
		.teu = column_u32(st, 3),
		.containers = column_u32(st, 4),
		.gross_kg = column_u32(st, 5),
		.train = col_text(st, 6),
		.vessel = col_text(st, 7),
		.plan_ms = column_opt(st, 8),
		.eta_n = column_u32(st, 9),
		.eta_err_ms = sqlite3_column_int64(st, 10),
	};

	return cb->fn.traversal(cb->arg, &t);
}

static int
op_unit_traversals(void *ctx, const char *unit, const char *direction, derive_traversal_fn fn,
    void *arg)
{
	struct leg_store *s = ctx;
	sqlite3_stmt *st = s->st[ST_UNIT_TRAVERSALS];

	struct row_cb cb = { .fn.traversal = fn, .arg = arg };

	leg_bind_text(st, 1, unit);
	leg_bind_text(st, 2, direction);
	return each_row(st, unit_traversal_row, &cb);
}

static int
op_put_traversal(void *ctx, const char *unit, const char *direction, const struct traversal *t)
{
	struct leg_store *s = ctx;
	sqlite3_stmt *st = s->st[ST_UPSERT_TRAVERSAL];

	leg_bind_text(st, 1, unit);
	leg_bind_text(st, 2, direction);
	sqlite3_bind_int64(st, 3, t->enter_ms);
	leg_bind_opt_int(st, 4, t->exit_ms, t->exit_ms >= 0);
	leg_bind_opt_int(st, 5, t->exit_ms - t->enter_ms, t->exit_ms >= 0);
	leg_bind_text(st, 6, t->carrier);
	sqlite3_bind_int64(st, 7, t->teu);
	sqlite3_bind_int64(st, 8, t->containers);
	sqlite3_bind_int64(st, 9, t->gross_kg);
	leg_bind_text(st, 10, t->train);
	leg_bind_text(st, 11, t->vessel);
	leg_bind_opt_int(st, 12, t->plan_ms, t->plan_ms >= 0);
	sqlite3_bind_int64(st, 13, t->eta_n);
	sqlite3_bind_int64(st, 14, t->eta_err_ms);
	return db_step_done(st);
}

static int
op_delete_traversal(void *ctx, const char *unit, const char *direction, int64_t enter_ms)
{
	struct leg_store *s = ctx;
	sqlite3_stmt *st = s->st[ST_DELETE_TRAVERSAL];

	leg_bind_text(st, 1, unit);
	leg_bind_text(st, 2, direction);
	sqlite3_bind_int64(st, 3, enter_ms);
	return db_step_done(st);
}

static int
op_rollup_get(void *ctx, const struct rollup_key *k, struct derive_rollup *row, bool *found)
{
	return rollup_store_get(((struct leg_store *)ctx)->rollup_store, k, row, found);
}

static int
op_rollup_put(void *ctx, const struct rollup_key *k, const struct derive_rollup *row)
{
	return rollup_store_put(((struct leg_store *)ctx)->rollup_store, k, row);
}

static int
op_rollup_delete(void *ctx, const struct rollup_key *k)
{
	return rollup_store_delete(((struct leg_store *)ctx)->rollup_store, k);
}

static int
op_recount_minmax(void *ctx, const struct rollup_key *k, int64_t *min, int64_t *max)
{
	return rollup_store_minmax(((struct leg_store *)ctx)->rollup_store, k, min, max);
}

static int
op_count_conveyance(void *ctx, const struct conveyance_key *c, struct derive_conveyance *out)
{
	return rollup_store_count_conveyance(((struct leg_store *)ctx)->rollup_store, c, out);
}

static int
op_put_conveyance(void *ctx, const struct conveyance_key *c, const struct derive_conveyance *v)
{
	return rollup_store_put_conveyance(((struct leg_store *)ctx)->rollup_store, c, v);
}

static int
op_delete_conveyance(void *ctx, const struct conveyance_key *c)
{
	return rollup_store_delete_conveyance(((struct leg_store *)ctx)->rollup_store, c);
}

static int
op_clear(void *ctx)
{
	struct leg_store *s = ctx;

	return sqlite3_exec(s->db, "DELETE FROM traversals; DELETE FROM transit_hourly;"
	    " DELETE FROM volume_hourly; DELETE FROM conveyances;"
	    " DELETE FROM quality_hourly;", NULL, NULL, NULL);
}

/* Runs a statement of its own over every row (each_unit, each_event). */
static int
each_of(struct leg_store *s, const char *sql,
    int (*row)(sqlite3_stmt *st, const struct row_cb *cb), const struct row_cb *cb)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);

	if (rc == SQLITE_OK)
		rc = each_row(st, row, cb);
	sqlite3_finalize(st);
	return rc;
}

static int
unit_row(sqlite3_stmt *st, const struct row_cb *cb)
{
	return cb->fn.unit(cb->arg, col_text(st, 0), col_text(st, 1));
}

static int
op_each_unit(void *ctx, derive_unit_fn fn, void *arg)
{
	struct row_cb cb = { .fn.unit = fn, .arg = arg };

	return each_of(ctx, "SELECT DISTINCT unit, direction FROM events"
	    " INDEXED BY events_by_unit", unit_row, &cb);
}

static int
event_row(sqlite3_stmt *st, const struct row_cb *cb)
{
	struct derive_event e = {
		.carrier = col_text(st, 0),
		.record_ms = sqlite3_column_int64(st, 1),
		.time_ms = sqlite3_column_int64(st, 2),
		.retracts = sqlite3_column_int(st, 3) != 0,
		.classifier = sqlite3_column_int(st, 4),
	};

	return cb->fn.event(cb->arg, &e);
}

static int
op_each_event(void *ctx, derive_event_fn fn, void *arg)
{
	struct row_cb cb = { .fn.event = fn, .arg = arg };

	return each_of(ctx, "SELECT carrier, record_time_ms, event_time_ms,"
	    " retracts_message_id IS NOT NULL, classifier FROM events", event_row, &cb);
}

const struct derive_ops leg_derive_ops = {
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

struct derive_tx
leg_derive_tx(struct leg_store *s)
{
	return (struct derive_tx){ &leg_derive_ops, s, s->first_new_id };
}

int
leg_derive_rc(int rc)
{
	switch (rc) {
	case DERIVE_NOMEM:
		return SQLITE_NOMEM;
	case DERIVE_CORRUPT:
		return SQLITE_CORRUPT;
	default:
		return rc;
	}
}

static int
exec(sqlite3 *db, const char *sql)
{
	return sqlite3_exec(db, sql, NULL, NULL, NULL);
}

/* At open, when the file was derived by an older schema or against another
 * typical time of the leg. One transaction; the writer thread is not
 * serving yet. */
int
leg_rederive(struct leg_store *s, int64_t typical_ms)
{
	int64_t start = time_now_ms(), nunits = 0, nevents = 0;
	struct derive_tx tx = leg_derive_tx(s);
	char meta[160];
	int rc;

	rc = exec(s->db, "BEGIN IMMEDIATE");
	if (rc == SQLITE_OK)
		rc = leg_derive_rc(derive_again(s->derive, &tx, typical_ms, &nunits, &nevents));
	snprintf(meta, sizeof meta, "INSERT OR REPLACE INTO rollup_meta (key, value) VALUES"
	    " ('derived', %d), ('typical_ms', %lld)", DERIVE_VERSION, (long long)typical_ms);
	if (rc == SQLITE_OK)
		rc = exec(s->db, meta);
	if (rc == SQLITE_OK)
		rc = exec(s->db, "COMMIT");
	derive_reset(s->derive);
	if (rc != SQLITE_OK) {
		exec(s->db, "ROLLBACK");
		return rc;
	}
	if (nevents > 0)
		log_info("leg=%s derived traversals and rollups again units=%lld events=%lld"
		    " typical_ms=%lld ms=%lld", s->code, (long long)nunits, (long long)nevents,
		    (long long)typical_ms, (long long)(time_now_ms() - start));
	return SQLITE_OK;
}
