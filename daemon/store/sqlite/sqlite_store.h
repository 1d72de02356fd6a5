/*
 * The SQLite backend's own state and what its files share: the disk layout
 * (<state_dir>/corridor.db, <state_dir>/legs/<LEG>.db, DESIGN decision 1)
 * and the mapping of SQLite's result codes to struct store_error. Nothing
 * outside store/sqlite/ sees this.
 */
#ifndef CORRIDOR_SQLITE_STORE_H
#define CORRIDOR_SQLITE_STORE_H

#include <sqlite3.h>

#include "config.h"
#include "legs.h"
#include "store_backend.h"

struct sqlite_store {
	char state_dir[CONFIG_PATH_MAX];
	char legs_dir[CONFIG_PATH_MAX + 8];
	char catalog_path[CONFIG_PATH_MAX + 16];
	enum store_sync sync;
};

/* <legs_dir>/<code>.db into buf; -1 if it does not fit. */
int sqlite_leg_path(const struct sqlite_store *s, const char *code, char *buf, size_t len);

/* The kind of error SQLite's result code rc means. */
enum store_error_kind sqlite_error_kind(int rc);
/* Fills err from rc and db's message, prefixed with what ("saving marks"). */
void sqlite_error(struct store_error *err, sqlite3 *db, int rc, const char *what);
/* Fills err from a message of db.c's (opening, migrating) with rc's kind. */
void sqlite_error_text(struct store_error *err, int rc, const char *text);

/* The online backup (backup.c). */
int sqlite_backup(const struct sqlite_store *s, const struct leg_table *legs, const char *dest,
    struct store_backup_file *files, size_t *nfiles, struct store_error *err);

extern const struct store_catalog_ops sqlite_catalog_ops;
extern const struct store_writer_ops sqlite_writer_ops;
extern const struct store_reader_ops sqlite_reader_ops;
extern const struct store_derived_ops sqlite_derived_ops;

#endif
