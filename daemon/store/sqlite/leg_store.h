/*
 * The write side of one leg's SQLite file. Used only by the writer thread
 * that owns the leg: it stores a batch of updates in one transaction and
 * re-pairs the traversals of every unit the batch touched.
 */
#ifndef CORRIDOR_LEG_STORE_H
#define CORRIDOR_LEG_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db.h"
#include "legs.h"
#include "store_error.h"
#include "update_rec.h"

struct leg_store;

/* Opens or creates <legs_dir>/<code>.db and migrates it. */
struct leg_store *leg_store_open(const char *legs_dir, const struct leg *leg, enum store_sync sync,
    char *err, size_t errlen);
void leg_store_close(struct leg_store *s);

/* Stores recs[0..n) (all of this leg) in one transaction and sets each
 * rec's result: REC_STORED, REC_DUPLICATE ((carrier, seq) already stored
 * with the same content; a resend is only compared, never inserted),
 * REC_REUSED (stored with other content, or a resend not stored here) or,
 * when the transaction fails, REC_FAILED (err says why). Returns 0 or -1. */
int leg_store_append(struct leg_store *s, struct update_rec **recs, size_t n,
    struct store_error *err);

const char *leg_store_code(const struct leg_store *s);
/* Sets the writer connection's page cache (leg_cache_mib). */
void leg_store_set_cache(struct leg_store *s, int64_t mib);

/* Retention (leg_retention.c): drops, in one transaction, up to max_units
 * (unit, direction) whose events are all older than cutoff_ms and which are
 * not in the leg any more; the rollups keep them. Each call resumes the scan
 * where the last one stopped; *more while the leg is not scanned to its end.
 * Returns 0 or -1. */
int leg_store_retain(struct leg_store *s, int64_t cutoff_ms, size_t max_units,
    size_t *units_dropped, int64_t *events_dropped, bool *more, struct store_error *err);

/* The statement that stores one event row and how its values are bound;
 * shared with the benchmark's single-file ceiling so both insert the same rows. */
extern const char leg_store_insert_event_sql[];
void leg_store_bind_event(sqlite3_stmt *st, const struct update_rec *r);

#endif
