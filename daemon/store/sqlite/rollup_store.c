/* A leg's rollup rows for the ops of derive.h; see rollup_store.h. */
#include "rollup_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "histogram.h"

enum {
	RS_TRANSIT_GET,
	RS_TRANSIT_PUT,
	RS_TRANSIT_DEL,
	RS_TRANSIT_MINMAX,
	RS_VOLUME_GET,
	RS_VOLUME_PUT,
	RS_VOLUME_DEL,
	RS_QUALITY_GET,
	RS_QUALITY_PUT,
	RS_QUALITY_DEL,
	RS_TRAIN_COUNT,
	RS_VESSEL_COUNT,
	RS_CONV_PUT,
	RS_CONV_DEL,
	RS_COUNT
};

static const char *const rs_sql[RS_COUNT] = {
	[RS_TRANSIT_GET] = "SELECT n, sum_ms, min_ms, max_ms, on_time, planned, on_plan, eta_n,"
	    " eta_err_ms, teu, containers, gross_kg, hist FROM transit_hourly"
	    " WHERE hour_ms = ?1 AND direction = ?2 AND carrier = ?3",
	[RS_TRANSIT_PUT] = "INSERT OR REPLACE INTO transit_hourly (hour_ms, direction, carrier,"
	    " n, sum_ms, min_ms, max_ms, on_time, planned, on_plan, eta_n, eta_err_ms, teu,"
	    " containers, gross_kg, hist) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
	[RS_TRANSIT_DEL] = "DELETE FROM transit_hourly WHERE hour_ms = ?1 AND direction = ?2"
	    " AND carrier = ?3",
	[RS_TRANSIT_MINMAX] = "SELECT min(duration_ms), max(duration_ms) FROM traversals"
	    " INDEXED BY traversals_by_exit WHERE exit_time_ms >= ?1 AND exit_time_ms < ?2"
	    " AND direction = ?3 AND carrier = ?4",
	[RS_VOLUME_GET] = "SELECT units, teu, containers, gross_kg FROM volume_hourly"
	    " WHERE hour_ms = ?1 AND direction = ?2 AND carrier = ?3",
	[RS_VOLUME_PUT] = "INSERT OR REPLACE INTO volume_hourly (hour_ms, direction, carrier,"
	    " units, teu, containers, gross_kg) VALUES (?,?,?,?,?,?,?)",
	[RS_VOLUME_DEL] = "DELETE FROM volume_hourly WHERE hour_ms = ?1 AND direction = ?2"
	    " AND carrier = ?3",
	[RS_QUALITY_GET] = "SELECT updates, lag_sum_ms, lag_max_ms, lag_hist, duplicates,"
	    " retractions, out_of_order, lag_n, pln_est FROM quality_hourly"
	    " WHERE hour_ms = ?1 AND carrier = ?2",
	[RS_QUALITY_PUT] = "INSERT OR REPLACE INTO quality_hourly (hour_ms, carrier, updates,"
	    " lag_sum_ms, lag_max_ms, lag_hist, duplicates, retractions, out_of_order, lag_n,"
	    " pln_est) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
	[RS_QUALITY_DEL] = "DELETE FROM quality_hourly WHERE hour_ms = ?1 AND carrier = ?2",
	[RS_TRAIN_COUNT] = "SELECT count(*), min(enter_time_ms), carrier FROM traversals"
	    " INDEXED BY traversals_by_train WHERE train_id = ?1 AND direction = ?2",
	[RS_VESSEL_COUNT] = "SELECT count(*), min(enter_time_ms), carrier FROM traversals"
	    " INDEXED BY traversals_by_vessel WHERE vessel_call = ?1 AND direction = ?2",
	[RS_CONV_PUT] = "INSERT OR REPLACE INTO conveyances (kind, ident, direction,"
	    " first_enter_ms, carrier, units) VALUES (?,?,?,?,?,?)",
	[RS_CONV_DEL] = "DELETE FROM conveyances WHERE kind = ?1 AND ident = ?2 AND direction = ?3",
};

/* the statements of each rollup table, by enum rollup_table */
static const int rs_get[] = { RS_TRANSIT_GET, RS_VOLUME_GET, RS_QUALITY_GET };
static const int rs_put[] = { RS_TRANSIT_PUT, RS_VOLUME_PUT, RS_QUALITY_PUT };
static const int rs_del[] = { RS_TRANSIT_DEL, RS_VOLUME_DEL, RS_QUALITY_DEL };

struct rollup_store {
	sqlite3 *db;
	sqlite3_stmt *st[RS_COUNT];
};

struct rollup_store *
rollup_store_new(sqlite3 *db, char *err, size_t errlen)
{
	struct rollup_store *rs = calloc(1, sizeof *rs);

	if (rs == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	rs->db = db;
	for (int i = 0; i < RS_COUNT; i++)
		if (sqlite3_prepare_v3(db, rs_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &rs->st[i],
		    NULL) != SQLITE_OK) {
			snprintf(err, errlen, "preparing rollup statement %d: %s", i,
			    sqlite3_errmsg(db));
			rollup_store_free(rs);
			return NULL;
		}
	return rs;
}

void
rollup_store_free(struct rollup_store *rs)
{
	if (rs == NULL)
		return;
	for (int i = 0; i < RS_COUNT; i++)
		sqlite3_finalize(rs->st[i]);
	free(rs);
}

static void
bind_key(sqlite3_stmt *st, const struct rollup_key *k)
{
	sqlite3_bind_int64(st, 1, k->hour_ms);
	if (k->table == RT_QUALITY) {
		sqlite3_bind_text(st, 2, k->carrier, -1, SQLITE_STATIC);
		return;
	}
	sqlite3_bind_text(st, 2, &k->direction, 1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, k->carrier, -1, SQLITE_STATIC);
}

/* Copies the histogram in column col into row's buffer. */
static int
copy_hist(sqlite3_stmt *st, int col, struct derive_rollup *row)
{
	int len = sqlite3_column_bytes(st, col);

	if (len < 0 || (size_t)len > HIST_BLOB_MAX)
		return SQLITE_CORRUPT;
	row->hist_len = (size_t)len;
	if (len > 0)
		memcpy(row->hist, sqlite3_column_blob(st, col), (size_t)len);
	return SQLITE_OK;
}

int
rollup_store_get(struct rollup_store *rs, const struct rollup_key *k, struct derive_rollup *row,
    bool *found)
{
	sqlite3_stmt *st = rs->st[rs_get[k->table]];
	int rc;

	bind_key(st, k);
	rc = sqlite3_step(st);
	*found = rc == SQLITE_ROW;
	if (rc == SQLITE_DONE)
		rc = SQLITE_OK;
	if (rc != SQLITE_ROW) {
		sqlite3_reset(st);
		return rc;
	}
	rc = SQLITE_OK;
	switch (k->table) {
	case RT_TRANSIT:
		row->n = sqlite3_column_int64(st, 0);
		row->sum_ms = sqlite3_column_int64(st, 1);
		row->min_ms = sqlite3_column_int64(st, 2);
		row->max_ms = sqlite3_column_int64(st, 3);
		row->on_time = sqlite3_column_int64(st, 4);
		row->planned = sqlite3_column_int64(st, 5);
		row->on_plan = sqlite3_column_int64(st, 6);
		row->eta_n = sqlite3_column_int64(st, 7);
		row->eta_err_ms = sqlite3_column_int64(st, 8);
		row->teu = sqlite3_column_int64(st, 9);
		row->containers = sqlite3_column_int64(st, 10);
		row->gross_kg = sqlite3_column_int64(st, 11);
		rc = copy_hist(st, 12, row);
		break;
	case RT_VOLUME:
		row->n = sqlite3_column_int64(st, 0);
		row->teu = sqlite3_column_int64(st, 1);
		row->containers = sqlite3_column_int64(st, 2);
		row->gross_kg = sqlite3_column_int64(st, 3);
		break;
	case RT_QUALITY:
		row->n = sqlite3_column_int64(st, 0);
		row->lag_sum_ms = sqlite3_column_int64(st, 1);
		row->lag_max_ms = sqlite3_column_int64(st, 2);
		rc = copy_hist(st, 3, row);
		row->duplicates = sqlite3_column_int64(st, 4);
		row->retractions = sqlite3_column_int64(st, 5);
		row->out_of_order = sqlite3_column_int64(st, 6);
		row->lag_n = sqlite3_column_int64(st, 7);
		row->pln_est = sqlite3_column_int64(st, 8);
		break;
	}
	sqlite3_reset(st);
	return rc;
}

int
rollup_store_put(struct rollup_store *rs, const struct rollup_key *k,
    const struct derive_rollup *row)
{
	sqlite3_stmt *st = rs->st[rs_put[k->table]];

	bind_key(st, k);
	switch (k->table) {
	case RT_TRANSIT:
		sqlite3_bind_int64(st, 4, row->n);
		sqlite3_bind_int64(st, 5, row->sum_ms);
		sqlite3_bind_int64(st, 6, row->min_ms);
		sqlite3_bind_int64(st, 7, row->max_ms);
		sqlite3_bind_int64(st, 8, row->on_time);
		sqlite3_bind_int64(st, 9, row->planned);
		sqlite3_bind_int64(st, 10, row->on_plan);
		sqlite3_bind_int64(st, 11, row->eta_n);
		sqlite3_bind_int64(st, 12, row->eta_err_ms);
		sqlite3_bind_int64(st, 13, row->teu);
		sqlite3_bind_int64(st, 14, row->containers);
		sqlite3_bind_int64(st, 15, row->gross_kg);
		sqlite3_bind_blob(st, 16, row->hist, (int)row->hist_len, SQLITE_STATIC);
		break;
	case RT_VOLUME:
		sqlite3_bind_int64(st, 4, row->n);
		sqlite3_bind_int64(st, 5, row->teu);
		sqlite3_bind_int64(st, 6, row->containers);
		sqlite3_bind_int64(st, 7, row->gross_kg);
		break;
	case RT_QUALITY:
		sqlite3_bind_int64(st, 3, row->n);
		sqlite3_bind_int64(st, 4, row->lag_sum_ms);
		sqlite3_bind_int64(st, 5, row->lag_max_ms);
		sqlite3_bind_blob(st, 6, row->hist, (int)row->hist_len, SQLITE_STATIC);
		sqlite3_bind_int64(st, 7, row->duplicates);
		sqlite3_bind_int64(st, 8, row->retractions);
		sqlite3_bind_int64(st, 9, row->out_of_order);
		sqlite3_bind_int64(st, 10, row->lag_n);
		sqlite3_bind_int64(st, 11, row->pln_est);
		break;
	}
	return db_step_done(st);
}

int
rollup_store_delete(struct rollup_store *rs, const struct rollup_key *k)
{
	sqlite3_stmt *st = rs->st[rs_del[k->table]];

	bind_key(st, k);
	return db_step_done(st);
}

int
rollup_store_minmax(struct rollup_store *rs, const struct rollup_key *k, int64_t *min,
    int64_t *max)
{
	sqlite3_stmt *st = rs->st[RS_TRANSIT_MINMAX];
	int rc;

	sqlite3_bind_int64(st, 1, k->hour_ms);
	sqlite3_bind_int64(st, 2, k->hour_ms + MS_PER_HOUR_I);
	sqlite3_bind_text(st, 3, &k->direction, 1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, k->carrier, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*min = sqlite3_column_int64(st, 0);
		*max = sqlite3_column_int64(st, 1);
		rc = SQLITE_OK;
	}
	sqlite3_reset(st);
	return rc;
}

int
rollup_store_count_conveyance(struct rollup_store *rs, const struct conveyance_key *c,
    struct derive_conveyance *out)
{
	sqlite3_stmt *st = rs->st[c->kind == 'T' ? RS_TRAIN_COUNT : RS_VESSEL_COUNT];
	int rc;

	memset(out, 0, sizeof *out);
	sqlite3_bind_text(st, 1, c->ident, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, &c->direction, 1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		out->units = sqlite3_column_int64(st, 0);
		out->first_enter_ms = sqlite3_column_int64(st, 1);
		if (out->units > 0)
			snprintf(out->carrier, sizeof out->carrier, "%s",
			    sqlite3_column_text(st, 2));
		rc = SQLITE_OK;
	}
	sqlite3_reset(st);
	return rc;
}

static void
bind_conveyance(sqlite3_stmt *st, const struct conveyance_key *c)
{
	sqlite3_bind_text(st, 1, c->kind == 'T' ? "T" : "V", 1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, c->ident, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, &c->direction, 1, SQLITE_STATIC);
}

int
rollup_store_put_conveyance(struct rollup_store *rs, const struct conveyance_key *c,
    const struct derive_conveyance *v)
{
	sqlite3_stmt *st = rs->st[RS_CONV_PUT];

	bind_conveyance(st, c);
	sqlite3_bind_int64(st, 4, v->first_enter_ms);
	sqlite3_bind_text(st, 5, v->carrier, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, v->units);
	return db_step_done(st);
}

int
rollup_store_delete_conveyance(struct rollup_store *rs, const struct conveyance_key *c)
{
	sqlite3_stmt *st = rs->st[RS_CONV_DEL];

	bind_conveyance(st, c);
	return db_step_done(st);
}
