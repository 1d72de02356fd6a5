/*
 * Online backup: a copy of the catalog and every leg file, each taken with
 * VACUUM INTO from a read-only connection, so ingest goes on meanwhile
 * (WAL lets the copy read one consistent snapshot of each file).
 */
#ifndef CORRIDOR_BACKUP_H
#define CORRIDOR_BACKUP_H

#include <stddef.h>
#include <stdint.h>

#include "legs.h"

#define BACKUP_NAME_MAX 64

struct backup_file {
	char name[LEG_CODE_MAX + 16];	/* relative to the backup directory */
	int64_t bytes;
	int64_t ms;
};

/* True for 1..BACKUP_NAME_MAX of [A-Za-z0-9._-], not starting with a dot. */
int backup_name_valid(const char *name);

/* Copies <state_dir>/corridor.db and <state_dir>/legs/<LEG>.db into dest
 * (which must not exist yet), catalog first, so the copied marks never lead
 * the copied updates. files must hold legs->count + 1 entries. 0, or -1
 * with err filled. */
int backup_make(const char *state_dir, const struct leg_table *legs, const char *dest,
    struct backup_file *files, size_t *nfiles, char *err, size_t errlen);

#endif
