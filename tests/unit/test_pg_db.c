/*
 * The PostgreSQL store's connection (daemon/store/postgresql/pg_db.c) and
 * its schema (schema/postgresql/) against a real PostgreSQL 15 that
 * tests/pg/with_postgres.sh starts for this binary: the migrations on an
 * empty database, again (nothing to do), by two processes at once (applied
 * once), an edited or unknown migration refused; a leg's partition of
 * events; (carrier, seq) unique across legs; libpq's errors as the store's
 * kinds (a serialization failure, a deadlock, a terminated connection, a
 * stopped server) and the reconnection with backoff. Each case makes its own
 * database; the last one stops and restarts the server.
 */
#include "unit.h"

#include <errno.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "pg_db.h"

extern const char *const pg_migrations[];
extern const size_t pg_migrations_count;

#define CONNINFO_MAX 1024
/* an identifier as EXPLAIN prints it: up to 63 bytes, quoted */
#define PLAN_NAME_MAX (63 + 3)
/* How long a case waits for the other processes to reach a lock. */
#define WAIT_MS 20000
#define POLL_MS 20

static const char *base_conninfo;

/* The tables each migration set must have made. */
static const char *const tables[] = { "legs", "carriers", "rejections", "duplicates_hourly",
	"update_seqs", "events", "traversals", "transit_hourly", "volume_hourly", "conveyances",
	"quality_hourly", "rollup_meta", "schema_migrations" };

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* A plain connection of the test's own, to the base database or db. */
static PGconn *
raw_connect(const char *db)
{
	char ci[CONNINFO_MAX];
	PGconn *c;

	if (db != NULL)
		snprintf(ci, sizeof ci, "%s dbname=%s", base_conninfo, db);
	else
		snprintf(ci, sizeof ci, "%s", base_conninfo);
	c = PQconnectdb(ci);
	if (PQstatus(c) != CONNECTION_OK)
		fail_msg("connecting to %s: %s", db != NULL ? db : "the base database",
		    PQerrorMessage(c));
	return c;
}

static void
raw_exec(PGconn *c, const char *sql)
{
	PGresult *res = PQexec(c, sql);

	if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK)
		fail_msg("%s: %s", sql, PQerrorMessage(c));
	PQclear(res);
}

/* The one integer sql yields. */
static long long
raw_int(PGconn *c, const char *sql)
{
	PGresult *res = PQexec(c, sql);
	long long v;

	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
		fail_msg("%s: %s", sql, PQerrorMessage(c));
	v = atoll(PQgetvalue(res, 0, 0));
	PQclear(res);
	return v;
}

/* A fresh, empty database for one case. */
static void
make_db(const char *name)
{
	PGconn *c = raw_connect(NULL);
	char sql[128];

	snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s", name);
	raw_exec(c, sql);
	snprintf(sql, sizeof sql, "CREATE DATABASE %s", name);
	raw_exec(c, sql);
	PQfinish(c);
}

static struct pg_db *
open_db(const char *name)
{
	char ci[CONNINFO_MAX];
	struct store_error err;
	struct pg_db *db;

	snprintf(ci, sizeof ci, "%s dbname=%s", base_conninfo, name);
	db = pg_db_new(ci, &err);
	if (db == NULL)
		fail_msg("pg_db_new: %s", err.message);
	return db;
}

static void
migrate_ok(struct pg_db *db)
{
	struct store_error err;

	store_error_clear(&err);
	if (pg_db_migrate(db, pg_migrations, pg_migrations_count, &err) == -1)
		fail_msg("migrate: %s: %s", store_error_kind_name(err.kind), err.message);
}

static void
assert_schema(PGconn *c)
{
	char sql[160];

	for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++) {
		snprintf(sql, sizeof sql, "SELECT (to_regclass('%s') IS NOT NULL)::int", tables[i]);
		if (raw_int(c, sql) != 1)
			fail_msg("table %s missing", tables[i]);
	}
	assert_int_equal(raw_int(c, "SELECT count(*) FROM schema_migrations"),
	    pg_migrations_count);
	assert_int_equal(raw_int(c, "SELECT max(version) FROM schema_migrations"),
	    pg_migrations_count);
}

/* ------------------------------------------------------------- pure parts */

static void
test_sqlstate_kinds(void **state)
{
	static const struct {
		const char *sqlstate;	/* NULL: no result at all */
		enum store_error_kind kind;
	} cases[] = {
		/* what retrying cures: the connection, a concurrent transaction,
		 * the server's state */
		{ NULL, STORE_RETRYABLE }, { "08006", STORE_RETRYABLE },
		{ "40001", STORE_RETRYABLE }, { "40P01", STORE_RETRYABLE },
		{ "57P01", STORE_RETRYABLE }, { "57P03", STORE_RETRYABLE },
		{ "53100", STORE_RETRYABLE }, { "25006", STORE_RETRYABLE },
		/* and what it does not */
		{ "XX001", STORE_CORRUPT }, { "42P01", STORE_CORRUPT }, { "23514", STORE_CORRUPT },
		{ "0A000", STORE_UNSUPPORTED }, { "23505", STORE_CONFLICT },
		{ "23503", STORE_CONFLICT },
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		if (pg_db_sqlstate_kind(cases[i].sqlstate) != cases[i].kind)
			fail_msg("SQLSTATE %s: %s, not %s", cases[i].sqlstate != NULL ?
			    cases[i].sqlstate : "(none)",
			    store_error_kind_name(pg_db_sqlstate_kind(cases[i].sqlstate)),
			    store_error_kind_name(cases[i].kind));
}

static void
test_backoff(void **state)
{
	(void)state;
	assert_int_equal(pg_db_backoff_ms(0), 0);
	assert_int_equal(pg_db_backoff_ms(1), PG_DB_BACKOFF_MIN_MS);
	assert_int_equal(pg_db_backoff_ms(2), 2 * PG_DB_BACKOFF_MIN_MS);
	assert_int_equal(pg_db_backoff_ms(3), 4 * PG_DB_BACKOFF_MIN_MS);
	assert_int_equal(pg_db_backoff_ms(100), PG_DB_BACKOFF_MAX_MS);
	assert_int_equal(pg_db_backoff_ms(~0u), PG_DB_BACKOFF_MAX_MS);
}

static void
test_bad_conninfo(void **state)
{
	struct store_error err;

	(void)state;
	assert_null(pg_db_new("host=/tmp nonsense", &err));
	assert_int_equal(err.kind, STORE_UNSUPPORTED);
}

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

/* A child process: waits for the go byte, migrates, and runs sql if not
 * NULL; exits 0 on success. */
static pid_t
spawn_worker(const char *name, int go_fd, const char *sql)
{
	pid_t pid = fork();

	assert_true(pid != -1);
	if (pid == 0) {
		char ci[CONNINFO_MAX], b;
		struct store_error err;
		struct pg_db *db;
		int rc;

		if (read(go_fd, &b, 1) != 1)
			_exit(3);
		snprintf(ci, sizeof ci, "%s dbname=%s", base_conninfo, name);
		if ((db = pg_db_new(ci, &err)) == NULL)
			_exit(2);
		rc = pg_db_migrate(db, pg_migrations, pg_migrations_count, &err);
		if (rc == 0 && sql != NULL)
			rc = pg_db_exec(db, sql, &err);
		if (rc == -1)
			fprintf(stderr, "child %d: %s: %s\n", (int)getpid(),
			    store_error_kind_name(err.kind), err.message);
		pg_db_free(db);
		_exit(rc == 0 ? 0 : 1);
	}
	return pid;
}

static void
expect_exit0(pid_t pid)
{
	int status;

	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* A fresh database name, and two workers (spawn_worker) let go on it at
 * the same moment; both must succeed. */
static void
two_at_once(const char *name, const char *sql)
{
	int go[2];
	pid_t a, b;

	make_db(name);
	assert_int_equal(pipe(go), 0);
	a = spawn_worker(name, go[0], sql);
	b = spawn_worker(name, go[0], sql);
	assert_int_equal(write(go[1], "gg", 2), 2);
	expect_exit0(a);
	expect_exit0(b);
	close(go[0]);
	close(go[1]);
}

/* Two daemons starting on an empty database together: both succeed, the
 * schema is applied once. First while this test holds the migration lock,
 * so that both are seen waiting on it (the lock is what serialises them);
 * then released at once, racing freely. */
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

/* ------------------------------------------------------- legs and events */

#define LEG_A "KZ-RAIL-ALT-AKT"
#define LEG_B "AZ_PORT-BAK"

static const char add_legs_sql[] =
	"INSERT INTO legs (code, from_name, to_name, country, kind, mode, distance_km, min_h,"
	" typical_h, bad_h, created_ms) VALUES"
	" ('" LEG_A "', 'Altynkol', 'Aktau', 'KZ', 'movement', 'rail', 3200, 84, 120, 240, 0),"
	" ('" LEG_B "', 'Alat', 'Baku', 'AZ', 'port', 'sea', 1, 1, 24, 48, 0)"
	" ON CONFLICT (code) DO UPDATE SET mode = excluded.mode";

/* What a writer runs for one update: the corridor-wide claim of (carrier,
 * seq) first, the event only if the claim was made. */
static const char store_sql[] =
	"WITH claim AS (INSERT INTO update_seqs (carrier, seq, leg) VALUES ($1, $2::bigint, $3)"
	" ON CONFLICT DO NOTHING RETURNING carrier, seq, leg)"
	" INSERT INTO events (leg, carrier, seq, message_id, event_class, classifier,"
	" event_code, event_time_ms, record_time_ms, node, direction, unit, unit_teu,"
	" unit_containers) SELECT leg, carrier, seq, 'm-' || seq, 1, 1, 1, 1780000000000,"
	" 1780000000000, 'ALK', 'W', 'CSQU3054383', 2, 1 FROM claim";

/* Rows stored by store_sql, or -1 with err filled. */
static int
store_update(struct pg_db *db, const char *carrier, const char *seq, const char *leg,
    struct store_error *err)
{
	const char *params[3] = { carrier, seq, leg };
	PGresult *res = PQexecParams(pg_db_conn(db), store_sql, 3, NULL, params, NULL, NULL, 0);
	int n = -1;

	if (pg_db_check(db, res, PGRES_COMMAND_OK, "storing", err) == 0)
		n = atoi(PQcmdTuples(res));
	PQclear(res);
	return n;
}

static void
test_leg_partitions(void **state)
{
	struct store_error err;
	struct pg_db *db;
	PGconn *c;

	(void)state;
	make_db("t_legs");
	db = open_db("t_legs");
	migrate_ok(db);
	c = raw_connect("t_legs");
	assert_int_equal(raw_int(c, "SELECT count(*) FROM pg_inherits"
	    " WHERE inhparent = 'events'::regclass"), 0);
	/* adding a leg adds its partition, once, whatever the name's characters */
	assert_int_equal(pg_db_exec(db, add_legs_sql, &err), 0);
	assert_int_equal(pg_db_exec(db, add_legs_sql, &err), 0);
	assert_int_equal(raw_int(c, "SELECT count(*) FROM pg_inherits"
	    " WHERE inhparent = 'events'::regclass AND inhrelid IN"
	    " ('\"events_" LEG_A "\"'::regclass, '\"events_" LEG_B "\"'::regclass)"), 2);
	assert_int_equal(pg_db_exec(db, "SELECT corridor_add_leg_partition('" LEG_A "')", &err),
	    0);
	assert_int_equal(raw_int(c, "SELECT count(*) FROM pg_inherits"
	    " WHERE inhparent = 'events'::regclass"), 2);

	/* an update lands in its leg's partition; a leg never added has none */
	assert_int_equal(store_update(db, "KTZ", "1", LEG_A, &err), 1);
	assert_int_equal(raw_int(c, "SELECT count(*) FROM \"events_" LEG_A "\""), 1);
	assert_int_equal(raw_int(c, "SELECT count(*) FROM \"events_" LEG_B "\""), 0);
	assert_int_equal(store_update(db, "KTZ", "2", "NO-SUCH-LEG", &err), -1);
	assert_int_equal(err.kind, STORE_CORRUPT);
	assert_non_null(strstr(err.message, "23514"));
	/* the failed statement took its claim with it */
	assert_int_equal(raw_int(c, "SELECT count(*) FROM update_seqs WHERE seq = 2"), 0);
	/* a partition added later, for a leg added later */
	assert_int_equal(pg_db_exec(db, "INSERT INTO legs VALUES ('AZ-RAIL-BAK-BTK', 'Baku',"
	    " 'Akhalkalaki', 'AZ', 'movement', 'rail', 500, 10, 24, 48, 0)", &err), 0);
	assert_int_equal(store_update(db, "ADY", "1", "AZ-RAIL-BAK-BTK", &err), 1);
	assert_int_equal(raw_int(c, "SELECT count(*) FROM \"events_AZ-RAIL-BAK-BTK\""), 1);
	PQfinish(c);
	pg_db_free(db);
}

/* Two daemons starting together on an empty database, both adding the
 * same legs: both succeed, each leg has one partition. */
static void
test_legs_two_at_once(void **state)
{
	PGconn *c;

	(void)state;
	two_at_once("t_legs2", add_legs_sql);
	c = raw_connect("t_legs2");
	assert_int_equal(raw_int(c, "SELECT count(*) FROM pg_inherits"
	    " WHERE inhparent = 'events'::regclass"), 2);
	assert_int_equal(raw_int(c, "SELECT count(*) FROM legs"), 2);
	PQfinish(c);
}

/* (carrier, seq) is unique across the corridor: the same pair on another
 * leg is not stored, neither through the claim nor around it. */
static void
test_carrier_seq_unique_across_legs(void **state)
{
	struct store_error err;
	struct pg_db *db;
	PGconn *c;

	(void)state;
	make_db("t_unique");
	db = open_db("t_unique");
	migrate_ok(db);
	assert_int_equal(pg_db_exec(db, add_legs_sql, &err), 0);
	c = raw_connect("t_unique");

	assert_int_equal(store_update(db, "KTZ", "7", LEG_A, &err), 1);
	/* a resend on the same leg, and the same pair on the other leg */
	assert_int_equal(store_update(db, "KTZ", "7", LEG_A, &err), 0);
	assert_int_equal(store_update(db, "KTZ", "7", LEG_B, &err), 0);
	/* another carrier's seq 7, and KTZ's seq 8, are theirs */
	assert_int_equal(store_update(db, "ADY", "7", LEG_B, &err), 1);
	assert_int_equal(store_update(db, "KTZ", "8", LEG_B, &err), 1);

	/* around the claim: the event without one, a second claim */
	assert_int_equal(pg_db_exec(db, "INSERT INTO events (leg, carrier, seq, message_id,"
	    " event_class, classifier, event_code, event_time_ms, record_time_ms, node,"
	    " direction, unit, unit_teu, unit_containers) VALUES ('" LEG_B "', 'KTZ', 7, 'x',"
	    " 1, 1, 1, 0, 0, 'BAK', 'W', 'CSQU3054383', 2, 1)", &err), -1);
	assert_int_equal(err.kind, STORE_CONFLICT);
	assert_non_null(strstr(err.message, "23503"));
	assert_int_equal(pg_db_exec(db, "INSERT INTO update_seqs VALUES ('KTZ', 7, '" LEG_B "')",
	    &err), -1);
	assert_int_equal(err.kind, STORE_CONFLICT);
	assert_non_null(strstr(err.message, "23505"));
	/* nor by moving a stored event to another leg's claim */
	assert_int_equal(pg_db_exec(db, "UPDATE update_seqs SET leg = '" LEG_B "'"
	    " WHERE carrier = 'KTZ' AND seq = 7", &err), -1);

	assert_int_equal(raw_int(c, "SELECT count(*) FROM events WHERE carrier = 'KTZ'"
	    " AND seq = 7"), 1);
	assert_int_equal(raw_int(c, "SELECT count(*) FROM \"events_" LEG_A "\""
	    " WHERE carrier = 'KTZ' AND seq = 7"), 1);
	assert_int_equal(raw_int(c, "SELECT count(*) FROM events"), 3);
	assert_int_equal(raw_int(c, "SELECT count(*) FROM update_seqs"), 3);
	PQfinish(c);
	pg_db_free(db);
}

/*
 * Every SELECT of the SQLite backend (sqlite_reader.c; the writer's in
 * leg_store.c, rollup_store.c, leg_retention.c, catalog.c), with the leg
 * made a column, has its index here: with sequential scans priced out and
 * a leg's worth of rows, its plan uses that index (a partition's own index
 * is named by the partitioned one it belongs to). The rejections' count by
 * time is left out: SQLite scans that table too.
 */
static const struct {
	const char *sql;
	const char *index;	/* the index it must use ('|': any of them) */
} indexed_sql[] = {
	/* sqlite_reader.c */
	{ "SELECT n, sum_ms, hist FROM transit_hourly WHERE leg = 'L' AND hour_ms >= 0"
	    " AND hour_ms < 9 AND direction = 'W' AND carrier = 'K'",
	    "transit_hourly_pkey" },
	{ "SELECT unit, duration_ms, plan_ms FROM traversals WHERE leg = 'L' AND exit_time_ms >= 0"
	    " AND exit_time_ms < 9 AND direction = 'W' AND carrier = 'K'",
	    "traversals_by_exit" },
	{ "SELECT max(enter_time_ms) FROM traversals WHERE leg = 'L' AND unit = 'U'"
	    " AND direction = 'W' AND enter_time_ms <= 9",
	    "traversals_pkey" },
	{ "SELECT 1 FROM traversals WHERE leg = 'L' AND unit = 'U' AND direction = 'W'"
	    " AND enter_time_ms >= 9 LIMIT 1",
	    "traversals_pkey" },
	{ "SELECT unit, teu FROM traversals WHERE leg = 'L' AND exit_time_ms IS NULL"
	    " ORDER BY enter_time_ms, unit",
	    "traversals_open" },
	{ "SELECT direction, enter_time_ms FROM traversals WHERE leg = 'L' AND unit = 'U'",
	    "traversals_pkey" },
	{ "SELECT e.direction, e.event_time_ms, e.event_code FROM events AS e WHERE e.leg = 'L'"
	    " AND e.unit = 'U' AND e.classifier = 1 AND e.retracted = 0 AND NOT EXISTS (SELECT 1"
	    " FROM traversals AS t WHERE t.leg = e.leg AND t.unit = e.unit"
	    " AND t.direction = e.direction AND t.exit_time_ms = e.event_time_ms)"
	    " ORDER BY e.direction, e.event_time_ms",
	    "events_by_unit" },
	{ "SELECT 1 FROM events WHERE leg = 'L' AND unit = 'U' LIMIT 1",
	    "events_by_unit" },
	{ "SELECT hour_ms, units FROM volume_hourly WHERE leg = 'L' AND hour_ms >= 0"
	    " AND hour_ms < 9 AND direction = 'W'",
	    "volume_hourly_pkey" },
	{ "SELECT first_enter_ms, kind FROM conveyances WHERE leg = 'L' AND first_enter_ms >= 0"
	    " AND first_enter_ms < 9 AND direction = 'W'",
	    "conveyances_by_time" },
	{ "SELECT unit, direction, event_time_ms FROM events WHERE leg = 'L'"
	    " AND event_code IN (10, 11) AND event_code = 10 AND classifier = 1 AND retracted = 0"
	    " AND event_time_ms >= 0 AND event_time_ms < 9",
	    "events_holds" },
	{ "SELECT min(event_time_ms) FROM events WHERE leg = 'L' AND unit = 'U' AND direction = 'W'"
	    " AND event_time_ms >= 0 AND event_code = 11 AND classifier = 1 AND retracted = 0",
	    "events_by_unit" },
	{ "SELECT delay_reason, unit FROM events WHERE leg = 'L' AND delay_reason IS NOT NULL"
	    " AND retracted = 0 AND event_time_ms >= 0 AND event_time_ms < 9",
	    "events_delayed" },
	{ "SELECT carrier, updates, lag_hist FROM quality_hourly WHERE leg = 'L' AND hour_ms >= 0"
	    " AND hour_ms < 9",
	    "quality_hourly_pkey" },
	{ "SELECT carrier, sum(n) FROM duplicates_hourly WHERE hour_ms >= 0 AND hour_ms < 9"
	    " AND carrier = 'K' GROUP BY carrier",
	    "duplicates_hourly_pkey" },
	{ "SELECT 1 FROM carriers WHERE code = 'K'",
	    "carriers_pkey" },
	/* the writer's re-pairing, retractions, rollups and retention */
	{ "SELECT id, event_time_ms, classifier, record_time_ms FROM events WHERE leg = 'L'"
	    " AND unit = 'U' AND direction = 'W' AND retracted = 0 ORDER BY event_time_ms, id",
	    "events_by_unit" },
	{ "UPDATE events SET retracted = 1 WHERE leg = 'L' AND message_id = 'M' AND carrier = 'K'"
	    " AND retracted = 0 RETURNING unit, direction",
	    "events_by_message" },
	{ "SELECT 1 FROM events WHERE leg = 'L' AND retracts_message_id = 'M' AND carrier = 'K'"
	    " LIMIT 1",
	    "events_retracting" },
	{ "SELECT message_id, node FROM events WHERE leg = 'L' AND carrier = 'K' AND seq = 1",
	    "events_leg_carrier_seq_key" },
	{ "SELECT enter_time_ms, vessel_call FROM traversals WHERE leg = 'L' AND unit = 'U'"
	    " AND direction = 'W' ORDER BY enter_time_ms",
	    "traversals_pkey" },
	{ "SELECT min(duration_ms), max(duration_ms) FROM traversals WHERE leg = 'L'"
	    " AND exit_time_ms >= 0 AND exit_time_ms < 9 AND direction = 'W' AND carrier = 'K'",
	    "traversals_by_exit" },
	{ "SELECT count(*), min(enter_time_ms) FROM traversals WHERE leg = 'L' AND train_id = 'T'"
	    " AND direction = 'W'",
	    "traversals_by_train" },
	{ "SELECT count(*), min(enter_time_ms) FROM traversals WHERE leg = 'L'"
	    " AND vessel_call = 'V' AND direction = 'W'",
	    "traversals_by_vessel" },
	{ "SELECT units FROM conveyances WHERE leg = 'L' AND kind = 'T' AND ident = 'T'"
	    " AND direction = 'W'",
	    "conveyances_pkey" },
	{ "SELECT updates FROM quality_hourly WHERE leg = 'L' AND hour_ms = 0 AND carrier = 'K'",
	    "quality_hourly_pkey" },
	{ "SELECT value FROM rollup_meta WHERE leg = 'L' AND key = 'typical_ms'",
	    "rollup_meta_pkey" },
	/* retention's cursor over units, in steps (leg_retention.c) */
	{ "SELECT unit, direction FROM events WHERE leg = 'L' AND (unit, direction) > ('U', 'W')"
	    " GROUP BY unit, direction HAVING max(event_time_ms) < 9 ORDER BY unit, direction"
	    " LIMIT 100",
	    "events_by_unit" },
	/* the catalog: a carrier's stored sequence numbers, corridor-wide */
	{ "SELECT seq FROM update_seqs WHERE carrier = 'K' AND seq > 0 AND seq <= 9",
	    "update_seqs_pkey|update_seqs_carrier_seq_leg_key" },
	{ "SELECT seq FROM rejections WHERE carrier = 'K' AND seq > 0",
	    "rejections_pkey" },
};

/* A leg's worth of rows for the planner to choose by: 2,000 units, a
 * hold or release in ten events, a delay in fifty, a retraction in a
 * hundred; a traversal in ten open, trains and vessels on some; rollups
 * over a thousand hours. Times start well after the queries' ranges. */
static const char index_rows_sql[] =
	"INSERT INTO update_seqs SELECT 'K', g, 'L' FROM generate_series(1, 20000) g;"
	"INSERT INTO events (leg, carrier, seq, message_id, event_class, classifier, event_code,"
	" event_time_ms, record_time_ms, node, direction, unit, delay_reason,"
	" retracts_message_id, unit_teu, unit_containers)"
	" SELECT 'L', 'K', g, 'm' || g, 1, 1 + g % 3,"
	" CASE g % 20 WHEN 0 THEN 10 WHEN 1 THEN 11 ELSE 1 + g % 7 END, 100000 + g * 1000,"
	" 100000 + g * 1000, 'N', CASE g % 2 WHEN 0 THEN 'W' ELSE 'E' END, 'U' || g % 2000,"
	" CASE WHEN g % 50 = 0 THEN 'late' END, CASE WHEN g % 100 = 0 THEN 'm' || g - 1 END,"
	" 2, 1 FROM generate_series(1, 20000) g;"
	"INSERT INTO traversals (leg, unit, direction, enter_time_ms, exit_time_ms, duration_ms,"
	" carrier, teu, containers, gross_kg, train_id, vessel_call)"
	" SELECT 'L', 'U' || g % 2000, CASE g % 2 WHEN 0 THEN 'W' ELSE 'E' END, 100000 + g * 1000,"
	" CASE WHEN g % 10 <> 0 THEN 100500 + g * 1000 END, CASE WHEN g % 10 <> 0 THEN 500 END,"
	" 'K' || g % 5, 2, 1, 0, CASE WHEN g % 5 = 0 THEN 'T' || g % 50 END,"
	" CASE WHEN g % 7 = 0 THEN 'V' || g % 30 END FROM generate_series(1, 20000) g;"
	"INSERT INTO transit_hourly SELECT 'L', 3600000::bigint * (100 + g / 10), d, 'K' || g % 10, 1, 1,"
	" 1, 1, 1, 0, 0, 0, 0, 2, 1, 0, '' FROM generate_series(1, 10000) g,"
	" (VALUES ('W'), ('E')) v(d);"
	"INSERT INTO volume_hourly SELECT 'L', 3600000::bigint * (100 + g / 10), d, 'K' || g % 10, 1, 2,"
	" 1, 0 FROM generate_series(1, 10000) g, (VALUES ('W'), ('E')) v(d);"
	"INSERT INTO quality_hourly SELECT 'L', 3600000::bigint * (100 + g / 10), 'K' || g % 10, 1, 0, 0,"
	" '', 0, 0, 0, 0, 0 FROM generate_series(1, 10000) g;"
	"INSERT INTO conveyances SELECT 'L', 'T', 'T' || g, d, 100000 + g * 1000, 'K', 3"
	" FROM generate_series(1, 5000) g, (VALUES ('W'), ('E')) v(d);"
	"INSERT INTO carriers SELECT 'K' || g, 0, 0 FROM generate_series(1, 1000) g;"
	"INSERT INTO duplicates_hourly SELECT 'K' || g % 100, 3600000::bigint * (100 + g / 100), 1"
	" FROM generate_series(1, 10000) g;"
	"INSERT INTO rejections SELECT 'K' || g % 100, g, 1, '', g FROM generate_series(1, 10000) g;"
	"INSERT INTO rollup_meta VALUES ('L', 'typical_ms', 1), ('L', 'derived', 3);"
	"ANALYZE";

/* Whether plan (EXPLAIN's lines, one string) uses one of want ('|'
 * between names), a partition's index counting as its parent's. */
static bool
plan_uses(PGconn *c, const char *plan, const char *want)
{
	static const char parent_sql[] = "SELECT coalesce((SELECT p.relname FROM pg_inherits i"
	    " JOIN pg_class p ON p.oid = i.inhparent WHERE i.inhrelid = x.oid), x.relname)"
	    " FROM pg_class x WHERE x.relname = $1";
	static const char *const marks[] = { "Scan using ", "Bitmap Index Scan on " };

	for (size_t m = 0; m < sizeof marks / sizeof marks[0]; m++)
	for (const char *at = plan; (at = strstr(at, marks[m])) != NULL; ) {
		char name[PLAN_NAME_MAX], *q;
		const char *params[1] = { name };
		PGresult *res;
		bool found = false;

		at += strlen(marks[m]);
		snprintf(name, sizeof name, "%.*s", (int)strcspn(at, " "), at);
		/* a quoted identifier (a partition's: "events_L_..._idx") */
		if (name[0] == '"') {
			memmove(name, name + 1, strlen(name));
			if ((q = strchr(name, '"')) != NULL)
				*q = '\0';
		}
		res = PQexecParams(c, parent_sql, 1, NULL, params, NULL, NULL, 0);
		if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1) {
			const char *parent = PQgetvalue(res, 0, 0), *w = want;
			size_t n = strlen(parent);

			for (; *w != '\0'; w += strcspn(w, "|"), w += *w == '|')
				if (strcspn(w, "|") == n && strncmp(w, parent, n) == 0)
					found = true;
		}
		PQclear(res);
		if (found)
			return true;
	}
	return false;
}

static void
test_indexes(void **state)
{
	char sql[1024], plan[4096];
	struct pg_db *db;
	struct store_error err;
	PGresult *res;
	PGconn *c;

	(void)state;
	make_db("t_indexes");
	db = open_db("t_indexes");
	migrate_ok(db);
	assert_int_equal(pg_db_exec(db, "INSERT INTO legs VALUES ('L', 'a', 'b', 'KZ', 'movement',"
	    " 'rail', 1, 1, 1, 1, 0)", &err), 0);
	if (pg_db_exec(db, index_rows_sql, &err) == -1)
		fail_msg("filling: %s", err.message);
	pg_db_free(db);
	c = raw_connect("t_indexes");
	raw_exec(c, "SET enable_seqscan = off");
	for (size_t i = 0; i < sizeof indexed_sql / sizeof indexed_sql[0]; i++) {
		snprintf(sql, sizeof sql, "EXPLAIN %s", indexed_sql[i].sql);
		res = PQexec(c, sql);
		if (PQresultStatus(res) != PGRES_TUPLES_OK)
			fail_msg("%s: %s", indexed_sql[i].sql, PQerrorMessage(c));
		plan[0] = '\0';
		for (int r = 0; r < PQntuples(res); r++) {
			strncat(plan, PQgetvalue(res, r, 0), sizeof plan - strlen(plan) - 2);
			strcat(plan, "\n");
		}
		PQclear(res);
		if (!plan_uses(c, plan, indexed_sql[i].index))
			fail_msg("%s\n  does not use %s:\n%s", indexed_sql[i].sql,
			    indexed_sql[i].index, plan);
	}
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
		cmocka_unit_test(test_sqlstate_kinds),
		cmocka_unit_test(test_backoff),
		cmocka_unit_test(test_bad_conninfo),
		cmocka_unit_test(test_migrate_empty_and_again),
		cmocka_unit_test(test_migrate_refuses),
		cmocka_unit_test(test_migrate_two_at_once),
		cmocka_unit_test(test_leg_partitions),
		cmocka_unit_test(test_legs_two_at_once),
		cmocka_unit_test(test_carrier_seq_unique_across_legs),
		cmocka_unit_test(test_indexes),
		cmocka_unit_test(test_serialization_failure),
		cmocka_unit_test(test_deadlock),
		cmocka_unit_test(test_terminated_connection),
		cmocka_unit_test(test_no_server),
		cmocka_unit_test(test_server_restart),
	};

	if ((base_conninfo = getenv("CORRIDOR_PG_CONNINFO")) == NULL) {
		fprintf(stderr, "CORRIDOR_PG_CONNINFO is not set: run under"
		    " tests/pg/with_postgres.sh\n");
		return 77;
	}
	/* a child's PGconn closing must not kill us on a broken pipe */
	signal(SIGPIPE, SIG_IGN);
	return UNIT_RUN(tests);
}
