/*
 * The PostgreSQL store's connection (daemon/store/postgresql/pg_db.c)
 * against a real PostgreSQL 15 that tests/pg/with_postgres.sh starts for
 * this binary: the migrations on an empty database, again (nothing to do),
 * by two processes at once (applied once), an edited or unknown migration
 * refused; libpq's errors as the store's kinds (a serialization failure, a
 * deadlock, a terminated connection, a stopped server) and the reconnection
 * with backoff. Each case makes its own database (pg_fixture.c); the last
 * one stops and restarts the server. The schema's own rules are
 * test_pg_schema.c; what needs no server, test_pg_offline.c.
 */
#include "unit.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pg_fixture.h"

/* -------------------------------------------------------------- migrations */

static void
test_migrate_empty_and_again(void **state)
{
	struct pg_db *db;
	PGconn *c;
	long long before;
	int version = -1;
	struct store_error err;

	(void)state;
	make_db("t_migrate");
	db = open_db("t_migrate");
	assert_int_equal(pg_db_schema_version(db, &version, &err), 0);
	assert_int_equal(version, 0);
	migrate_ok(db);
	assert_int_equal(pg_db_schema_version(db, &version, &err), 0);
	assert_int_equal(version, (int)pg_migrations_count);
	c = raw_connect("t_migrate");
	assert_schema(c);

	/* again: nothing applied, the rows untouched (xmin: the transaction
	 * that wrote each row) */
	before = raw_int(c, "SELECT sum(xmin::text::bigint) FROM schema_migrations");
	migrate_ok(db);
	migrate_ok(db);
	assert_int_equal(raw_int(c, "SELECT sum(xmin::text::bigint) FROM schema_migrations"),
	    before);
	assert_schema(c);
	PQfinish(c);
	pg_db_free(db);
}

/* A database at a version this build does not know, or whose applied
 * migration is not this build's text, is refused, and nothing changes. */
static void
test_migrate_refuses(void **state)
{
	const char **edited = calloc(pg_migrations_count + 2, sizeof *edited);
	struct store_error err;
	struct pg_db *db;
	PGconn *c;

	(void)state;
	assert_non_null(edited);
	make_db("t_refuse");
	db = open_db("t_refuse");
	migrate_ok(db);
	assert_int_equal(pg_db_migrate(db, pg_migrations, pg_migrations_count - 1, &err), -1);
	assert_int_equal(err.kind, STORE_UNSUPPORTED);
	/* this build's migrations with the first one edited, and one more */
	for (size_t i = 0; i < pg_migrations_count; i++)
		edited[i] = pg_migrations[i];
	edited[0] = "-- edited\n";
	edited[pg_migrations_count] = "CREATE TABLE edited (x int);";
	assert_int_equal(pg_db_migrate(db, edited, pg_migrations_count + 1, &err), -1);
	assert_int_equal(err.kind, STORE_CORRUPT);
	assert_non_null(strstr(err.message, "migration 1 "));
	free(edited);
	c = raw_connect("t_refuse");
	assert_int_equal(raw_int(c, "SELECT (to_regclass('edited') IS NULL)::int"), 1);
	assert_schema(c);
	PQfinish(c);
	/* the handle is still usable after a refusal (rolled back) */
	migrate_ok(db);
	pg_db_free(db);
}

static void
test_migrate_two_at_once(void **state)
{
	char sql[128];
	int go[2];
	pid_t a, b;
	PGconn *c;
	int waited;

	(void)state;
	make_db("t_race");
	c = raw_connect("t_race");
	snprintf(sql, sizeof sql, "SELECT pg_advisory_lock(%lld)", (long long)PG_DB_MIGRATION_LOCK);
	raw_exec(c, sql);
	assert_int_equal(pipe(go), 0);
	a = spawn_worker("t_race", go[0], NULL);
	b = spawn_worker("t_race", go[0], NULL);
	assert_int_equal(write(go[1], "gg", 2), 2);
	for (waited = 0; waited < WAIT_MS; waited += POLL_MS) {
		if (raw_int(c, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"
		    " AND NOT granted") == 2)
			break;
		sleep_ms(POLL_MS);
	}
	if (waited >= WAIT_MS)
		fail_msg("the two migrators did not both wait for the migration lock");
	assert_int_equal(raw_int(c, "SELECT (to_regclass('schema_migrations') IS NULL)::int"), 1);
	snprintf(sql, sizeof sql, "SELECT pg_advisory_unlock(%lld)",
	    (long long)PG_DB_MIGRATION_LOCK);
	raw_exec(c, sql);
	expect_exit0(a);
	expect_exit0(b);
	assert_schema(c);
	PQfinish(c);

	close(go[0]);
	close(go[1]);

	two_at_once("t_race2", NULL);
	c = raw_connect("t_race2");
	assert_schema(c);
	PQfinish(c);
}

/* ------------------------------------------------------------------ errors */

/* A serialization failure (40001) is retryable, and the connection stays. */
static void
test_serialization_failure(void **state)
{
	struct store_error err;
	struct pg_db *db;
	PGresult *res;
	PGconn *c;

	(void)state;
	make_db("t_serial");
	db = open_db("t_serial");
	assert_int_equal(pg_db_exec(db, "CREATE TABLE t (id int PRIMARY KEY, v int);"
	    " INSERT INTO t VALUES (1, 0)", &err), 0);
	c = raw_connect("t_serial");
	assert_int_equal(pg_db_exec(db, "BEGIN ISOLATION LEVEL REPEATABLE READ", &err), 0);
	res = PQexec(pg_db_conn(db), "SELECT v FROM t WHERE id = 1");	/* the snapshot */
	assert_int_equal(pg_db_check(db, res, PGRES_TUPLES_OK, "reading", &err), 0);
	PQclear(res);
	raw_exec(c, "UPDATE t SET v = 1 WHERE id = 1");
	assert_int_equal(pg_db_exec(db, "UPDATE t SET v = 2 WHERE id = 1", &err), -1);
	assert_int_equal(err.kind, STORE_RETRYABLE);
	assert_non_null(strstr(err.message, "40001"));
	assert_non_null(pg_db_conn(db));
	assert_int_equal(pg_db_exec(db, "ROLLBACK", &err), 0);
	assert_int_equal(pg_db_exec(db, "UPDATE t SET v = 2 WHERE id = 1", &err), 0);
	assert_int_equal(raw_int(c, "SELECT v FROM t"), 2);
	PQfinish(c);
	pg_db_free(db);
}

/* A deadlock (40P01) is retryable. Both transactions are pg_db handles'; one
 * of the two backends finds the cycle (deadlock_timeout, whichever waited
 * long enough first on a loaded machine) and is cancelled: exactly one of
 * them fails, retryable, and its connection stays. */
static void
test_deadlock(void **state)
{
	struct store_error err, err2;
	struct pg_db *db, *db2;
	PGresult *res;
	PGconn *c;
	int waited, failed = 0;

	(void)state;
	make_db("t_deadlock");
	db = open_db("t_deadlock");
	db2 = open_db("t_deadlock");
	assert_int_equal(pg_db_exec(db, "CREATE TABLE t (id int PRIMARY KEY, v int);"
	    " INSERT INTO t VALUES (1, 0), (2, 0)", &err), 0);
	c = raw_connect("t_deadlock");
	assert_int_equal(pg_db_exec(db, "BEGIN; UPDATE t SET v = 1 WHERE id = 1", &err), 0);
	assert_int_equal(pg_db_exec(db2, "BEGIN; UPDATE t SET v = 2 WHERE id = 2", &err2), 0);
	assert_int_equal(PQsendQuery(pg_db_conn(db), "UPDATE t SET v = 1 WHERE id = 2"), 1);
	for (waited = 0; waited < WAIT_MS; waited += POLL_MS) {
		if (raw_int(c, "SELECT count(*) FROM pg_locks WHERE NOT granted") > 0)
			break;
		sleep_ms(POLL_MS);
	}
	if (waited >= WAIT_MS)
		fail_msg("the first update never waited for the row lock");
	/* the cycle */
	if (pg_db_exec(db2, "UPDATE t SET v = 2 WHERE id = 1", &err2) == -1) {
		assert_int_equal(err2.kind, STORE_RETRYABLE);
		assert_non_null(strstr(err2.message, "40P01"));
		assert_non_null(pg_db_conn(db2));
		failed++;
	}
	while ((res = PQgetResult(pg_db_conn(db))) != NULL) {
		if (pg_db_check(db, res, PGRES_COMMAND_OK, "updating", &err) == -1) {
			assert_int_equal(err.kind, STORE_RETRYABLE);
			assert_non_null(strstr(err.message, "40P01"));
			assert_non_null(pg_db_conn(db));
			failed++;
		}
		PQclear(res);
	}
	assert_int_equal(failed, 1);
	assert_int_equal(pg_db_exec(db, "COMMIT", &err), 0);
	assert_int_equal(pg_db_exec(db2, "COMMIT", &err2), 0);
	/* the survivor's two updates: 1 + 1 or 2 + 2 */
	assert_true(raw_int(c, "SELECT sum(v) FROM t") == 2 || raw_int(c, "SELECT sum(v) FROM t")
	    == 4);
	PQfinish(c);
	pg_db_free(db2);
	pg_db_free(db);
}

/* The server ends the connection (pg_terminate_backend, as at a failover or
 * a restart): retryable, the connection dropped, the next call connects. */
static void
test_terminated_connection(void **state)
{
	struct store_error err;
	struct pg_db *db;
	char sql[96];
	PGconn *c;

	(void)state;
	make_db("t_term");
	db = open_db("t_term");
	assert_int_equal(pg_db_exec(db, "SELECT 1", &err), 0);
	c = raw_connect("t_term");
	snprintf(sql, sizeof sql, "SELECT pg_terminate_backend(%d)",
	    PQbackendPID(pg_db_conn(db)));
	raw_exec(c, sql);
	assert_int_equal(pg_db_exec(db, "SELECT 1", &err), -1);
	assert_int_equal(err.kind, STORE_RETRYABLE);
	assert_null(pg_db_conn(db));
	assert_int_equal(pg_db_exec(db, "SELECT 1", &err), 0);
	assert_int_equal(pg_db_failures(db), 0);
	PQfinish(c);
	pg_db_free(db);
}

/* No server where the conninfo points: retryable, and within the backoff
 * no new attempt is made. */
static void
test_no_server(void **state)
{
	struct store_error err;
	struct pg_db *db;

	(void)state;
	db = pg_db_new("host=/nonexistent-corridor-pg port=5432 dbname=x connect_timeout=2",
	    &err);
	assert_non_null(db);
	assert_int_equal(pg_db_ensure(db, &err), -1);
	assert_int_equal(err.kind, STORE_RETRYABLE);
	assert_int_equal(pg_db_failures(db), 1);
	assert_int_equal(pg_db_ensure(db, &err), -1);
	assert_int_equal(err.kind, STORE_RETRYABLE);
	assert_non_null(strstr(err.message, "next try in"));
	assert_int_equal(pg_db_failures(db), 1);
	sleep_ms(pg_db_backoff_ms(1) * 5 / 4 + POLL_MS);
	assert_int_equal(pg_db_ensure(db, &err), -1);
	assert_int_equal(pg_db_failures(db), 2);
	pg_db_free(db);
}

/* Runs pg_ctl on the test's server (as its owner when we are root). */
static void
pg_ctl(const char *action)
{
	const char *bin = getenv("CORRIDOR_PG_BIN"), *data = getenv("CORRIDOR_PG_DATA");
	const char *run = getenv("CORRIDOR_PG_RUN");
	char cmd[2048];

	assert_non_null(bin);
	assert_non_null(data);
	snprintf(cmd, sizeof cmd, "%s '%s/pg_ctl' -D '%s' -l '%s/../server.log' -m fast -w -t 60"
	    " %s >/dev/null", run != NULL ? run : "", bin, data, data, action);
	assert_int_equal(system(cmd), 0);
}

/* The server stopped under a connected handle and started again: calls
 * fail retryable while it is down and succeed once it is back, on the
 * handle's own reconnection. Last: it restarts the server. */
static void
test_server_restart(void **state)
{
	struct store_error err;
	struct pg_db *db;
	int waited;

	(void)state;
	make_db("t_restart");
	db = open_db("t_restart");
	migrate_ok(db);
	pg_ctl("stop");
	assert_int_equal(pg_db_exec(db, "SELECT 1", &err), -1);
	assert_int_equal(err.kind, STORE_RETRYABLE);
	assert_int_equal(pg_db_exec(db, "SELECT 1", &err), -1);
	assert_int_equal(err.kind, STORE_RETRYABLE);
	assert_true(pg_db_failures(db) >= 1);
	pg_ctl("start");
	for (waited = 0; waited < WAIT_MS; waited += POLL_MS) {
		if (pg_db_exec(db, "SELECT 1", &err) == 0)
			break;
		assert_int_equal(err.kind, STORE_RETRYABLE);
		sleep_ms(POLL_MS);
	}
	if (waited >= WAIT_MS)
		fail_msg("no reconnection after the restart: %s", err.message);
	assert_int_equal(pg_db_failures(db), 0);
	migrate_ok(db);
	pg_db_free(db);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_migrate_empty_and_again),
		cmocka_unit_test(test_migrate_refuses),
		cmocka_unit_test(test_migrate_two_at_once),
		cmocka_unit_test(test_serialization_failure),
		cmocka_unit_test(test_deadlock),
		cmocka_unit_test(test_terminated_connection),
		cmocka_unit_test(test_no_server),
		cmocka_unit_test(test_server_restart),
	};
	int rc;

	if ((rc = pg_fixture_init()) != 0)
		return rc;
	return UNIT_RUN(tests);
}
