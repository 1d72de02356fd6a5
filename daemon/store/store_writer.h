/*
 * The writer handle: one per writer thread (store/writer.c), owned by it.
 * It stores batches of updates for the legs it was given, each batch for one
 * leg in one transaction, and runs retention steps between batches.
 */
#ifndef CORRIDOR_STORE_WRITER_H
#define CORRIDOR_STORE_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "legs.h"
#include "update_rec.h"

struct store;
struct store_error;
struct store_writer;

/* Creates (or migrates, or derives again) a leg's storage so that a writer
 * can take it; any thread, slow (a reload runs it off the loop). */
int store_leg_prepare(struct store *st, const struct leg *leg, struct store_error *err);
/* Where the backend keeps leg (a file name), into buf, for the log. */
void store_leg_where(struct store *st, const struct leg *leg, char *buf, size_t len);

struct store_writer *store_writer_open(struct store *st, struct store_error *err);
void store_writer_close(struct store_writer *w);
/* Takes the prepared leg leg as this writer's leg number index. */
int store_writer_add_leg(struct store_writer *w, size_t index, const struct leg *leg,
    int64_t cache_mib, struct store_error *err);

/* Stores recs[0..n) (all of leg index) in one transaction and sets each
 * rec's result: REC_STORED, REC_DUPLICATE ((carrier, seq) already stored
 * with the same content; a resend is only compared, never inserted),
 * REC_REUSED (stored with other content, or a resend not stored here) or,
 * when the transaction fails, REC_FAILED (and err says why). 0 or -1. */
int store_writer_append(struct store_writer *w, size_t index, struct update_rec **recs,
    size_t n, struct store_error *err);

/* Retention: drops, in one transaction, up to max_units (unit, direction)
 * of leg index whose events are all older than cutoff_ms and which are not
 * in the leg any more; the rollups keep them. Each call resumes where the
 * last one stopped; *more while the leg is not scanned to its end. */
int store_writer_retain_step(struct store_writer *w, size_t index, int64_t cutoff_ms,
    size_t max_units, size_t *units_dropped, int64_t *events_dropped, bool *more,
    struct store_error *err);

#endif
