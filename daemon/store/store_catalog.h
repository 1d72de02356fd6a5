/*
 * The catalog handle: the legs and carriers the daemon knows, each
 * carrier's acknowledged high-water mark, the final rejections, and what
 * recovering a mark needs from the legs. Owned by one thread: the start-up
 * thread before the daemon runs, then the checkpoint thread. The mark is
 * saved some time after it advances; after a crash it may be behind the
 * truth, which is safe because resends of stored updates are recognised as
 * duplicates (ingest/marks.h).
 */
#ifndef CORRIDOR_STORE_CATALOG_H
#define CORRIDOR_STORE_CATALOG_H

#include <stddef.h>
#include <stdint.h>

#include "carrier.h"
#include "legs.h"

struct store;
struct store_error;
struct store_catalog;

/* Opens (creating and migrating) the catalog. NULL with err filled. */
struct store_catalog *store_catalog_open(struct store *st, struct store_error *err);
void store_catalog_close(struct store_catalog *cat);

/* Records the configured legs and carriers and loads each carrier's saved
 * mark into ct (acked_seq and saved_seq). */
int store_catalog_sync(struct store_catalog *cat, const struct leg_table *legs,
    struct carrier_table *ct, struct store_error *err);

struct store_mark {
	char code[CARRIER_CODE_MAX];
	uint64_t acked_seq;
	uint64_t mark_duplicates;	/* resends answered from the mark since the last save */
};

/* Saves marks in one transaction; never lowers a saved mark. Resends
 * answered from the mark are added to the current hour's count. */
int store_catalog_save_marks(struct store_catalog *cat, const struct store_mark *marks, size_t n,
    struct store_error *err);

struct store_rejection {
	char code[CARRIER_CODE_MAX];
	uint64_t seq;
	int reason;
	const char *message;
};

/* Records final rejections in one transaction (a repeat is kept once). */
int store_catalog_save_rejections(struct store_catalog *cat, const struct store_rejection *r,
    size_t n, struct store_error *err);

typedef void (*store_seq_fn)(void *arg, uint64_t seq);

/* Calls fn for every recorded rejection of carrier with seq > after. */
int store_catalog_each_rejection(struct store_catalog *cat, const char *carrier, uint64_t after,
    store_seq_fn fn, void *arg, struct store_error *err);
/* The carrier's mark as the catalog last saved it (0: none saved), which
 * on a shared store (store_shared) any daemon may have saved. */
int store_catalog_saved_mark(struct store_catalog *cat, const char *carrier,
    uint64_t *acked_seq, struct store_error *err);
/* Recovery: calls fn for every seq of carrier in (after, upto] that leg
 * stores (the leg must exist: it was prepared by a writer or a reload). */
int store_catalog_each_stored_seq(struct store_catalog *cat, const struct leg *leg,
    const char *carrier, uint64_t after, uint64_t upto, store_seq_fn fn, void *arg,
    struct store_error *err);

#endif
