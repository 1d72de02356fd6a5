/*
 * Opening corridor's SQLite files: WAL, the chosen synchronous level, a busy
 * timeout, and numbered migrations recorded in PRAGMA user_version.
 */
#ifndef CORRIDOR_DB_H
#define CORRIDOR_DB_H

#include <stdbool.h>
#include <stddef.h>

#include <sqlite3.h>

#include "config.h"

/* Configures SQLite for corridor's threading before the first open; any
 * number of calls, from any thread. 0 or -1. */
int db_global_init(void);

/* Opens (creating) path read-write and applies migrations[0..count).
 * Returns NULL with err filled on failure. */
sqlite3 *db_open_rw(const char *path, enum store_sync sync, const char *const *migrations,
    size_t count, char *err, size_t errlen);
/* Opens an existing file read-only for queries. */
sqlite3 *db_open_ro(const char *path, char *err, size_t errlen);
int db_exec(sqlite3 *db, const char *sql, char *err, size_t errlen);
/* Steps a statement that yields no row and resets it: SQLITE_OK or the code. */
int db_step_done(sqlite3_stmt *st);

#endif
