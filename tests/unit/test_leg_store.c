/*
 * The leg store (daemon/store/sqlite/leg_store.c) against a real SQLite file in a temp
 * directory: commit, duplicates, restart, out-of-order events, retractions
 * in both orders, and the traversals it derives.
 */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <sqlite3.h>

#include "db.h"
#include "leg_store.h"
#include "leg_store_internal.h"
#include "update_rec.h"

#define H(x) ((int64_t)(x) * 3600 * 1000)
#define T0 1780000000000LL	/* 2026-05-28 */

static char dir[64];
static struct leg movement = { .code = "KZ-RAIL-ALT-AKT", .kind = LEG_MOVEMENT,
	.typical_h = 120 };
static struct leg_store *store;

static int
setup(void **state)
{
	char err[256];

	(void)state;
	snprintf(dir, sizeof dir, "/tmp/corridor-test-store.XXXXXX");
	assert_non_null(mkdtemp(dir));
	store = leg_store_open(dir, &movement, STORE_SYNC_NORMAL, err, sizeof err);
	assert_non_null(store);
	return 0;
}

static int
teardown(void **state)
{
	char path[128];

	(void)state;
	leg_store_close(store);
	snprintf(path, sizeof path, "%s/%s.db", dir, movement.code);
	unlink(path);
	strcat(path, "-wal");
	unlink(path);
	snprintf(path, sizeof path, "%s/%s.db-shm", dir, movement.code);
	unlink(path);
	rmdir(dir);
	return 0;
}

/* One update of container CSQU3054383 (or another unit) for the leg. */
static struct update_rec *
rec(uint64_t seq, int code, int64_t t, const char *container, const char *retracts)
{
	Corridor__ShipmentUpdate u = CORRIDOR__SHIPMENT_UPDATE__INIT;
	char msg[32];

	snprintf(msg, sizeof msg, "m%llu", (unsigned long long)seq);
	u.carrier = (char *)"KTZE";
	u.has_seq = 1;
	u.seq = seq;
	u.message_id = msg;
	u.has_event_class = u.has_classifier = u.has_event_code = u.has_event_time_ms = 1;
	u.event_class = CORRIDOR__EVENT_CLASS__TRANSPORT;
	u.classifier = CORRIDOR__CLASSIFIER__ACT;
	u.event_code = (Corridor__EventCode)code;
	u.event_time_ms = t;
	u.node = (char *)"ALTYNKOL";
	u.leg = movement.code;
	u.has_direction = 1;
	u.direction = CORRIDOR__DIRECTION__W;
	u.container = (char *)container;
	u.iso_type = (char *)"45G1";
	u.has_gross_kg = 1;
	u.gross_kg = 20000;
	u.retracts_message_id = (char *)retracts;
	return update_rec_new(&u, 0, T0);
}

/* Stores recs in one transaction and frees them; returns the results. */
static void
append(struct update_rec **recs, size_t n, enum rec_result *results)
{
	assert_int_equal(leg_store_append(store, recs, n, NULL), 0);
	for (size_t i = 0; i < n; i++) {
		results[i] = recs[i]->result;
		free(recs[i]);
	}
}

static int64_t
scalar(const char *sql)
{
	char path[128], err[256];
	sqlite3 *db;
	sqlite3_stmt *st;
	int64_t v = -1;

	snprintf(path, sizeof path, "%s/%s.db", dir, movement.code);
	db = db_open_ro(path, err, sizeof err);
	assert_non_null(db);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

static void
test_commit_and_traversal(void **state)
{
	struct update_rec *r[2] = {
		rec(1, CORRIDOR__EVENT_CODE__DEPA, T0, "CSQU3054383", NULL),
		rec(2, CORRIDOR__EVENT_CODE__ARRI, T0 + H(90), "CSQU3054383", NULL),
	};
	enum rec_result res[2];

	(void)state;
	append(r, 2, res);
	assert_int_equal(res[0], REC_STORED);
	assert_int_equal(res[1], REC_STORED);
	assert_int_equal(scalar("SELECT count(*) FROM events"), 2);
	assert_int_equal(scalar("SELECT duration_ms FROM traversals"), H(90));
	assert_int_equal(scalar("SELECT teu FROM traversals"), 2);
}

static void
test_duplicate_and_restart(void **state)
{
	struct update_rec *r[1] = { rec(1, CORRIDOR__EVENT_CODE__DEPA, T0, "CSQU3054383", NULL) };
	struct update_rec *again[2];
	enum rec_result res[2];
	char err[256];

	(void)state;
	append(r, 1, res);
	assert_int_equal(res[0], REC_STORED);
	/* close and open again: the file keeps it, (carrier, seq) stays unique */
	leg_store_close(store);
	store = leg_store_open(dir, &movement, STORE_SYNC_NORMAL, err, sizeof err);
	assert_non_null(store);
	again[0] = rec(1, CORRIDOR__EVENT_CODE__DEPA, T0, "CSQU3054383", NULL);
	again[1] = rec(1, CORRIDOR__EVENT_CODE__DEPA, T0, "CSQU3054383", NULL);
	append(again, 2, res);
	assert_int_equal(res[0], REC_DUPLICATE);
	assert_int_equal(res[1], REC_DUPLICATE);
	assert_int_equal(scalar("SELECT count(*) FROM events"), 1);
	assert_int_equal(scalar("SELECT count(*) FROM traversals WHERE exit_time_ms IS NULL"), 1);
}

static void
test_out_of_order_across_batches(void **state)
{
	struct update_rec *first[1] = {
		rec(1, CORRIDOR__EVENT_CODE__ARRI, T0 + H(100), "CSQU3054383", NULL),
	};
	struct update_rec *late[1] = { rec(2, CORRIDOR__EVENT_CODE__DEPA, T0, "CSQU3054383", NULL) };
	enum rec_result res[1];

	(void)state;
	append(first, 1, res);
	/* an arrival alone is an orphan: nothing in the leg */
	assert_int_equal(scalar("SELECT count(*) FROM traversals"), 0);
	append(late, 1, res);
	assert_int_equal(scalar("SELECT duration_ms FROM traversals"), H(100));
}

static void
test_late_entry_replaces_later_one(void **state)
{
	struct update_rec *a[2] = {
		rec(1, CORRIDOR__EVENT_CODE__DEPA, T0 + H(10), "CSQU3054383", NULL),
		rec(2, CORRIDOR__EVENT_CODE__ARRI, T0 + H(50), "CSQU3054383", NULL),
	};
	struct update_rec *b[1] = { rec(3, CORRIDOR__EVENT_CODE__LOAD, T0, "CSQU3054383", NULL) };
	enum rec_result res[2];

	(void)state;
	append(a, 2, res);
	append(b, 1, res);
	/* the earlier entry opens the traversal; the one at 10 h is a repeat */
	assert_int_equal(scalar("SELECT count(*) FROM traversals"), 1);
	assert_int_equal(scalar("SELECT duration_ms FROM traversals"), H(50));
}

static void
test_retraction_after_target(void **state)
{
	struct update_rec *a[2] = {
		rec(1, CORRIDOR__EVENT_CODE__DEPA, T0, "CSQU3054383", NULL),
		rec(2, CORRIDOR__EVENT_CODE__ARRI, T0 + H(90), "CSQU3054383", NULL),
	};
	/* the arrival was wrong: retracted, and the right one sent */
	struct update_rec *b[1] = {
		rec(3, CORRIDOR__EVENT_CODE__ARRI, T0 + H(80), "CSQU3054383", "m2"),
	};
	enum rec_result res[2];

	(void)state;
	append(a, 2, res);
	append(b, 1, res);
	assert_int_equal(scalar("SELECT retracted FROM events WHERE seq = 2"), 1);
	assert_int_equal(scalar("SELECT count(*) FROM traversals"), 1);
	assert_int_equal(scalar("SELECT duration_ms FROM traversals"), H(80));
}

static void
test_retraction_before_target(void **state)
{
	/* the retraction arrives first (a ferry without signal sent the target late) */
	struct update_rec *a[2] = {
		rec(5, CORRIDOR__EVENT_CODE__DEPA, T0, "MWCU6059784", "m6"),
		rec(7, CORRIDOR__EVENT_CODE__ARRI, T0 + H(30), "MWCU6059784", NULL),
	};
	struct update_rec *b[1] = { rec(6, CORRIDOR__EVENT_CODE__DEPA, T0 - H(20), "MWCU6059784", NULL) };
	enum rec_result res[2];

	(void)state;
	append(a, 2, res);
	append(b, 1, res);
	assert_int_equal(scalar("SELECT retracted FROM events WHERE seq = 6"), 1);
	/* the retracted earlier departure never counts */
	assert_int_equal(scalar("SELECT duration_ms FROM traversals"), H(30));
}

static void
test_retraction_in_same_batch(void **state)
{
	struct update_rec *a[3] = {
		rec(1, CORRIDOR__EVENT_CODE__DEPA, T0, "CSQU3054383", NULL),
		rec(2, CORRIDOR__EVENT_CODE__ARRI, T0 + H(5), "CSQU3054383", NULL),
		rec(3, CORRIDOR__EVENT_CODE__DEPA, T0 + H(1), "CSQU3054383", "m1"),
	};
	enum rec_result res[3];

	(void)state;
	append(a, 3, res);
	assert_int_equal(scalar("SELECT count(*) FROM traversals"), 1);
	assert_int_equal(scalar("SELECT duration_ms FROM traversals"), H(4));
}

/* Every row of the derived tables, as one text, to compare two states. */
static char *
dump_derived(void)
{
	static const char *const sql[] = {
		"SELECT group_concat(x, '|') FROM (SELECT unit || direction || enter_time_ms || ','"
		" || ifnull(exit_time_ms, '-') || ',' || carrier || teu || containers || gross_kg"
		" || ',' || ifnull(train_id, '-') || ifnull(vessel_call, '-') || ','"
		" || ifnull(plan_ms, '-') || ',' || eta_n || ',' || eta_err_ms AS x FROM traversals"
		" ORDER BY unit, direction, enter_time_ms)",
		"SELECT group_concat(x, '|') FROM (SELECT hour_ms || direction || carrier || ','"
		" || n || ',' || sum_ms || ',' || min_ms || ',' || max_ms || ',' || on_time || ','"
		" || planned || ',' || on_plan || ',' || eta_n || ',' || eta_err_ms || ',' || teu"
		" || ',' || containers || ',' || gross_kg || ',' || hex(hist) AS x"
		" FROM transit_hourly ORDER BY hour_ms, direction, carrier)",
		"SELECT group_concat(x, '|') FROM (SELECT hour_ms || direction || carrier || ','"
		" || units || ',' || teu || ',' || containers || ',' || gross_kg AS x"
		" FROM volume_hourly ORDER BY hour_ms, direction, carrier)",
		"SELECT group_concat(x, '|') FROM (SELECT kind || ident || direction || ','"
		" || first_enter_ms || carrier || units AS x FROM conveyances"
		" ORDER BY kind, ident, direction)",
	};
	char path[128], err[256];
	size_t len = 0;
	char *out = calloc(1, 1);
	sqlite3 *db;

	snprintf(path, sizeof path, "%s/%s.db", dir, movement.code);
	db = db_open_ro(path, err, sizeof err);
	assert_non_null(db);
	for (size_t i = 0; i < sizeof sql / sizeof sql[0]; i++) {
		sqlite3_stmt *st;
		const char *text;

		assert_int_equal(sqlite3_prepare_v2(db, sql[i], -1, &st, NULL), SQLITE_OK);
		assert_int_equal(sqlite3_step(st), SQLITE_ROW);
		text = (const char *)sqlite3_column_text(st, 0);
		text = text ? text : "";
		out = realloc(out, len + strlen(text) + 2);
		assert_non_null(out);
		memcpy(out + len, text, strlen(text));
		len += strlen(text);
		out[len++] = '\n';
		out[len] = '\0';
		sqlite3_finalize(st);
	}
	sqlite3_close(db);
	return out;
}

/* A random update: a unit's departure, arrival, plan or estimate, on one of
 * a few trains, sometimes retracting an earlier update of the carrier. */
static struct update_rec *
random_rec(uint64_t seq, unsigned *rnd)
{
	static const char *const boxes[] = { "CSQU3054383", "MWCU6059784", "APZU4812090" };
	static const char *const trains[] = { "KZ1", "KZ2", "KZ3" };
	char retracts[32];
	struct update_rec *r;
	int kind = rand_r(rnd) % 10;
	int code = kind < 4 ? CORRIDOR__EVENT_CODE__DEPA : CORRIDOR__EVENT_CODE__ARRI;
	int64_t t = T0 + (int64_t)(rand_r(rnd) % 400) * 15 * 60 * 1000;

	snprintf(retracts, sizeof retracts, "m%u", 1 + rand_r(rnd) % (unsigned)seq);
	r = rec(seq, code, t, boxes[rand_r(rnd) % 3],
	    seq > 3 && rand_r(rnd) % 12 == 0 ? retracts : NULL);
	assert_non_null(r);
	r->train_id = trains[rand_r(rnd) % 3];
	if (kind == 8)
		r->classifier = CORRIDOR__CLASSIFIER__PLN;
	else if (kind == 9)
		r->classifier = CORRIDOR__CLASSIFIER__EST;
	return r;
}

static void
test_rollups_match_a_full_derivation(void **state)
{
	unsigned rnd = 7;
	uint64_t seq = 0;
	char *incremental, *derived;

	(void)state;
	/* 600 batches: the quarter-hour times collide, entries among them */
	for (int batch = 0; batch < 600; batch++) {
		struct update_rec *r[8];
		enum rec_result res[8];
		size_t n = 1 + (size_t)(rand_r(&rnd) % 8);

		for (size_t i = 0; i < n; i++)
			r[i] = random_rec(++seq, &rnd);
		append(r, n, res);
	}
	/* traversals, rollups and conveyances kept batch by batch are what a
	 * derivation from all the live events gives */
	incremental = dump_derived();
	/* the workload did retract, plan, estimate and share trains */
	assert_true(scalar("SELECT count(*) FROM events WHERE retracted = 1") > 0);
	assert_true(scalar("SELECT sum(planned) FROM transit_hourly") > 0);
	assert_true(scalar("SELECT sum(eta_n) FROM transit_hourly") > 0);
	assert_true(scalar("SELECT count(*) FROM conveyances WHERE units > 1") > 0);
	assert_true(scalar("SELECT count(*) FROM transit_hourly") > 0);
	assert_int_equal(scalar("SELECT sum(n) FROM transit_hourly"),
	    scalar("SELECT count(*) FROM traversals WHERE exit_time_ms IS NOT NULL"));
	assert_int_equal(scalar("SELECT sum(units) FROM volume_hourly"),
	    scalar("SELECT count(*) FROM traversals"));
	assert_int_equal(leg_rederive(store, H(120)), SQLITE_OK);
	derived = dump_derived();
	assert_string_equal(incremental, derived);
	free(incremental);
	free(derived);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_commit_and_traversal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_duplicate_and_restart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_out_of_order_across_batches, setup, teardown),
		cmocka_unit_test_setup_teardown(test_late_entry_replaces_later_one, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retraction_after_target, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retraction_before_target, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retraction_in_same_batch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rollups_match_a_full_derivation, setup,
		    teardown),
	};

	return UNIT_RUN(tests);
}
