/*
 * The PostgreSQL backend's catalog handle; see store_catalog.h. Its open
 * applies the schema's migrations (once however many daemons start
 * together: pg_db_migrate). Marks are shared by every daemon on the
 * database: a saved mark only moves up (greatest()), and the recovery reads
 * the corridor-wide claims of update_seqs, whichever daemon stored them.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg_store.h"
#include "timeutil.h"

struct pg_catalog {
	const struct pg_store *store;
	struct pg_db *db;
};

static void *
catalog_open(void *store, struct store_error *err)
{
	struct pg_catalog *cat = calloc(1, sizeof *cat);

	if (cat == NULL) {
		store_error_set(err, STORE_RETRYABLE, "out of memory");
		return NULL;
	}
	cat->store = store;
	if ((cat->db = pg_store_db(cat->store, false, err)) == NULL ||
	    pg_store_ensure(cat->store, cat->db, err) == -1 ||
	    pg_db_migrate(cat->db, pg_migrations, pg_migrations_count, err) == -1) {
		pg_db_free(cat->db);
		free(cat);
		return NULL;
	}
	return cat;
}

static void
catalog_close(void *arg)
{
	struct pg_catalog *cat = arg;

	if (cat == NULL)
		return;
	pg_db_free(cat->db);
	free(cat);
}

/* BEGIN on a live connection. */
static int
catalog_begin(struct pg_catalog *cat, struct store_error *err)
{
	PGresult *res;

	if (pg_store_ensure(cat->store, cat->db, err) == -1)
		return -1;
	res = pg_store_exec(cat->db, "catalog", "BEGIN", 0, NULL, PGRES_COMMAND_OK, err);
	PQclear(res);
	return res != NULL ? 0 : -1;
}

/* Runs one statement of the open transaction, no rows wanted. */
static int
catalog_run(struct pg_catalog *cat, const char *what, const char *sql, int n,
    const char *const *params, struct store_error *err)
{
	PGresult *res = pg_store_exec(cat->db, what, sql, n, params, PGRES_COMMAND_OK, err);

	PQclear(res);
	return res != NULL ? 0 : -1;
}

static int
by_code(const void *a, const void *b)
{
	return strcmp((*(const struct leg *const *)a)->code, (*(const struct leg *const *)b)->code);
}

/* Adding a leg makes its events partition, which locks events: legs are
 * added in the order of their codes, so two daemons adding the same new
 * legs cannot deadlock. */
static int
sync_legs(struct pg_catalog *cat, const struct leg_table *legs, const char *now,
    struct store_error *err)
{
	static const char sql[] =
	    "INSERT INTO legs (code, from_name, to_name, country, kind, mode, distance_km,"
	    " min_h, typical_h, bad_h, created_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9,"
	    " $10, $11) ON CONFLICT (code) DO UPDATE SET from_name = excluded.from_name,"
	    " to_name = excluded.to_name, country = excluded.country, kind = excluded.kind,"
	    " mode = excluded.mode, distance_km = excluded.distance_km, min_h = excluded.min_h,"
	    " typical_h = excluded.typical_h, bad_h = excluded.bad_h"
	    " WHERE (legs.from_name, legs.to_name, legs.country, legs.kind, legs.mode,"
	    " legs.distance_km, legs.min_h, legs.typical_h, legs.bad_h) IS DISTINCT FROM"
	    " (excluded.from_name, excluded.to_name, excluded.country, excluded.kind,"
	    " excluded.mode, excluded.distance_km, excluded.min_h, excluded.typical_h,"
	    " excluded.bad_h)";
	const struct leg **order = calloc(legs->count + 1, sizeof *order);
	int rc = 0;

	if (order == NULL) {
		store_error_set(err, STORE_RETRYABLE, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < legs->count; i++)
		order[i] = &legs->legs[i];
	qsort(order, legs->count, sizeof *order, by_code);
	for (size_t i = 0; i < legs->count && rc == 0; i++) {
		const struct leg *l = order[i];
		char num[4][32];
		const char *p[11] = { l->code, l->from, l->to, l->country, leg_kind_name(l->kind),
			l->mode, num[0], num[1], num[2], num[3], now };

		/* %.17g: the double read back is the one written */
		snprintf(num[0], sizeof num[0], "%.17g", l->distance_km);
		snprintf(num[1], sizeof num[1], "%.17g", l->min_h);
		snprintf(num[2], sizeof num[2], "%.17g", l->typical_h);
		snprintf(num[3], sizeof num[3], "%.17g", l->bad_h);
		rc = catalog_run(cat, "recording legs", sql, 11, p, err);
	}
	free(order);
	return rc;
}

static int
sync_carriers(struct pg_catalog *cat, struct carrier_table *ct, const char *now,
    struct store_error *err)
{
	for (size_t i = 0; i < ct->count; i++) {
		struct carrier *c = &ct->items[i];
		const char *p[2] = { c->code, now };
		PGresult *res;
		uint64_t saved;

		/* one statement: the row made, or the one there */
		res = pg_store_exec(cat->db, "recording carriers",
		    "WITH made AS (INSERT INTO carriers (code, updated_ms) VALUES ($1, $2)"
		    " ON CONFLICT (code) DO NOTHING RETURNING acked_seq)"
		    " SELECT acked_seq FROM made UNION ALL"
		    " SELECT acked_seq FROM carriers WHERE code = $1", 2, p, PGRES_TUPLES_OK, err);
		if (res == NULL)
			return -1;
		if (PQntuples(res) < 1) {
			PQclear(res);
			store_error_set(err, STORE_CORRUPT, "carrier %s: no row", c->code);
			return -1;
		}
		saved = (uint64_t)pg_store_int(res, 0, 0);
		PQclear(res);
		/* a reload keeps the higher, live mark */
		if (saved > c->acked_seq)
			c->acked_seq = saved;
		c->saved_seq = saved;
	}
	return 0;
}

static int
catalog_sync(void *arg, const struct leg_table *legs, struct carrier_table *ct,
    struct store_error *err)
{
	struct pg_catalog *cat = arg;
	char now[24];

	snprintf(now, sizeof now, "%" PRId64, time_now_ms());
	if (catalog_begin(cat, err) == -1)
		return -1;
	if (sync_legs(cat, legs, now, err) == -1 || sync_carriers(cat, ct, now, err) == -1) {
		pg_store_rollback(cat->db);
		return -1;
	}
	return pg_store_commit(cat->db, "committing the catalog", err);
}

static int
catalog_save_marks(void *arg, const struct store_mark *marks, size_t n, struct store_error *err)
{
	struct pg_catalog *cat = arg;
	int64_t now = time_now_ms();
	char now_s[24], hour_s[24];
	int rc = 0;

	snprintf(now_s, sizeof now_s, "%" PRId64, now);
	snprintf(hour_s, sizeof hour_s, "%" PRId64, now - now % 3600000);
	if (catalog_begin(cat, err) == -1)
		return -1;
	for (size_t i = 0; i < n && rc == 0; i++) {
		char seq[24], dups[24];
		const char *p[3] = { marks[i].code, seq, now_s };
		const char *d[3] = { marks[i].code, hour_s, dups };

		snprintf(seq, sizeof seq, "%" PRIu64, marks[i].acked_seq);
		snprintf(dups, sizeof dups, "%" PRIu64, marks[i].mark_duplicates);
		/* several daemons save marks: never lower one */
		rc = catalog_run(cat, "saving marks", "UPDATE carriers SET"
		    " acked_seq = greatest(acked_seq, $2::bigint), updated_ms = $3"
		    " WHERE code = $1", 3, p, err);
		if (rc == 0 && marks[i].mark_duplicates > 0)
			rc = catalog_run(cat, "saving marks", "INSERT INTO duplicates_hourly"
			    " (carrier, hour_ms, n) VALUES ($1, $2, $3) ON CONFLICT (carrier, hour_ms)"
			    " DO UPDATE SET n = duplicates_hourly.n + excluded.n", 3, d, err);
	}
	if (rc == -1) {
		pg_store_rollback(cat->db);
		return -1;
	}
	return pg_store_commit(cat->db, "committing marks", err);
}

static int
catalog_save_rejections(void *arg, const struct store_rejection *r, size_t n,
    struct store_error *err)
{
	struct pg_catalog *cat = arg;
	char now[24];
	int rc = 0;

	snprintf(now, sizeof now, "%" PRId64, time_now_ms());
	if (catalog_begin(cat, err) == -1)
		return -1;
	for (size_t i = 0; i < n && rc == 0; i++) {
		char seq[24], reason[16];
		const char *p[5] = { r[i].code, seq, reason, r[i].message, now };

		snprintf(seq, sizeof seq, "%" PRIu64, r[i].seq);
		snprintf(reason, sizeof reason, "%d", r[i].reason);
		rc = catalog_run(cat, "recording rejections", "INSERT INTO rejections (carrier,"
		    " seq, reason, message, recorded_ms) VALUES ($1, $2, $3, $4, $5)"
		    " ON CONFLICT (carrier, seq) DO NOTHING", 5, p, err);
	}
	if (rc == -1) {
		pg_store_rollback(cat->db);
		return -1;
	}
	return pg_store_commit(cat->db, "committing rejections", err);
}

/* Calls fn for each row's first column, a seq. */
static int
catalog_each_seq(struct pg_catalog *cat, const char *what, const char *sql, int n,
    const char *const *params, store_seq_fn fn, void *arg, struct store_error *err)
{
	PGresult *res;

	if (pg_store_ensure(cat->store, cat->db, err) == -1 ||
	    (res = pg_store_exec(cat->db, what, sql, n, params, PGRES_TUPLES_OK, err)) == NULL)
		return -1;
	for (int i = 0; i < PQntuples(res); i++)
		fn(arg, (uint64_t)pg_store_int(res, i, 0));
	PQclear(res);
	return 0;
}

static int
catalog_each_rejection(void *arg, const char *carrier, uint64_t after, store_seq_fn fn,
    void *fnarg, struct store_error *err)
{
	char a[24];
	const char *p[2] = { carrier, a };

	snprintf(a, sizeof a, "%" PRIu64, after);
	return catalog_each_seq(arg, "reading rejections", "SELECT seq FROM rejections"
	    " WHERE carrier = $1 AND seq > $2 ORDER BY seq", 2, p, fn, fnarg, err);
}

/* The claims, not the events: a claim outlives its event's retention, and
 * its seq stays acknowledged. */
static int
catalog_each_stored_seq(void *arg, const struct leg *leg, const char *carrier, uint64_t after,
    uint64_t upto, store_seq_fn fn, void *fnarg, struct store_error *err)
{
	char a[24], u[24];
	const char *p[4] = { carrier, leg->code, a, u };

	snprintf(a, sizeof a, "%" PRIu64, after);
	snprintf(u, sizeof u, "%" PRIu64, upto);
	return catalog_each_seq(arg, "recovering a mark", "SELECT seq FROM update_seqs"
	    " WHERE carrier = $1 AND leg = $2 AND seq > $3 AND seq <= $4 ORDER BY seq", 4, p,
	    fn, fnarg, err);
}

static int
catalog_saved_mark(void *arg, const char *carrier, uint64_t *acked_seq, struct store_error *err)
{
	struct pg_catalog *cat = arg;
	const char *p[1] = { carrier };
	PGresult *res;

	if (pg_store_ensure(cat->store, cat->db, err) == -1 ||
	    (res = pg_store_exec(cat->db, "reading a mark", "SELECT acked_seq FROM carriers"
	    " WHERE code = $1", 1, p, PGRES_TUPLES_OK, err)) == NULL)
		return -1;
	*acked_seq = PQntuples(res) > 0 ? (uint64_t)pg_store_int(res, 0, 0) : 0;
	PQclear(res);
	return 0;
}

const struct store_catalog_ops pg_catalog_ops = {
	.open = catalog_open,
	.close = catalog_close,
	.sync = catalog_sync,
	.save_marks = catalog_save_marks,
	.save_rejections = catalog_save_rejections,
	.each_rejection = catalog_each_rejection,
	.each_stored_seq = catalog_each_stored_seq,
	.saved_mark = catalog_saved_mark,
};
