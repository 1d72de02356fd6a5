/* The catalog database; see catalog.h. */
#include "catalog.h"

#include <stdio.h>
#include <stdlib.h>

#include "timeutil.h"

extern const char *const catalog_migrations[];
extern const size_t catalog_migrations_count;

struct catalog {
	sqlite3 *db;
};

struct catalog *
catalog_open(const char *path, enum db_sync sync, char *err, size_t errlen)
{
	struct catalog *cat = calloc(1, sizeof *cat);

	if (cat == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	cat->db = db_open_rw(path, sync, catalog_migrations, catalog_migrations_count, err,
	    errlen);
	if (cat->db == NULL) {
		free(cat);
		return NULL;
	}
	return cat;
}

void
catalog_close(struct catalog *cat)
{
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

int
catalog_sync(struct catalog *cat, const struct leg_table *legs, struct carrier_table *ct,
    char *err, size_t errlen)
{
	int64_t now = time_now_ms();
	int rc;

	if (db_exec(cat->db, "BEGIN IMMEDIATE", err, errlen) == -1)
		return -1;
	rc = sync_legs(cat, legs, now);
	if (rc == SQLITE_OK)
		rc = sync_carriers(cat, ct, now);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "catalog: %s", sqlite3_errmsg(cat->db));
		sqlite3_exec(cat->db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	return db_exec(cat->db, "COMMIT", err, errlen);
}

/* Adds each carrier's resends answered from its mark to the current hour. */
static int
save_mark_duplicates(struct catalog *cat, const struct catalog_mark *marks, size_t n, int64_t now)
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

int
catalog_save_marks(struct catalog *cat, const struct catalog_mark *marks, size_t n, char *err,
    size_t errlen)
{
	sqlite3_stmt *st;
	int64_t now = time_now_ms();
	int rc = SQLITE_DONE;

	if (db_exec(cat->db, "BEGIN IMMEDIATE", err, errlen) == -1)
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
		snprintf(err, errlen, "saving marks: %s", sqlite3_errmsg(cat->db));
		sqlite3_exec(cat->db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	return db_exec(cat->db, "COMMIT", err, errlen);
}

int
catalog_save_rejections(struct catalog *cat, const struct catalog_rejection *r, size_t n,
    char *err, size_t errlen)
{
	sqlite3_stmt *st;
	int64_t now = time_now_ms();
	int rc = SQLITE_DONE;

	if (db_exec(cat->db, "BEGIN IMMEDIATE", err, errlen) == -1)
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
		snprintf(err, errlen, "recording rejections: %s", sqlite3_errmsg(cat->db));
		sqlite3_exec(cat->db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	return db_exec(cat->db, "COMMIT", err, errlen);
}

int
catalog_each_rejection(struct catalog *cat, const char *carrier, uint64_t after,
    void (*fn)(void *arg, uint64_t seq), void *arg)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(cat->db, "SELECT seq FROM rejections WHERE carrier = ? AND seq > ?"
	    " ORDER BY seq", -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, carrier, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)after);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		fn(arg, (uint64_t)sqlite3_column_int64(st, 0));
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}
