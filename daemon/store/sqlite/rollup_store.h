/*
 * The rollup rows of one leg's file, as the ops of derive.h see them
 * (rollup get/put/delete, recount min/max, count/put/delete conveyance),
 * inside the writer's open transaction; the merge rules are derive.c's.
 */
#ifndef CORRIDOR_ROLLUP_STORE_H
#define CORRIDOR_ROLLUP_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <sqlite3.h>

#include "derive.h"
#include "rollup_batch.h"

struct rollup_store;

struct rollup_store *rollup_store_new(sqlite3 *db, char *err, size_t errlen);
void rollup_store_free(struct rollup_store *rs);

/* Each returns SQLITE_OK or the failing SQLite code; see struct derive_ops. */
int rollup_store_get(struct rollup_store *rs, const struct rollup_key *k,
    struct derive_rollup *row, bool *found);
int rollup_store_put(struct rollup_store *rs, const struct rollup_key *k,
    const struct derive_rollup *row);
int rollup_store_delete(struct rollup_store *rs, const struct rollup_key *k);
int rollup_store_minmax(struct rollup_store *rs, const struct rollup_key *k, int64_t *min,
    int64_t *max);
int rollup_store_count_conveyance(struct rollup_store *rs, const struct conveyance_key *c,
    struct derive_conveyance *out);
int rollup_store_put_conveyance(struct rollup_store *rs, const struct conveyance_key *c,
    const struct derive_conveyance *v);
int rollup_store_delete_conveyance(struct rollup_store *rs, const struct conveyance_key *c);

#endif
