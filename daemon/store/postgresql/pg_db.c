/* One libpq connection of the PostgreSQL store; see pg_db.h. */
#include "pg_db.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "timeutil.h"

/*
 * corridor's connection defaults, each overridden by the operator's
 * conninfo (they come before it in PQconnectdbParams). Without a connect
 * timeout libpq waits for an unanswering host for ever, and without
 * keepalives a connection to a primary that vanished (a failover, a cut
 * link) looks alive for the kernel's two hours: a writer would block in it.
 */
#define PG_DB_CONNECT_TIMEOUT_S "10"
#define PG_DB_KEEPALIVES_IDLE_S "10"
#define PG_DB_KEEPALIVES_INTERVAL_S "5"
#define PG_DB_KEEPALIVES_COUNT "3"
#define PG_DB_APPLICATION_NAME "corridord"
/* A libpq message kept for the log while the backoff lasts. */
#define PG_DB_LAST_ERROR_MAX 200

/* Owned by one thread, as its connection is. */
struct pg_db {
	PGconn *conn;			/* NULL: not connected */
	unsigned failures;		/* connection attempts failed in a row */
	int64_t next_try_ms;		/* monotonic; no attempt before it */
	uint32_t jitter;		/* xorshift state for the backoff's jitter */
	char last_error[PG_DB_LAST_ERROR_MAX];
	char conninfo[];
};

/* libpq prints NOTICEs ("already exists, skipping") on stderr by default. */
static void
pg_db_notice(void *arg, const char *message)
{
	(void)arg;
	log_debug("postgresql: %.*s", (int)strcspn(message, "\n"), message);
}

/* A libpq message on one line, for a store_error or the log. */
static void
one_line(char *dst, size_t len, const char *msg)
{
	if (msg == NULL)
		msg = "";
	snprintf(dst, len, "%.*s", (int)strcspn(msg, "\n"), msg);
}

struct pg_db *
pg_db_new(const char *conninfo, struct store_error *err)
{
	struct pg_db *db;
	PQconninfoOption *opts;
	char *msg = NULL;
	size_t n = strlen(conninfo);

	if (n >= PG_DB_CONNINFO_MAX) {
		store_error_set(err, STORE_UNSUPPORTED, "postgresql conninfo longer than %d bytes",
		    PG_DB_CONNINFO_MAX - 1);
		return NULL;
	}
	/* Checked here, once, so that a typo is a configuration error and not
	 * a connection that is retried for ever. */
	if ((opts = PQconninfoParse(conninfo, &msg)) == NULL) {
		char line[PG_DB_LAST_ERROR_MAX];

		one_line(line, sizeof line, msg != NULL ? msg : "out of memory");
		store_error_set(err, msg != NULL ? STORE_UNSUPPORTED : STORE_RETRYABLE,
		    "postgresql conninfo: %s", line);
		PQfreemem(msg);
		return NULL;
	}
	PQconninfoFree(opts);
	/* Every handle's connection is used by its own thread only, but libpq
	 * keeps process-wide state (SSL, Kerberos) that must be thread-safe. */
	if (!PQisthreadsafe()) {
		store_error_set(err, STORE_UNSUPPORTED, "libpq was built without thread safety");
		return NULL;
	}
	if ((db = calloc(1, sizeof *db + n + 1)) == NULL) {
		store_error_set(err, STORE_RETRYABLE, "out of memory");
		return NULL;
	}
	memcpy(db->conninfo, conninfo, n + 1);
	db->jitter = (uint32_t)(uintptr_t)db ^ (uint32_t)time_mono_ms() ^ 0x9e3779b9u;
	if (db->jitter == 0)
		db->jitter = 1;
	return db;
}

static void
pg_db_drop(struct pg_db *db)
{
	if (db->conn != NULL) {
		PQfinish(db->conn);
		db->conn = NULL;
	}
}

void
pg_db_free(struct pg_db *db)
{
	if (db == NULL)
		return;
	pg_db_drop(db);
	free(db);
}

PGconn *
pg_db_conn(struct pg_db *db)
{
	return db->conn;
}

unsigned
pg_db_failures(const struct pg_db *db)
{
	return db->failures;
}

int64_t
pg_db_backoff_ms(unsigned failures)
{
	int64_t ms = PG_DB_BACKOFF_MIN_MS;

	if (failures == 0)
		return 0;
	for (unsigned i = 1; i < failures && ms < PG_DB_BACKOFF_MAX_MS; i++)
		ms *= 2;
	return ms < PG_DB_BACKOFF_MAX_MS ? ms : PG_DB_BACKOFF_MAX_MS;
}

/* The wait after a failed attempt: the backoff plus up to a quarter of it. */
static int64_t
pg_db_next_wait(struct pg_db *db)
{
	int64_t ms = pg_db_backoff_ms(db->failures);
	uint32_t x = db->jitter;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	db->jitter = x;
	return ms + (int64_t)(x % (uint32_t)(ms / 4 + 1));
}

static void
pg_db_failed(struct pg_db *db, const char *msg)
{
	one_line(db->last_error, sizeof db->last_error, msg);
	/* once per outage; the reconnection says when it is over */
	if (db->failures == 0)
		log_warnx("postgresql: cannot connect, retrying with backoff: %s",
		    db->last_error);
	db->failures++;
	db->next_try_ms = time_mono_ms() + pg_db_next_wait(db);
}

int
pg_db_ensure(struct pg_db *db, struct store_error *err)
{
	static const char *const keys[] = { "connect_timeout", "keepalives_idle",
		"keepalives_interval", "keepalives_count", "fallback_application_name", "dbname",
		NULL };
	const char *values[sizeof keys / sizeof keys[0]] = { PG_DB_CONNECT_TIMEOUT_S,
		PG_DB_KEEPALIVES_IDLE_S, PG_DB_KEEPALIVES_INTERVAL_S, PG_DB_KEEPALIVES_COUNT,
		PG_DB_APPLICATION_NAME, db->conninfo, NULL };
	int64_t now;
	int version;

	if (db->conn != NULL && PQstatus(db->conn) == CONNECTION_OK)
		return 0;
	pg_db_drop(db);
	now = time_mono_ms();
	if (db->failures > 0 && now < db->next_try_ms) {
		store_error_set(err, STORE_RETRYABLE, "postgresql unreachable (%s); next try in"
		    " %" PRId64 " ms", db->last_error, db->next_try_ms - now);
		return -1;
	}
	/* expand_dbname: dbname is the operator's conninfo, and its keywords
	 * override the defaults before it */
	db->conn = PQconnectdbParams(keys, values, 1);
	if (db->conn == NULL || PQstatus(db->conn) != CONNECTION_OK) {
		pg_db_failed(db, db->conn != NULL ? PQerrorMessage(db->conn) : "out of memory");
		pg_db_drop(db);
		store_error_set(err, STORE_RETRYABLE, "postgresql: %s", db->last_error);
		return -1;
	}
	if ((version = PQserverVersion(db->conn)) < PG_DB_MIN_SERVER_VERSION) {
		pg_db_drop(db);
		store_error_set(err, STORE_UNSUPPORTED, "postgresql server version %d; corridor"
		    " needs %d or later", version, PG_DB_MIN_SERVER_VERSION);
		return -1;
	}
	PQsetNoticeProcessor(db->conn, pg_db_notice, NULL);
	if (db->failures > 0)
		log_info("postgresql: connected again after %u failed attempts", db->failures);
	db->failures = 0;
	return 0;
}

/*
 * The SQLSTATEs (a five-character code, or a two-character class) that
 * retrying does not cure, first match wins. Everything else is retryable:
 * class 08 (the connection), 40001 serialization_failure, 40P01 deadlock,
 * 53 (disk full, out of memory, too many connections), 55P03 lock not
 * available, 57014 cancelled (a statement timeout), 57P01-57P03 (admin or
 * crash shutdown, cannot connect now), 25006 read-only (a standby), 58
 * (I/O), and what is not listed: the transaction failed and nothing of it
 * was kept, as for SQLite's busy and I/O errors (sqlite_store.c).
 */
static const struct {
	const char *sqlstate;
	enum store_error_kind kind;
} sqlstate_kinds[] = {
	/* the data is damaged, or the schema is not the one this build made:
	 * a table, column or function missing */
	{ "XX001", STORE_CORRUPT }, { "XX002", STORE_CORRUPT }, { "42P01", STORE_CORRUPT },
	{ "42703", STORE_CORRUPT }, { "42883", STORE_CORRUPT },
	/* what the server or the role may not do */
	{ "0A000", STORE_UNSUPPORTED }, { "42501", STORE_UNSUPPORTED },
	/* what was to be made is there: a unique key's row, or (a foreign
	 * key's 23503 on events) a (carrier, seq) claimed by another leg */
	{ "23505", STORE_CONFLICT }, { "23503", STORE_CONFLICT },
	/* a value or row the schema refuses (22: data exception; 23: a check,
	 * NOT NULL, or 23514 for a leg without its events partition): not what
	 * this build writes, and the same again on every try */
	{ "22", STORE_CORRUPT }, { "23", STORE_CORRUPT },
};

enum store_error_kind
pg_db_sqlstate_kind(const char *s)
{
	/* no result: the connection failed or libpq ran out of memory */
	if (s == NULL || strlen(s) != 5)
		return STORE_RETRYABLE;
	for (size_t i = 0; i < sizeof sqlstate_kinds / sizeof sqlstate_kinds[0]; i++)
		if (strncmp(s, sqlstate_kinds[i].sqlstate,
		    strlen(sqlstate_kinds[i].sqlstate)) == 0)
			return sqlstate_kinds[i].kind;
	return STORE_RETRYABLE;
}

/* Whether an error means this connection is of no more use. */
static bool
pg_db_conn_lost(PGconn *conn, const char *sqlstate)
{
	if (conn == NULL || PQstatus(conn) != CONNECTION_OK)
		return true;
	if (sqlstate == NULL)
		return false;
	return strncmp(sqlstate, "08", 2) == 0 || strncmp(sqlstate, "57P0", 4) == 0 ||
	    strcmp(sqlstate, "25006") == 0;
}

int
pg_db_check(struct pg_db *db, const PGresult *res, ExecStatusType want, const char *what,
    struct store_error *err)
{
	const char *state, *msg;
	char line[PG_DB_LAST_ERROR_MAX];
	enum store_error_kind kind;

	if (res != NULL && PQresultStatus(res) == want)
		return 0;
	state = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	if (res != NULL && PQresultStatus(res) != PGRES_FATAL_ERROR &&
	    PQresultStatus(res) != PGRES_NONFATAL_ERROR && state == NULL) {
		/* an answer of the wrong shape: our SQL and the schema differ */
		store_error_set(err, STORE_CORRUPT, "%s: unexpected %s", what,
		    PQresStatus(PQresultStatus(res)));
		return -1;
	}
	msg = res != NULL ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	if (msg == NULL)
		msg = db->conn != NULL ? PQerrorMessage(db->conn) : "no connection";
	one_line(line, sizeof line, msg);
	kind = pg_db_sqlstate_kind(state);
	if (pg_db_conn_lost(db->conn, state)) {
		kind = STORE_RETRYABLE;
		snprintf(db->last_error, sizeof db->last_error, "%s", line);
		pg_db_drop(db);
	}
	store_error_set(err, kind, "%s: %s (SQLSTATE %s)", what, line,
	    state != NULL ? state : "none");
	return -1;
}

int
pg_db_pipeline(struct pg_db *db, struct pg_db_stmt *s, size_t n, struct store_error *err)
{
	PGconn *conn = db->conn;
	size_t sent = 0, got = 0;
	bool synced = false, ok = true;
	PGresult *res;

	for (size_t i = 0; i < n; i++)
		s[i].res = NULL;
	if (conn == NULL) {
		store_error_set(err, STORE_RETRYABLE, "postgresql: no connection");
		return -1;
	}
	if (PQenterPipelineMode(conn) != 1) {
		ok = false;
		goto done;
	}
	/* blocking sends: libpq reads the server's answers into its buffer
	 * while it waits to send more (pqSendSome), so a long pipeline does
	 * not deadlock on full sockets both ways */
	for (; sent < n; sent++)
		if (PQsendQueryParams(conn, s[sent].sql, s[sent].n, NULL, s[sent].values,
		    s[sent].lengths, s[sent].formats, 0) != 1)
			break;
	if (sent < n || PQpipelineSync(conn) != 1) {
		ok = false;
		goto done;
	}
	synced = true;
	/* each statement's result then NULL; the sync's result last */
	while (got < sent) {
		if ((res = PQgetResult(conn)) == NULL) {
			ok = false;
			goto done;
		}
		s[got].res = res;
		while ((res = PQgetResult(conn)) != NULL)
			PQclear(res);	/* a statement has one result; more are not ours */
		got++;
	}
	if ((res = PQgetResult(conn)) == NULL || PQresultStatus(res) != PGRES_PIPELINE_SYNC)
		ok = false;
	PQclear(res);
	if (ok && PQexitPipelineMode(conn) != 1)
		ok = false;
done:
	if (ok)
		return 0;
	for (size_t i = 0; i < n; i++) {
		PQclear(s[i].res);
		s[i].res = NULL;
	}
	one_line(db->last_error, sizeof db->last_error, PQerrorMessage(conn));
	store_error_set(err, STORE_RETRYABLE, "postgresql pipeline%s: %s",
	    synced ? "" : " not sent", db->last_error);
	pg_db_drop(db);
	return -1;
}

/* Runs sql on a live connection; rows it returns are not looked at. */
static int
pg_db_run(struct pg_db *db, const char *sql, const char *what, struct store_error *err)
{
	PGresult *res = PQexec(db->conn, sql);
	int rc = pg_db_check(db, res, res != NULL && PQresultStatus(res) == PGRES_TUPLES_OK ?
	    PGRES_TUPLES_OK : PGRES_COMMAND_OK, what, err);

	PQclear(res);
	return rc;
}

int
pg_db_exec(struct pg_db *db, const char *sql, struct store_error *err)
{
	if (pg_db_ensure(db, err) == -1)
		return -1;
	return pg_db_run(db, sql, "postgresql", err);
}

/* Reads one integer from a one-row, one-column result. */
static int
pg_db_int(struct pg_db *db, PGresult *res, const char *what, int *out, struct store_error *err)
{
	if (pg_db_check(db, res, PGRES_TUPLES_OK, what, err) == -1)
		return -1;
	if (PQntuples(res) != 1 || PQnfields(res) != 1 || PQgetisnull(res, 0, 0)) {
		store_error_set(err, STORE_CORRUPT, "%s: no value", what);
		return -1;
	}
	*out = atoi(PQgetvalue(res, 0, 0));
	return 0;
}

static const char migrations_table_sql[] =
	"CREATE TABLE IF NOT EXISTS schema_migrations ("
	" version integer PRIMARY KEY,"
	" checksum text NOT NULL,"	/* sha256 of the migration's text, hex */
	" applied_at timestamptz NOT NULL DEFAULT now())";
static const char checksum_sql[] = "encode(sha256(convert_to($2, 'UTF8')), 'hex')";

/* Inside the migration transaction: migrations[0..applied) are those this
 * database had; each must be the text this build has. */
static int
pg_db_verify(struct pg_db *db, const char *const *migrations, int applied,
    struct store_error *err)
{
	char sql[256], num[16], what[64];

	snprintf(sql, sizeof sql, "SELECT (checksum = %s)::int FROM schema_migrations"
	    " WHERE version = $1::integer", checksum_sql);
	for (int i = 0; i < applied; i++) {
		const char *params[2] = { num, migrations[i] };
		PGresult *res;
		int same;

		snprintf(num, sizeof num, "%d", i + 1);
		snprintf(what, sizeof what, "checking migration %d", i + 1);
		res = PQexecParams(db->conn, sql, 2, NULL, params, NULL, NULL, 0);
		if (pg_db_int(db, res, what, &same, err) == -1) {
			PQclear(res);
			return -1;
		}
		PQclear(res);
		if (!same) {
			store_error_set(err, STORE_CORRUPT, "migration %d applied to this database"
			    " is not this build's schema/postgresql/ migration %d", i + 1, i + 1);
			return -1;
		}
	}
	return 0;
}

static int
pg_db_apply(struct pg_db *db, int i, const char *migration, struct store_error *err)
{
	char sql[256], num[16], what[64];
	const char *params[2] = { num, migration };
	PGresult *res;
	int rc;

	snprintf(what, sizeof what, "migration %d", i + 1);
	if (pg_db_run(db, migration, what, err) == -1)
		return -1;
	snprintf(num, sizeof num, "%d", i + 1);
	snprintf(sql, sizeof sql, "INSERT INTO schema_migrations (version, checksum)"
	    " VALUES ($1::integer, %s)", checksum_sql);
	res = PQexecParams(db->conn, sql, 2, NULL, params, NULL, NULL, 0);
	rc = pg_db_check(db, res, PGRES_COMMAND_OK, what, err);
	PQclear(res);
	if (rc == 0)
		log_info("postgresql: schema migration %d applied", i + 1);
	return rc;
}

static int
pg_db_migrate_locked(struct pg_db *db, const char *const *migrations, size_t count,
    struct store_error *err)
{
	char lock[64];
	PGresult *res;
	int applied;

	/* The lock first, so that of two daemons the second waits here and,
	 * reading committed data, then sees the first's migrations. */
	snprintf(lock, sizeof lock, "SELECT pg_advisory_xact_lock(%" PRId64 ")",
	    PG_DB_MIGRATION_LOCK);
	res = PQexec(db->conn, lock);
	if (pg_db_check(db, res, PGRES_TUPLES_OK, "taking the migration lock", err) == -1) {
		PQclear(res);
		return -1;
	}
	PQclear(res);
	if (pg_db_run(db, migrations_table_sql, "creating schema_migrations", err) == -1)
		return -1;
	res = PQexec(db->conn, "SELECT coalesce(max(version), 0) FROM schema_migrations");
	if (pg_db_int(db, res, "reading schema_migrations", &applied, err) == -1) {
		PQclear(res);
		return -1;
	}
	PQclear(res);
	if (applied < 0 || (size_t)applied > count) {
		store_error_set(err, STORE_UNSUPPORTED, "postgresql schema version %d is newer than"
		    " this build knows (%zu)", applied, count);
		return -1;
	}
	if (pg_db_verify(db, migrations, applied, err) == -1)
		return -1;
	for (size_t i = (size_t)applied; i < count; i++)
		if (pg_db_apply(db, (int)i, migrations[i], err) == -1)
			return -1;
	return 0;
}

int
pg_db_migrate(struct pg_db *db, const char *const *migrations, size_t count,
    struct store_error *err)
{
	struct store_error ignored;

	if (pg_db_ensure(db, err) == -1)
		return -1;
	/* READ COMMITTED whatever the server's default: each statement then
	 * sees what committed before it, so what the lock's holder made. All
	 * pending migrations commit together: a database is at one version. */
	if (pg_db_run(db, "BEGIN ISOLATION LEVEL READ COMMITTED", "postgresql", err) == -1)
		return -1;
	if (pg_db_migrate_locked(db, migrations, count, err) == -1) {
		if (db->conn != NULL)
			pg_db_run(db, "ROLLBACK", "postgresql", &ignored);
		return -1;
	}
	return pg_db_run(db, "COMMIT", "committing the migrations", err);
}

int
pg_db_schema_version(struct pg_db *db, int *version, struct store_error *err)
{
	PGresult *res;
	int rc, exists;

	if (pg_db_ensure(db, err) == -1)
		return -1;
	res = PQexec(db->conn, "SELECT (to_regclass('schema_migrations') IS NOT NULL)::int");
	rc = pg_db_int(db, res, "looking for schema_migrations", &exists, err);
	PQclear(res);
	if (rc == -1)
		return -1;
	if (!exists) {
		*version = 0;
		return 0;
	}
	res = PQexec(db->conn, "SELECT coalesce(max(version), 0) FROM schema_migrations");
	rc = pg_db_int(db, res, "reading schema_migrations", version, err);
	PQclear(res);
	return rc;
}
