/* SQLite file set-up and migrations; see db.h. */
#include "db.h"

#include <pthread.h>
#include <stdio.h>

#define DB_BUSY_TIMEOUT_MS 5000

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static int global_result = -1;

static void
global_init(void)
{
	/* Each connection is used by one thread at a time, so SQLite's own
	 * connection mutexes are not needed; and its memory statistics take a
	 * global mutex on every allocation, which the writers would contend on. */
	if (sqlite3_config(SQLITE_CONFIG_MULTITHREAD) != SQLITE_OK ||
	    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0) != SQLITE_OK)
		return;
	global_result = sqlite3_initialize() == SQLITE_OK ? 0 : -1;
}

int
db_global_init(void)
{
	pthread_once(&global_once, global_init);
	return global_result;
}

int
db_exec(sqlite3 *db, const char *sql, char *err, size_t errlen)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(err, errlen, "%s", msg != NULL ? msg : sqlite3_errmsg(db));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

static int
db_user_version(sqlite3 *db, int *version)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : -1;
}

static int
db_migrate(sqlite3 *db, const char *const *migrations, size_t count, char *err, size_t errlen)
{
	int version;

	if (db_user_version(db, &version) == -1) {
		snprintf(err, errlen, "reading user_version: %s", sqlite3_errmsg(db));
		return -1;
	}
	if (version > (int)count) {
		snprintf(err, errlen, "schema version %d is newer than this build knows (%zu)",
		    version, count);
		return -1;
	}
	for (size_t i = (size_t)version; i < count; i++) {
		char sql[64];

		/* Each migration and its version bump commit together. */
		if (db_exec(db, "BEGIN IMMEDIATE", err, errlen) == -1)
			return -1;
		snprintf(sql, sizeof sql, "PRAGMA user_version = %zu", i + 1);
		if (db_exec(db, migrations[i], err, errlen) == -1 ||
		    db_exec(db, sql, err, errlen) == -1) {
			char ignored[8];

			db_exec(db, "ROLLBACK", ignored, sizeof ignored);
			return -1;
		}
		if (db_exec(db, "COMMIT", err, errlen) == -1)
			return -1;
	}
	return 0;
}

sqlite3 *
db_open_rw(const char *path, enum store_sync sync, const char *const *migrations, size_t count,
    char *err, size_t errlen)
{
	sqlite3 *db = NULL;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
	    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path, db != NULL ? sqlite3_errmsg(db) : "no memory");
		sqlite3_close(db);
		return NULL;
	}
	sqlite3_busy_timeout(db, DB_BUSY_TIMEOUT_MS);
	if (db_exec(db, "PRAGMA journal_mode = WAL", err, errlen) == -1 ||
	    db_exec(db, sync == STORE_SYNC_FULL ? "PRAGMA synchronous = FULL" :
	    "PRAGMA synchronous = NORMAL", err, errlen) == -1 ||
	    db_exec(db, "PRAGMA foreign_keys = ON", err, errlen) == -1 ||
	    db_migrate(db, migrations, count, err, errlen) == -1) {
		sqlite3_close(db);
		return NULL;
	}
	return db;
}

sqlite3 *
db_open_ro(const char *path, char *err, size_t errlen)
{
	sqlite3 *db = NULL;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path, db != NULL ? sqlite3_errmsg(db) : "no memory");
		sqlite3_close(db);
		return NULL;
	}
	sqlite3_busy_timeout(db, DB_BUSY_TIMEOUT_MS);
	return db;
}

int
db_step_done(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}
