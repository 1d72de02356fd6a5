/*
 * The daemon's shared counters, for the metrics endpoint: what the loop has
 * received, stored, rejected and refused. Each is counted through a function
 * here, so one place says how (and bounds the indexes a peer can influence);
 * the metrics read the struct. Loop thread only: every count and every read
 * happens on the event loop, so nothing is atomic.
 */
#ifndef CORRIDOR_COUNTERS_H
#define CORRIDOR_COUNTERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth_throttle.h"
#include "config.h"
#include "conn_limits.h"

#define COUNTERS_REJECT_REASONS 16	/* RejectReason values of the wire protocol */
#define COUNTERS_ERROR_CODES 16		/* ErrorCode values of the wire protocol */

struct counters {
	uint64_t updates_received;
	uint64_t updates_stored;
	uint64_t updates_duplicate;
	uint64_t store_failures;	/* updates whose transaction failed (retryable) */
	uint64_t updates_rejected[COUNTERS_REJECT_REASONS];	/* by RejectReason */
	uint64_t refused[REFUSE_REASONS];	/* connections refused or dropped, by reason */
	uint64_t session_errors[COUNTERS_ERROR_CODES];	/* Error frames sent, by ErrorCode */
	uint64_t accept_pauses;		/* accept failed (out of descriptors): paused */
	uint64_t busy_batches;		/* refused whole because the store was behind */
	uint64_t pauses;		/* times a carrier connection stopped being read */
	uint64_t queries;
	uint64_t leg_stored[LEGS_MAX];	/* updates stored, by leg index */
	uint64_t auth_failures[AUTH_FAIL_COUNT];
	uint64_t reloads_ok, reloads_failed;
};

void counters_received(struct counters *k);
/* The writers settled an update: stored (on leg_index), already there, or failed. */
void counters_stored(struct counters *k, size_t leg_index);
void counters_duplicate(struct counters *k);
void counters_store_failed(struct counters *k);
/* reason: a RejectReason; one outside the table is not counted. */
void counters_rejected(struct counters *k, int reason);
void counters_refused(struct counters *k, enum refuse_reason why);
/* code: an ErrorCode sent in an Error frame; one outside the table is not counted. */
void counters_session_error(struct counters *k, int code);
/* Returns the pauses so far, for the log. */
uint64_t counters_accept_paused(struct counters *k);
void counters_busy_batch(struct counters *k);
void counters_paused(struct counters *k);
void counters_query(struct counters *k);
void counters_auth_failed(struct counters *k, enum auth_failure why);
void counters_reload(struct counters *k, bool ok);

#endif
