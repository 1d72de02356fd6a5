/* Rollup rows written from a batch of changes; see rollup_store.h. */
#include "rollup_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "histogram.h"

enum {
	RS_TRANSIT_GET,
	RS_TRANSIT_PUT,
	RS_TRANSIT_DEL,
	RS_TRANSIT_MINMAX,
	RS_VOLUME_ADD,
	RS_VOLUME_DEL,
	RS_QUALITY_GET,
	RS_QUALITY_PUT,
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
	[RS_VOLUME_ADD] = "INSERT INTO volume_hourly (hour_ms, direction, carrier, units, teu,"
	    " containers, gross_kg) VALUES (?,?,?,?,?,?,?) ON CONFLICT DO UPDATE SET"
	    " units = units + excluded.units, teu = teu + excluded.teu,"
	    " containers = containers + excluded.containers,"
	    " gross_kg = gross_kg + excluded.gross_kg",
	[RS_VOLUME_DEL] = "DELETE FROM volume_hourly WHERE hour_ms = ?1 AND direction = ?2"
	    " AND carrier = ?3 AND units = 0",
	[RS_QUALITY_GET] = "SELECT updates, lag_sum_ms, lag_max_ms, lag_hist, duplicates,"
	    " retractions, out_of_order, lag_n, pln_est FROM quality_hourly"
	    " WHERE hour_ms = ?1 AND carrier = ?2",
	[RS_QUALITY_PUT] = "INSERT OR REPLACE INTO quality_hourly (hour_ms, carrier, updates,"
	    " lag_sum_ms, lag_max_ms, lag_hist, duplicates, retractions, out_of_order, lag_n,"
	    " pln_est) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
	[RS_TRAIN_COUNT] = "SELECT count(*), min(enter_time_ms), carrier FROM traversals"
	    " INDEXED BY traversals_by_train WHERE train_id = ?1 AND direction = ?2",
	[RS_VESSEL_COUNT] = "SELECT count(*), min(enter_time_ms), carrier FROM traversals"
	    " INDEXED BY traversals_by_vessel WHERE vessel_call = ?1 AND direction = ?2",
	[RS_CONV_PUT] = "INSERT OR REPLACE INTO conveyances (kind, ident, direction,"
	    " first_enter_ms, carrier, units) VALUES (?,?,?,?,?,?)",
	[RS_CONV_DEL] = "DELETE FROM conveyances WHERE kind = ?1 AND ident = ?2 AND direction = ?3",
};

struct rollup_store {
	sqlite3 *db;
	sqlite3_stmt *st[RS_COUNT];
	int64_t counts[HIST_BUCKETS];
	unsigned char blob[HIST_BLOB_MAX];
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

static int
step_done(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
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

/* Dense counts of the stored blob in column col plus the delta; its total. */
static int
merge_hist(struct rollup_store *rs, sqlite3_stmt *st, int col, bool have_row,
    const int64_t *delta, int64_t *total)
{
	memset(rs->counts, 0, sizeof rs->counts);
	if (have_row && hist_merge_blob(rs->counts, sqlite3_column_blob(st, col),
	    (size_t)sqlite3_column_bytes(st, col), 1) == -1)
		return SQLITE_CORRUPT;
	*total = 0;
	for (int i = 0; i < HIST_BUCKETS; i++) {
		if (delta != NULL)
			rs->counts[i] += delta[i];
		if (rs->counts[i] < 0)
			return SQLITE_CORRUPT;	/* more taken out than was in */
		*total += rs->counts[i];
	}
	return SQLITE_OK;
}

/* Minimum and maximum duration of an hour's traversals, from the table. */
static int
recount_minmax(struct rollup_store *rs, const struct rollup_key *k, int64_t *min, int64_t *max)
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

static int
flush_transit(struct rollup_store *rs, const struct rollup_delta *d)
{
	sqlite3_stmt *get = rs->st[RS_TRANSIT_GET], *put = rs->st[RS_TRANSIT_PUT];
	int64_t v[12] = { 0 }, total;
	bool have;
	size_t len;
	int rc;

	bind_key(get, &d->key);
	rc = sqlite3_step(get);
	have = rc == SQLITE_ROW;
	if (!have && rc != SQLITE_DONE) {
		sqlite3_reset(get);
		return rc;
	}
	for (int i = 0; have && i < 12; i++)
		v[i] = sqlite3_column_int64(get, i);
	rc = merge_hist(rs, get, 12, have, d->hist, &total);
	sqlite3_reset(get);
	if (rc != SQLITE_OK)
		return rc;
	v[0] += d->n;
	if (v[0] != total)
		return SQLITE_CORRUPT;
	if (v[0] == 0) {
		bind_key(rs->st[RS_TRANSIT_DEL], &d->key);
		return step_done(rs->st[RS_TRANSIT_DEL]);
	}
	v[1] += d->sum_ms;
	if (d->removed) {
		if ((rc = recount_minmax(rs, &d->key, &v[2], &v[3])) != SQLITE_OK)
			return rc;
	} else {
		if (!have || d->add_min < v[2])
			v[2] = d->add_min;
		if (!have || d->add_max > v[3])
			v[3] = d->add_max;
	}
	v[4] += d->on_time;
	v[5] += d->planned;
	v[6] += d->on_plan;
	v[7] += d->eta_n;
	v[8] += d->eta_err_ms;
	v[9] += d->teu;
	v[10] += d->containers;
	v[11] += d->gross_kg;
	bind_key(put, &d->key);
	for (int i = 0; i < 12; i++)
		sqlite3_bind_int64(put, 4 + i, v[i]);
	len = hist_encode(rs->counts, rs->blob);
	sqlite3_bind_blob(put, 16, rs->blob, (int)len, SQLITE_STATIC);
	return step_done(put);
}

static int
flush_volume(struct rollup_store *rs, const struct rollup_delta *d)
{
	sqlite3_stmt *st = rs->st[RS_VOLUME_ADD];
	int rc;

	bind_key(st, &d->key);
	sqlite3_bind_int64(st, 4, d->n);
	sqlite3_bind_int64(st, 5, d->teu);
	sqlite3_bind_int64(st, 6, d->containers);
	sqlite3_bind_int64(st, 7, d->gross_kg);
	if ((rc = step_done(st)) != SQLITE_OK || d->n >= 0)
		return rc;
	bind_key(rs->st[RS_VOLUME_DEL], &d->key);
	return step_done(rs->st[RS_VOLUME_DEL]);
}

static int
flush_quality(struct rollup_store *rs, const struct rollup_delta *d)
{
	sqlite3_stmt *get = rs->st[RS_QUALITY_GET], *put = rs->st[RS_QUALITY_PUT];
	int64_t updates = 0, lag_sum = 0, lag_max = 0, dup = 0, retr = 0, ooo = 0, total;
	int64_t lag_n = 0, pln_est = 0;
	bool have;
	size_t len;
	int rc;

	bind_key(get, &d->key);
	rc = sqlite3_step(get);
	have = rc == SQLITE_ROW;
	if (!have && rc != SQLITE_DONE) {
		sqlite3_reset(get);
		return rc;
	}
	if (have) {
		updates = sqlite3_column_int64(get, 0);
		lag_sum = sqlite3_column_int64(get, 1);
		lag_max = sqlite3_column_int64(get, 2);
		dup = sqlite3_column_int64(get, 4);
		retr = sqlite3_column_int64(get, 5);
		ooo = sqlite3_column_int64(get, 6);
		lag_n = sqlite3_column_int64(get, 7);
		pln_est = sqlite3_column_int64(get, 8);
	}
	rc = merge_hist(rs, get, 3, have, d->hist, &total);
	sqlite3_reset(get);
	if (rc != SQLITE_OK)
		return rc;
	bind_key(put, &d->key);
	sqlite3_bind_int64(put, 3, updates + d->n);
	sqlite3_bind_int64(put, 4, lag_sum + d->lag_sum_ms);
	sqlite3_bind_int64(put, 5, d->lag_max_ms > lag_max ? d->lag_max_ms : lag_max);
	len = hist_encode(rs->counts, rs->blob);
	sqlite3_bind_blob(put, 6, rs->blob, (int)len, SQLITE_STATIC);
	sqlite3_bind_int64(put, 7, dup + d->duplicates);
	sqlite3_bind_int64(put, 8, retr + d->retractions);
	sqlite3_bind_int64(put, 9, ooo + d->out_of_order);
	sqlite3_bind_int64(put, 10, lag_n + d->lag_n);
	sqlite3_bind_int64(put, 11, pln_est + d->pln_est);
	return step_done(put);
}

static int
conv_cmp(const void *x, const void *y)
{
	const struct conveyance_key *a = x, *b = y;

	if (a->kind != b->kind)
		return a->kind - b->kind;
	if (a->direction != b->direction)
		return a->direction - b->direction;
	return strcmp(a->ident, b->ident);
}

/* Recounts one train or vessel call from the traversals that name it. */
static int
flush_conveyance(struct rollup_store *rs, const struct conveyance_key *c)
{
	sqlite3_stmt *st = rs->st[c->kind == 'T' ? RS_TRAIN_COUNT : RS_VESSEL_COUNT];
	const char *kind = c->kind == 'T' ? "T" : "V";
	int64_t units = 0, first = 0;
	char carrier[ROLLUP_CARRIER_MAX] = "";
	int rc;

	sqlite3_bind_text(st, 1, c->ident, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, &c->direction, 1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		units = sqlite3_column_int64(st, 0);
		first = sqlite3_column_int64(st, 1);
		if (units > 0)
			snprintf(carrier, sizeof carrier, "%s", sqlite3_column_text(st, 2));
		rc = SQLITE_OK;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_OK)
		return rc;
	st = rs->st[units > 0 ? RS_CONV_PUT : RS_CONV_DEL];
	sqlite3_bind_text(st, 1, kind, 1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, c->ident, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, &c->direction, 1, SQLITE_STATIC);
	if (units > 0) {
		sqlite3_bind_int64(st, 4, first);
		sqlite3_bind_text(st, 5, carrier, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 6, units);
	}
	return step_done(st);
}

int
rollup_store_flush(struct rollup_store *rs, struct rollup_batch *b)
{
	int rc = SQLITE_OK;

	for (size_t i = 0; i < b->count && rc == SQLITE_OK; i++) {
		const struct rollup_delta *d = &b->d[i];

		switch (d->key.table) {
		case RT_TRANSIT:
			rc = flush_transit(rs, d);
			break;
		case RT_VOLUME:
			rc = flush_volume(rs, d);
			break;
		case RT_QUALITY:
			rc = flush_quality(rs, d);
			break;
		}
	}
	if (rc == SQLITE_OK && b->nconv > 0) {
		qsort(b->conv, b->nconv, sizeof b->conv[0], conv_cmp);
		for (size_t i = 0; i < b->nconv && rc == SQLITE_OK; i++)
			if (i == 0 || conv_cmp(&b->conv[i - 1], &b->conv[i]) != 0)
				rc = flush_conveyance(rs, &b->conv[i]);
	}
	rollup_batch_reset(b);
	return rc;
}
