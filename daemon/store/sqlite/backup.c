/*
 * The SQLite backend's online backup (store_reader_backup): a copy of the
 * catalog and every leg file, each taken with VACUUM INTO from a read-only
 * connection, so ingest goes on meanwhile (WAL lets the copy read one
 * consistent snapshot of each file). The catalog is copied first, so the
 * copied marks never lead the copied updates.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "db.h"
#include "sqlite_store.h"
#include "timeutil.h"

/* One file: VACUUM INTO from a read-only connection. */
static int
copy_file(const char *from, const char *to, struct store_backup_file *f,
    struct store_error *err)
{
	int64_t t0 = time_mono_ms();
	char msg[STORE_ERROR_MAX];
	struct stat st;
	sqlite3 *db;
	char *sql;
	int rc;

	if ((db = db_open_ro(from, msg, sizeof msg)) == NULL) {
		store_error_set(err, STORE_RETRYABLE, "%s: %s", f->name, msg);
		return -1;
	}
	sql = sqlite3_mprintf("VACUUM INTO %Q", to);
	if (sql == NULL)
		snprintf(msg, sizeof msg, "out of memory");
	rc = sql != NULL ? db_exec(db, sql, msg, sizeof msg) : -1;
	sqlite3_free(sql);
	sqlite3_close(db);
	if (rc == -1) {
		store_error_set(err, STORE_RETRYABLE, "%s: %s", f->name, msg);
		return -1;
	}
	f->ms = time_mono_ms() - t0;
	f->bytes = stat(to, &st) == 0 ? (int64_t)st.st_size : -1;
	return 0;
}

static int
make_dir(const char *path, struct store_error *err)
{
	if (mkdir(path, 0750) == 0)
		return 0;
	if (errno == EEXIST)
		store_error_set(err, STORE_CONFLICT, "a backup of that name exists");
	else
		store_error_set(err, STORE_RETRYABLE, "%s", strerror(errno));
	return -1;
}

/* The directory the backups go in (the last component of path is the
 * backup's own), made if it is not there yet. */
static int
make_parent(const char *path, struct store_error *err)
{
	char dir[CONFIG_PATH_MAX * 2 + 64];
	const char *slash = strrchr(path, '/');

	if (slash == NULL || slash == path)
		return 0;
	if ((size_t)(slash - path) >= sizeof dir) {
		store_error_set(err, STORE_UNSUPPORTED, "the backup's path is too long");
		return -1;
	}
	memcpy(dir, path, (size_t)(slash - path));
	dir[slash - path] = '\0';
	if (mkdir(dir, 0750) == -1 && errno != EEXIST) {
		store_error_set(err, STORE_RETRYABLE, "cannot create the backup directory %s: %s", dir,
		    strerror(errno));
		return -1;
	}
	return 0;
}

int
sqlite_backup(const struct sqlite_store *s, const struct leg_table *legs, const char *dest,
    struct store_backup_file *files, size_t *nfiles, struct store_error *err)
{
	char from[CONFIG_PATH_MAX + LEG_CODE_MAX + 16], to[CONFIG_PATH_MAX * 2 + 64];

	*nfiles = 0;
	if ((size_t)snprintf(to, sizeof to, "%s/legs", dest) >= sizeof to - LEG_CODE_MAX - 8) {
		store_error_set(err, STORE_UNSUPPORTED, "the backup's path is too long");
		return -1;
	}
	if (make_parent(dest, err) == -1 || make_dir(dest, err) == -1 || make_dir(to, err) == -1)
		return -1;
	snprintf(to, sizeof to, "%s/corridor.db", dest);
	snprintf(files[0].name, sizeof files[0].name, "corridor.db");
	if (copy_file(s->catalog_path, to, &files[0], err) == -1)
		return -1;
	*nfiles = 1;
	for (size_t i = 0; i < legs->count; i++) {
		struct store_backup_file *f = &files[*nfiles];

		if (sqlite_leg_path(s, legs->legs[i].code, from, sizeof from) == -1) {
			store_error_set(err, STORE_UNSUPPORTED, "leg %s: path too long",
			    legs->legs[i].code);
			return -1;
		}
		snprintf(to, sizeof to, "%s/legs/%s.db", dest, legs->legs[i].code);
		snprintf(f->name, sizeof f->name, "legs/%s.db", legs->legs[i].code);
		if (copy_file(from, to, f, err) == -1)
			return -1;
		(*nfiles)++;
	}
	return 0;
}
