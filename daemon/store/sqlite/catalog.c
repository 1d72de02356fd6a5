/*
 * The catalog (<state_dir>/corridor.db), the SQLite backend's catalog
 * handle; see store_catalog.h. The recovery of marks reads the leg files
 * read-only, one at a time.
 */
#include <stdio.h>
#include <stdlib.h>

#include "db.h"
#include "sqlite_store.h"
#include "timeutil.h"

extern const char *const catalog_migrations[];
extern const size_t catalog_migrations_count;

struct catalog {
	sqlite3 *db;
	const struct sqlite_store *store;
};

/* Runs a statement with no rows (BEGIN, COMMIT); fills err on failure. */
static int
exec(struct catalog *cat, const char *sql, struct store_error *err)
{
	int rc = sqlite3_exec(cat->db, sql, NULL, NULL, NULL);

	if (rc != SQLITE_OK) {
		sqlite_error(err, cat->db, rc, "catalog");
		return -1;
	}
	return 0;
}

static void *
catalog_open(void *store, struct store_error *err)
{
	struct catalog *cat = calloc(1, sizeof *cat);
	char msg[512];

	if (cat == NULL) {
		store_error_set(err, STORE_RETRYABLE, "out of memory");
		return NULL;
	}
	cat->store = store;
	cat->db = db_open_rw(cat->store->catalog_path, cat->store->sync, catalog_migrations,
	    catalog_migrations_count, msg, sizeof msg);
	if (cat->db == NULL) {
		sqlite_error_text(err, SQLITE_CANTOPEN, msg);
		free(cat);
		return NULL;
	}
	return cat;
}

static void
catalog_close(void *arg)
{
	struct catalog *cat = arg;

	if (cat == NULL)
		return;
	sqlite3_close(cat->db);
	free(cat);
}

static int
sync_legs(struct catalog *cat, const struct leg_table *legs, int64_t now)
{
	sqlite3_stmt *st;
	int rc = SQLITE_DONE;

	if (sqlite3_prepare_v2(cat->db,
	    "INSERT INTO legs (code, from_name, to_name, country, kind, mode, distance_km,"
	    " min_h, typical_h, bad_h, created_ms) VALUES (?,?,?,?,?,?,?,?,?,?,?)"
	    " ON CONFLICT (code) DO UPDATE SET from_name = excluded.from_name,"
	    " to_name = excluded.to_name, country = excluded.country, kind = excluded.kind,"
	    " mode = excluded.mode, distance_km = excluded.distance_km, min_h = excluded.min_h,"
	    " typical_h = excluded.typical_h, bad_h = excluded.bad_h", -1, &st, NULL) != SQLITE_OK)
		return sqlite3_errcode(cat->db);
	for (size_t i = 0; i < legs->count && rc == SQLITE_DONE; i++) {
		const struct leg *l = &legs->legs[i];

		sqlite3_bind_text(st, 1, l->code, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, l->from, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, l->to, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, l->country, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 5, leg_kind_name(l->kind), -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 6, l->mode, -1, SQLITE_STATIC);
		sqlite3_bind_double(st, 7, l->distance_km);
		sqlite3_bind_double(st, 8, l->min_h);
		sqlite3_bind_double(st, 9, l->typical_h);
		sqlite3_bind_double(st, 10, l->bad_h);
		sqlite3_bind_int64(st, 11, now);
		rc = sqlite3_step(st);
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static int
sync_carriers(struct catalog *cat, struct carrier_table *ct, int64_t now)
{
	sqlite3_stmt *ins, *sel;
	int rc = SQLITE_DONE;

	if (sqlite3_prepare_v2(cat->db, "INSERT OR IGNORE INTO carriers (code, updated_ms)"
	    " VALUES (?, ?)", -1, &ins, NULL) != SQLITE_OK)
		return sqlite3_errcode(cat->db);
	if (sqlite3_prepare_v2(cat->db, "SELECT acked_seq FROM carriers WHERE code = ?", -1,
	    &sel, NULL) != SQLITE_OK) {
		sqlite3_finalize(ins);
		return sqlite3_errcode(cat->db);
	}
	for (size_t i = 0; i < ct->count && rc == SQLITE_DONE; i++) {
		struct carrier *c = &ct->items[i];

		sqlite3_bind_text(ins, 1, c->code, -1, SQLITE_STATIC);
		sqlite3_bind_int64(ins, 2, now);
		rc = sqlite3_step(ins);
		sqlite3_reset(ins);
		if (rc != SQLITE_DONE)
			break;
		sqlite3_bind_text(sel, 1, c->code, -1, SQLITE_STATIC);
		if ((rc = sqlite3_step(sel)) == SQLITE_ROW) {
			uint64_t saved = (uint64_t)sqlite3_column_int64(sel, 0);

			/* a reload keeps the higher, live mark */
			if (saved > c->acked_seq)
				c->acked_seq = saved;
			c->saved_seq = saved;
			rc = SQLITE_DONE;
		}
		sqlite3_reset(sel);
	}
	sqlite3_finalize(ins);
	sqlite3_finalize(sel);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static int
catalog_sync(void *arg, const struct leg_table *legs, struct carrier_table *ct,
    struct store_error *err)
{
	struct catalog *cat = arg;
	int64_t now = time_now_ms();
	int rc;

	if (exec(cat, "BEGIN IMMEDIATE", err) == -1)
		return -1;
	rc = sync_legs(cat, legs, now);
	if (rc == SQLITE_OK)
		rc = sync_carriers(cat, ct, now);
	if (rc != SQLITE_OK) {
		sqlite_error(err, cat->db, rc, "catalog");
		sqlite3_exec(cat->db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	return exec(cat, "COMMIT", err);
}

/* Adds each carrier's resends answered from its mark to the current hour. */
static int
save_mark_duplicates(struct catalog *cat, const struct store_mark *marks, size_t n, int64_t now)
{
	sqlite3_stmt *st;
	int rc = SQLITE_DONE;

	if (sqlite3_prepare_v2(cat->db, "INSERT INTO duplicates_hourly (carrier, hour_ms, n)"
	    " VALUES (?1, ?2, ?3) ON CONFLICT DO UPDATE SET n = n + excluded.n", -1, &st,
	    NULL) != SQLITE_OK)
		return sqlite3_errcode(cat->db);
	for (size_t i = 0; i < n && rc == SQLITE_DONE; i++) {
		if (marks[i].mark_duplicates == 0)
			continue;
		sqlite3_bind_text(st, 1, marks[i].code, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, now - now % 3600000);
		sqlite3_bind_int64(st, 3, (sqlite3_int64)marks[i].mark_duplicates);
		rc = sqlite3_step(st);
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	return rc;
}

static int
catalog_save_marks(void *arg, const struct store_mark *marks, size_t n, struct store_error *err)
{
	struct catalog *cat = arg;
	sqlite3_stmt *st;
	int64_t now = time_now_ms();
	int rc = SQLITE_DONE;

	if (exec(cat, "BEGIN IMMEDIATE", err) == -1)
		return -1;
	if (sqlite3_prepare_v2(cat->db, "UPDATE carriers SET acked_seq = max(acked_seq, ?1),"
	    " updated_ms = ?2 WHERE code = ?3", -1, &st, NULL) != SQLITE_OK)
		rc = sqlite3_errcode(cat->db);
	else {
		for (size_t i = 0; i < n && rc == SQLITE_DONE; i++) {
			sqlite3_bind_int64(st, 1, (sqlite3_int64)marks[i].acked_seq);
			sqlite3_bind_int64(st, 2, now);
			sqlite3_bind_text(st, 3, marks[i].code, -1, SQLITE_STATIC);
			rc = sqlite3_step(st);
			sqlite3_reset(st);
		}
		sqlite3_finalize(st);
	}
	if (rc == SQLITE_DONE)
		rc = save_mark_duplicates(cat, marks, n, now);
	if (rc != SQLITE_DONE) {
		sqlite_error(err, cat->db, rc, "saving marks");
		sqlite3_exec(cat->db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	return exec(cat, "COMMIT", err);
}

static int
catalog_save_rejections(void *arg, const struct store_rejection *r, size_t n,
    struct store_error *err)
{
	struct catalog *cat = arg;
	sqlite3_stmt *st;
	int64_t now = time_now_ms();
	int rc = SQLITE_DONE;

	if (exec(cat, "BEGIN IMMEDIATE", err) == -1)
		return -1;
	if (sqlite3_prepare_v2(cat->db, "INSERT OR IGNORE INTO rejections (carrier, seq, reason,"
	    " message, recorded_ms) VALUES (?, ?, ?, ?, ?)", -1, &st, NULL) != SQLITE_OK)
		rc = sqlite3_errcode(cat->db);
	else {
		for (size_t i = 0; i < n && rc == SQLITE_DONE; i++) {
			sqlite3_bind_text(st, 1, r[i].code, -1, SQLITE_STATIC);
			sqlite3_bind_int64(st, 2, (sqlite3_int64)r[i].seq);
			sqlite3_bind_int(st, 3, r[i].reason);
			sqlite3_bind_text(st, 4, r[i].message, -1, SQLITE_STATIC);
			sqlite3_bind_int64(st, 5, now);
			rc = sqlite3_step(st);
			sqlite3_reset(st);
		}
		sqlite3_finalize(st);
	}
	if (rc != SQLITE_DONE) {
		sqlite_error(err, cat->db, rc, "recording rejections");
		sqlite3_exec(cat->db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	return exec(cat, "COMMIT", err);
}

static int
catalog_each_rejection(void *arg, const char *carrier, uint64_t after, store_seq_fn fn,
    void *fnarg, struct store_error *err)
{
	struct catalog *cat = arg;
	sqlite3_stmt *st;
	int rc;

	if ((rc = sqlite3_prepare_v2(cat->db, "SELECT seq FROM rejections WHERE carrier = ?"
	    " AND seq > ? ORDER BY seq", -1, &st, NULL)) != SQLITE_OK) {
		sqlite_error(err, cat->db, rc, "reading rejections");
		return -1;
	}
	sqlite3_bind_text(st, 1, carrier, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)after);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		fn(fnarg, (uint64_t)sqlite3_column_int64(st, 0));
	if (rc != SQLITE_DONE)
		sqlite_error(err, cat->db, rc, "reading rejections");
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

static int
catalog_each_stored_seq(void *arg, const struct leg *leg, const char *carrier, uint64_t after,
    uint64_t upto, store_seq_fn fn, void *fnarg, struct store_error *err)
{
	struct catalog *cat = arg;
	char path[CONFIG_PATH_MAX + 64], msg[512];
	sqlite3_stmt *st;
	sqlite3 *db;
	int rc;

	if (sqlite_leg_path(cat->store, leg->code, path, sizeof path) == -1) {
		store_error_set(err, STORE_UNSUPPORTED, "leg %s: path too long", leg->code);
		return -1;
	}
	if ((db = db_open_ro(path, msg, sizeof msg)) == NULL) {
		sqlite_error_text(err, SQLITE_CANTOPEN, msg);
		return -1;
	}
	rc = sqlite3_prepare_v2(db, "SELECT seq FROM events WHERE carrier = ?1 AND seq > ?2"
	    " AND seq <= ?3", -1, &st, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_text(st, 1, carrier, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)after);
		sqlite3_bind_int64(st, 3, (sqlite3_int64)upto);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW)
			fn(fnarg, (uint64_t)sqlite3_column_int64(st, 0));
		sqlite3_finalize(st);
	}
	if (rc != SQLITE_OK && rc != SQLITE_DONE) {
		sqlite_error(err, db, rc, path);
		sqlite3_close(db);
		return -1;
	}
	sqlite3_close(db);
	return 0;
}

static int
catalog_saved_mark(void *arg, const char *carrier, uint64_t *acked_seq, struct store_error *err)
{
	struct catalog *cat = arg;
	sqlite3_stmt *st;
	int rc;

	if ((rc = sqlite3_prepare_v2(cat->db, "SELECT acked_seq FROM carriers WHERE code = ?",
	    -1, &st, NULL)) != SQLITE_OK) {
		sqlite_error(err, cat->db, rc, "reading a mark");
		return -1;
	}
	sqlite3_bind_text(st, 1, carrier, -1, SQLITE_STATIC);
	*acked_seq = 0;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*acked_seq = (uint64_t)sqlite3_column_int64(st, 0);
		rc = SQLITE_DONE;
	}
	if (rc != SQLITE_DONE)
		sqlite_error(err, cat->db, rc, "reading a mark");
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

const struct store_catalog_ops sqlite_catalog_ops = {
	.open = catalog_open,
	.close = catalog_close,
	.sync = catalog_sync,
	.save_marks = catalog_save_marks,
	.save_rejections = catalog_save_rejections,
	.each_rejection = catalog_each_rejection,
	.each_stored_seq = catalog_each_stored_seq,
	.saved_mark = catalog_saved_mark,
};
