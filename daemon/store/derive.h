/*
 * The derived state of a leg, written once for every backend (DESIGN
 * decision 7): re-pairing the traversals of the units a transaction
 * touched, merging the rollup changes (rollup_batch.h) into the stored
 * rollup rows, and deriving every traversal and rollup again from the
 * events. A backend does not implement this logic: it implements the small
 * table of row operations below (struct derive_ops) over its own storage,
 * and calls these functions inside a transaction it opened, handing them
 * the table and its context for that transaction (struct derive_tx).
 *
 * Owned by the writer thread that owns the leg (or the thread that
 * prepares it, before a writer takes it).
 *
 * Results: 0, a backend's own error code as its op returned it (a positive
 * value; the ops return 0 or such a code), or DERIVE_NOMEM / DERIVE_CORRUPT
 * for what the shared code finds itself; the backend turns those two into
 * its own codes.
 */
#ifndef CORRIDOR_DERIVE_H
#define CORRIDOR_DERIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "legs.h"
#include "rollup_batch.h"
#include "traversal.h"
#include "update_rec.h"

#define DERIVE_NOMEM (-1)	/* out of memory */
#define DERIVE_CORRUPT (-2)	/* a stored row is malformed or less than was taken out */

/* The way traversals and rollups are derived from events; a backend
 * remembers which one made a leg's rows and derives them again at open
 * when it is not this one (derive_again()). */
#define DERIVE_VERSION 4	/* 4: a re-entry in the entry's millisecond is one traversal */

/* ------------------------------------------------------------ rows the ops pass */

/* One stored event. Strings are the backend's until the callback returns. */
struct derive_event {
	int64_t id;		/* arrival order in the leg: larger is later */
	int64_t time_ms;	/* event time */
	int64_t record_ms;	/* record time */
	int classifier;		/* CORRIDOR__CLASSIFIER__* */
	int event_code;		/* CORRIDOR__EVENT_CODE__* */
	const char *carrier;
	const char *train;	/* NULL: none (also for the other strings) */
	const char *vessel_imo;
	const char *voyage;
	uint32_t teu;		/* the unit's, 0: unknown */
	uint32_t containers;
	uint32_t gross_kg;
	bool retracts;		/* it retracts another update (each_event only) */
};

/* One rollup row's values (which of them a table has: rollup_batch.h).
 * hist is the stored form of lib/histogram.h (transit: durations, quality:
 * lags; volume rows have none): for rollup_get the caller's buffer of
 * HIST_BLOB_MAX bytes that the op copies into (a longer stored value, which
 * no writer makes, is the backend's error for a corrupt row), for
 * rollup_put the bytes to store. */
struct derive_rollup {
	/* transit and volume (units); quality: stored updates */
	int64_t n;
	int64_t teu, containers, gross_kg;	/* transit, volume */
	int64_t sum_ms, min_ms, max_ms, on_time, planned, on_plan, eta_n, eta_err_ms;
	int64_t lag_n, lag_sum_ms, lag_max_ms, pln_est, duplicates, retractions, out_of_order;
	unsigned char *hist;
	size_t hist_len;
};

/* A train's or vessel call's row, counted from the traversals naming it. */
struct derive_conveyance {
	int64_t units;
	int64_t first_enter_ms;
	char carrier[ROLLUP_CARRIER_MAX];	/* of one of the traversals */
};

/* The callbacks return 0 to go on; anything else stops the op, which
 * returns it. */
typedef int (*derive_event_fn)(void *arg, const struct derive_event *e);
/* t's strings are the backend's until the callback returns */
typedef int (*derive_traversal_fn)(void *arg, const struct traversal *t);
typedef int (*derive_unit_fn)(void *arg, const char *unit, const char *direction);

/*
 * What a backend implements, over the transaction it opened. direction is
 * a one-letter string. Each returns 0 or the backend's error code.
 */
struct derive_ops {
	/* re-pairing */
	/* the (unit, direction)'s events that are not retracted, by event
	 * time then id; every field but retracts */
	int (*unit_events)(void *ctx, const char *unit, const char *direction,
	    derive_event_fn fn, void *arg);
	/* the traversals stored for the (unit, direction), by entry time */
	int (*unit_traversals)(void *ctx, const char *unit, const char *direction,
	    derive_traversal_fn fn, void *arg);
	/* stores t (a new one, or replaces the one with its entry time) */
	int (*put_traversal)(void *ctx, const char *unit, const char *direction,
	    const struct traversal *t);
	int (*delete_traversal)(void *ctx, const char *unit, const char *direction,
	    int64_t enter_ms);

	/* rollups, by key (rollup_batch.h) */
	/* the row of k into row; *found false when there is none (row unused) */
	int (*rollup_get)(void *ctx, const struct rollup_key *k, struct derive_rollup *row,
	    bool *found);
	int (*rollup_put)(void *ctx, const struct rollup_key *k, const struct derive_rollup *row);
	int (*rollup_delete)(void *ctx, const struct rollup_key *k);
	/* min and max duration of the stored closed traversals with k's
	 * direction and carrier that exited in k's hour; 0 and 0 when none */
	int (*recount_minmax)(void *ctx, const struct rollup_key *k, int64_t *min, int64_t *max);
	/* counts the stored traversals naming the train or vessel call */
	int (*count_conveyance)(void *ctx, const struct conveyance_key *c,
	    struct derive_conveyance *out);
	int (*put_conveyance)(void *ctx, const struct conveyance_key *c,
	    const struct derive_conveyance *v);
	int (*delete_conveyance)(void *ctx, const struct conveyance_key *c);
	/* optional (NULL: none): called once as derive_flush starts, with every
	 * rollup key it will rollup_get and every conveyance it will
	 * count_conveyance (each once), so that a backend whose ops are round
	 * trips can read them all in a few statements and answer those ops
	 * from what it read; keys and conv are the caller's until it returns */
	int (*read_ahead)(void *ctx, const struct rollup_key *keys, size_t n,
	    const struct conveyance_key *conv, size_t nconv);

	/* re-derivation (derive_again()) */
	/* deletes every traversal, rollup row and conveyance of the leg */
	int (*clear)(void *ctx);
	/* every (unit, direction) that has events, each once; fn may call the
	 * other ops of the same transaction */
	int (*each_unit)(void *ctx, derive_unit_fn fn, void *arg);
	/* every stored event (retracted ones too): carrier, time_ms, record_ms,
	 * classifier, retracts; fn may call the other ops */
	int (*each_event)(void *ctx, derive_event_fn fn, void *arg);
};

/* One transaction of a backend: its ops and their context. */
struct derive_tx {
	const struct derive_ops *ops;
	void *ctx;
	/* events with an id below this were stored before the transaction */
	int64_t first_new_id;
};

/* ------------------------------------------------------------ units to re-pair */

/* A (unit, direction) whose traversals must be re-paired after the batch;
 * the set may hold duplicates until it is sorted. unit points into an
 * update of the batch, or is owned when it came from a retraction. */
struct unit_key {
	const char *unit;
	char direction[2];
	bool owned;		/* unit is a copy, freed with the set */
	bool read_stored;	/* its stored pairing is not what the older events give: read it */
};

struct unit_set {
	struct unit_key *keys;
	size_t count, cap;
};

/* Adds (unit, direction); copy: unit is copied (it outlives the caller's
 * row); read_stored: see struct unit_key. -1: no memory. */
int unit_set_add(struct unit_set *set, const char *unit, const char *direction, bool copy,
    bool read_stored);
void unit_set_free(struct unit_set *set);

/* ------------------------------------------------------------ the derived state of a leg */

struct derive;

/* For a leg of kind kind (code for the log) with its typical time. NULL: no memory. */
struct derive *derive_new(enum leg_kind kind, const char *code, int64_t typical_ms);
void derive_free(struct derive *d);

/* Counts an update towards the leg's data-quality rollup: one stored
 * (REC_STORED) or a duplicate (REC_DUPLICATE). */
int derive_note_update(struct derive *d, const struct update_rec *r);

/* Re-pairs every (unit, direction) of units once (sorting the set) and
 * writes the difference from the stored traversals; the rollup changes
 * wait for derive_flush(). A key with read_stored has its
 * stored traversals read, the others have them paired from the events
 * stored before the transaction. */
int derive_repair(struct derive *d, const struct derive_tx *tx, struct unit_set *units);

/* Merges the rollup changes gathered so far into the stored rows and
 * recounts the touched trains and vessel calls; they are dropped after. */
int derive_flush(struct derive *d, const struct derive_tx *tx);

/* Drops the rollup changes gathered so far (a failed transaction's). */
void derive_reset(struct derive *d);

/* Derives every traversal and rollup again from the events, against the
 * typical time typical_ms (which the leg keeps from now on), inside the
 * backend's transaction: clear, every unit re-paired, the quality counted
 * from the events. *nunits and *nevents: what it went through. */
int derive_again(struct derive *d, const struct derive_tx *tx, int64_t typical_ms,
    int64_t *nunits, int64_t *nevents);

#endif
