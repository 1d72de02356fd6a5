/*
 * Carriers' acknowledged marks and their durability. The mark only ever
 * grows and every seq at or below it is stored or rejected for good, so:
 * a final rejection is recorded in the catalog before the carrier hears of
 * it; at start-up each mark is recovered from the catalog's last checkpoint,
 * the updates stored in the leg files and the recorded rejections; and the
 * marks are checkpointed to the catalog about once a second, which only
 * shortens that recovery. All catalog writes run on the checkpoint thread.
 */
#ifndef CORRIDOR_MARKS_H
#define CORRIDOR_MARKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "validate.h"

struct carrier;
struct carrier_table;
struct ingest;
struct leg_table;
struct store_catalog;

/* Recovers the marks of the carriers of ct (their windows allocated) from
 * what the legs store and the catalog's rejections: at start-up before
 * listening, and on the checkpoint thread, which owns the catalog once the
 * daemon runs (a reload adding carriers). */
int marks_recover_table(struct store_catalog *cat, const struct leg_table *legs,
    struct carrier_table *ct, char *err, size_t errlen);

/* A final rejection of a fresh seq (not carrier_seq_used: it is queued
 * until recorded): recorded durably (with the batch, see marks_flush),
 * then sent to the carrier's session and counted towards its mark. */
void marks_reject(struct ingest *ing, struct carrier *c, uint64_t seq, const struct reject *rej);
/* Hands the rejections gathered while taking a batch to the catalog. */
void marks_flush(struct ingest *ing);

/* A shared store (store_shared): another daemon may have stored or
 * rejected updates of c since this one last saw it, so before its session
 * is welcomed the checkpoint thread reads the saved mark and the claims
 * above it, and the loop raises c's mark to what the store acknowledges;
 * then done(arg) runs on the loop, also when the store could not be read
 * (the local mark is still safe: resends are recognised). -1 (done not
 * called): no memory. */
int marks_refresh(struct ingest *ing, struct carrier *c, void (*done)(void *arg), void *arg);

/* The timer's checkpoint of moved marks. */
void marks_checkpoint(struct ingest *ing);
/* The last checkpoint, run on the caller's thread once the workers stopped. */
void marks_final_checkpoint(struct ingest *ing);

#endif
