/*
 * Writes a rollup_batch into a leg's rollup tables, inside the writer's
 * open transaction: each touched row is read, merged with its delta and
 * written back (or deleted when nothing is left in it). Minimum and maximum
 * are not subtractable, so a row that lost a duration has them recounted
 * from the traversals of that hour; trains and vessel calls are recounted
 * from their traversals.
 */
#ifndef CORRIDOR_ROLLUP_STORE_H
#define CORRIDOR_ROLLUP_STORE_H

#include <stddef.h>
#include <sqlite3.h>

#include "rollup_batch.h"

struct rollup_store;

struct rollup_store *rollup_store_new(sqlite3 *db, char *err, size_t errlen);
void rollup_store_free(struct rollup_store *rs);
/* Returns SQLITE_OK or the failing SQLite code; the batch is reset after. */
int rollup_store_flush(struct rollup_store *rs, struct rollup_batch *b);

#endif
