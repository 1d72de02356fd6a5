/*
 * The leg store (daemon/leg_store.c) against a real SQLite file in a temp
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
#include "update_rec.h"

#define H(x) ((int64_t)(x) * 3600 * 1000)
#define T0 1780000000000LL	/* 2026-05-28 */

static char dir[64];
static struct leg movement = { .code = "KZ-RAIL-ALT-AKT", .kind = LEG_MOVEMENT };
static struct leg_store *store;

static int
setup(void **state)
{
	char err[256];

	(void)state;
	snprintf(dir, sizeof dir, "/tmp/corridor-test-store.XXXXXX");
	assert_non_null(mkdtemp(dir));
	store = leg_store_open(dir, &movement, DB_SYNC_NORMAL, err, sizeof err);
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
	assert_int_equal(leg_store_append(store, recs, n), 0);
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
	store = leg_store_open(dir, &movement, DB_SYNC_NORMAL, err, sizeof err);
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
	};

	return UNIT_RUN(tests);
}
