/*
 * One carrier's ingest session (docs/wire-protocol.md) as a small state
 * machine: hello/welcome, pipelined batches within the window, acks and
 * rejections, retry of retryable rejections, reconnect with backoff and
 * resend above the acknowledged mark. Several run at once in one poll loop.
 */
#ifndef CORRIDORCTL_CARRIER_SESSION_H
#define CORRIDORCTL_CARRIER_SESSION_H

#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "corridor.pb-c.h"

struct ctl_tls;

#define CS_REASONS 16

struct cs_opts {
	const char *host;
	const char *port;
	const char *carrier;
	const char *credential;	/* may be NULL */
	size_t batch;		/* updates per Batch; capped by the Welcome's limit */
	size_t window;		/* most unacknowledged; 0 = the Welcome's limit */
	int retries;		/* reconnect attempts in a row before giving up */
	/* Frees a queued update once it is done; NULL = update_free(). */
	void (*free_update)(Corridor__ShipmentUpdate *);
	const struct ctl_tls *tls;	/* TLS to the carrier port; NULL: plain TCP */
};

enum cs_state { CS_NEW, CS_BACKOFF, CS_STREAMING, CS_DONE, CS_FAILED };

struct cs_stats {
	uint64_t queued;
	uint64_t skipped;	/* at or below the mark when queued */
	uint64_t sent;		/* first sends */
	uint64_t resent;	/* sends after a reconnect or a retryable rejection */
	uint64_t acked;		/* stored, as the acknowledgements say */
	uint64_t rejected;	/* rejected for good */
	uint64_t rejected_expected;	/* of those, queued with expect_reject */
	uint64_t retried;	/* retryable rejections */
	uint64_t reconnects;
	uint64_t by_reason[CS_REASONS];
};

struct csession;

struct csession *csession_new(const struct cs_opts *o);
void csession_free(struct csession *cs);

/* Connects, says hello and reads the welcome (blocking, time-limited).
 * 0, or -1 with the reason in err. */
int csession_open(struct csession *cs, char *err, size_t errlen);
uint64_t csession_acked_seq(const struct csession *cs);

/* Hands u over (seqs must grow from call to call). An update at or below the
 * mark is freed and counted as skipped. expect_reject marks an update that is
 * bad on purpose, so its rejection is counted rather than reported. 0 or -1. */
int csession_queue(struct csession *cs, Corridor__ShipmentUpdate *u, bool expect_reject);

/* Fills pfd for poll(); returns the most milliseconds to wait (-1: no limit). */
int csession_prepare(struct csession *cs, struct pollfd *pfd, int64_t now);
/* Handles what poll() reported and moves the session along. */
void csession_service(struct csession *cs, short revents, int64_t now);

enum cs_state csession_state(const struct csession *cs);
const struct cs_stats *csession_stats(const struct csession *cs);
const char *csession_carrier(const struct csession *cs);
const char *csession_error(const struct csession *cs);

/* Runs the sessions until each is done or failed, with a progress line on
 * stderr. 0 when all are done. */
int csession_run_all(struct csession **v, size_t n, const char *label);
/* Per-carrier and total counts, rejections by reason and the rate. */
void csession_summary(FILE *out, struct csession **v, size_t n, int64_t elapsed_ms);

#endif
