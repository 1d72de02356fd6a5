/*
 * The changes one leg store transaction makes to the leg's hourly rollups,
 * gathered in memory so each rollup row is read and written once per
 * transaction however many traversals touch it.
 *
 * Rollups (schema/leg/002_rollups.sql):
 *  - transit_hourly: closed traversals by EXIT hour, direction and carrier:
 *    count, sum, min, max, on-time against the leg's typical time, against
 *    the plan, ETA error, cargo, and a mergeable duration histogram;
 *  - volume_hourly: traversals by ENTRY hour (what entered the leg);
 *  - quality_hourly: what each carrier sent, by RECORD hour.
 * A traversal that changes is subtracted as it was and added as it is, so
 * late, out-of-order and retracted updates end in the right hour.
 */
#ifndef CORRIDOR_ROLLUP_BATCH_H
#define CORRIDOR_ROLLUP_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "traversal.h"

#define MS_PER_HOUR_I 3600000LL
#define ROLLUP_CARRIER_MAX 32

enum rollup_table { RT_TRANSIT, RT_VOLUME, RT_QUALITY };

struct rollup_key {
	enum rollup_table table;
	int64_t hour_ms;
	char direction;		/* 0 for quality rows */
	char carrier[ROLLUP_CARRIER_MAX];
};

struct rollup_delta {
	struct rollup_key key;
	/* transit and volume: traversals (units), cargo */
	int64_t n, teu, containers, gross_kg;
	/* transit */
	int64_t sum_ms, on_time, planned, on_plan, eta_n, eta_err_ms;
	int64_t add_min, add_max;	/* durations added (INT64_MAX / INT64_MIN: none) */
	bool removed;			/* a duration was taken out: min/max need a look */
	/* quality: n counts stored updates, lag_n the actual ones among them
	 * (the lag is over those), pln_est the planned and estimated ones */
	int64_t lag_n, lag_sum_ms, lag_max_ms, pln_est, duplicates, retractions, out_of_order;
	int64_t *hist;			/* dense bucket deltas (durations or lags) */
};

/* A train or vessel call whose row must be recounted from the traversals. */
struct conveyance_key {
	char kind;		/* 'T' train, 'V' vessel call */
	char direction;
	char *ident;
};

struct rollup_batch {
	int64_t typical_ms;	/* the leg's typical time, for on-time */
	struct rollup_delta *d;
	size_t count, cap;
	int32_t *slot;		/* open-addressing index into d, -1 empty */
	size_t nslots;
	struct conveyance_key *conv;
	size_t nconv, capconv;
};

void rollup_batch_init(struct rollup_batch *b, int64_t typical_ms);
void rollup_batch_reset(struct rollup_batch *b);
void rollup_batch_free(struct rollup_batch *b);

/* A traversal counted in (sign +1) or out (-1); -1 when out of memory. */
int rollup_batch_traversal(struct rollup_batch *b, const struct traversal *t, char direction,
    int sign);

/* QE_STORED: an actual (ACT) update stored, counted with its lag;
 * QE_STORED_PLAN: a planned or estimated one, whose event time is ahead. */
enum quality_event { QE_STORED, QE_STORED_PLAN, QE_DUPLICATE, QE_RETRACTION, QE_OUT_OF_ORDER };
int rollup_batch_quality(struct rollup_batch *b, const char *carrier, int64_t record_ms,
    int64_t event_ms, enum quality_event what);

int64_t rollup_hour(int64_t ms);

#endif
