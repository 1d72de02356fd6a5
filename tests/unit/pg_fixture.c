/* The PostgreSQL tests' fixture; see pg_fixture.h. */
#include "unit.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pg_fixture.h"

const char *base_conninfo;

/* The tables each migration set must have made. */
static const char *const tables[] = { "legs", "carriers", "rejections", "duplicates_hourly",
	"update_seqs", "events", "traversals", "transit_hourly", "volume_hourly", "conveyances",
	"quality_hourly", "rollup_meta", "schema_migrations" };

void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* A plain connection of the test's own, to the base database or db. */
PGconn *
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

void
raw_exec(PGconn *c, const char *sql)
{
	PGresult *res = PQexec(c, sql);

	if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK)
		fail_msg("%s: %s", sql, PQerrorMessage(c));
	PQclear(res);
}

/* The one integer sql yields. */
long long
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
void
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

struct pg_db *
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

void
migrate_ok(struct pg_db *db)
{
	struct store_error err;

	store_error_clear(&err);
	if (pg_db_migrate(db, pg_migrations, pg_migrations_count, &err) == -1)
		fail_msg("migrate: %s: %s", store_error_kind_name(err.kind), err.message);
}

void
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

/* A child process: waits for the go byte, migrates, and runs sql if not
 * NULL; exits 0 on success. */
pid_t
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

void
expect_exit0(pid_t pid)
{
	int status;

	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* A fresh database name, and two workers (spawn_worker) let go on it at
 * the same moment; both must succeed. */
void
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

int
pg_fixture_init(void)
{
	if ((base_conninfo = getenv("CORRIDOR_PG_CONNINFO")) == NULL) {
		fprintf(stderr, "CORRIDOR_PG_CONNINFO is not set: run under"
		    " tests/pg/with_postgres.sh\n");
		return 77;
	}
	/* a child's PGconn closing must not kill us on a broken pipe */
	signal(SIGPIPE, SIG_IGN);
	return 0;
}
