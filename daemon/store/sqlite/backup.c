/* Online backup with VACUUM INTO; see backup.h. */
#include "backup.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <sqlite3.h>

#include "db.h"
#include "timeutil.h"

int
backup_name_valid(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > BACKUP_NAME_MAX || name[0] == '.')
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)name[i]) && name[i] != '.' && name[i] != '_' &&
		    name[i] != '-')
			return 0;
	return 1;
}

/* One file: VACUUM INTO from a read-only connection. */
static int
copy_file(const char *from, const char *to, struct backup_file *f, char *err, size_t errlen)
{
	int64_t t0 = time_mono_ms();
	struct stat st;
	sqlite3 *db;
	char *sql;
	int rc;

	if ((db = db_open_ro(from, err, errlen)) == NULL)
		return -1;
	sql = sqlite3_mprintf("VACUUM INTO %Q", to);
	rc = sql != NULL ? db_exec(db, sql, err, errlen) : -1;
	sqlite3_free(sql);
	sqlite3_close(db);
	if (rc == -1)
		return -1;
	f->ms = time_mono_ms() - t0;
	f->bytes = stat(to, &st) == 0 ? (int64_t)st.st_size : -1;
	return 0;
}

int
backup_make(const char *state_dir, const struct leg_table *legs, const char *dest,
    struct backup_file *files, size_t *nfiles, char *err, size_t errlen)
{
	char from[4200], to[4200], inner[256];

	*nfiles = 0;
	if (mkdir(dest, 0750) == -1) {
		snprintf(err, errlen, "%s", errno == EEXIST ? "a backup of that name exists" :
		    strerror(errno));
		return -1;
	}
	snprintf(to, sizeof to, "%s/legs", dest);
	if (mkdir(to, 0750) == -1) {
		snprintf(err, errlen, "%s", strerror(errno));
		return -1;
	}
	/* the catalog first: its marks may lag the leg copies, never lead them */
	snprintf(from, sizeof from, "%s/corridor.db", state_dir);
	snprintf(to, sizeof to, "%s/corridor.db", dest);
	snprintf(files[0].name, sizeof files[0].name, "corridor.db");
	if (copy_file(from, to, &files[0], inner, sizeof inner) == -1) {
		snprintf(err, errlen, "corridor.db: %s", inner);
		return -1;
	}
	*nfiles = 1;
	for (size_t i = 0; i < legs->count; i++) {
		struct backup_file *f = &files[*nfiles];

		snprintf(from, sizeof from, "%s/legs/%s.db", state_dir, legs->legs[i].code);
		snprintf(to, sizeof to, "%s/legs/%s.db", dest, legs->legs[i].code);
		snprintf(f->name, sizeof f->name, "legs/%s.db", legs->legs[i].code);
		if (copy_file(from, to, f, inner, sizeof inner) == -1) {
			snprintf(err, errlen, "%s: %s", f->name, inner);
			return -1;
		}
		(*nfiles)++;
	}
	return 0;
}
