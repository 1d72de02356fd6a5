/*
 * Pushing updates into corridord as carriers do, as fast as it takes them:
 * one thread and one session per carrier, pipelined batches within a window
 * of unacknowledged updates, BUSY-refused updates sent again, only
 * acknowledged updates counted, each batch's ack latency measured, and a
 * progress line (done, %, updates/s) while it runs. Where the updates come
 * from is the caller's: a function packs update i of carrier k.
 */
#ifndef CORRIDOR_BENCH_PUSH_H
#define CORRIDOR_BENCH_PUSH_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "bench_conn.h"

/* Packs update i of carrier k, with sequence number seq, as ShipmentUpdate
 * bytes into dst (cap bytes). Returns the length, or 0 when it cannot. */
typedef size_t (*bench_pack_fn)(void *src, unsigned k, uint64_t i, uint64_t seq, uint8_t *dst,
    size_t cap);

struct bench_push_opts {
	const struct bench_endpoint *ep;
	unsigned batch;		/* updates per Batch */
	unsigned window;	/* unacknowledged updates, over all carriers */
	double rate;		/* updates/s over all carriers; 0 = as fast as possible */
	const char *label;	/* of the progress line */
	/* per mille of the batches sent twice at once, as by a carrier whose
	 * send timed out before the Ack came: (carrier, seq) duplicates */
	unsigned resend_pm;
	bench_pack_fn pack;
	void *src;
};

/* One carrier's session. The caller fills the first three fields. */
struct bench_push_carrier {
	char code[16];
	uint64_t n;		/* updates to push */
	uint64_t first_seq;	/* seq of update 0; 0 = the Welcome's mark + 1 */

	/* filled by bench_push_run() */
	unsigned k, window;
	uint64_t skipped;	/* at or below the mark already */
	_Atomic uint64_t done;	/* acknowledged, including skipped */
	uint64_t rejected;	/* for good */
	uint64_t busy;		/* retryable refusals, sent again */
	uint64_t resent;	/* updates sent twice (resend_pm) */
	struct bench_resent {	/* which: updates [i, i + n) of the carrier */
		uint64_t i;
		unsigned n;
	} *resent_at;
	size_t nresent_at, resent_cap;	/* the caller frees resent_at */
	unsigned hello_retries;
	double *lat_ms;		/* one sample per batch ... */
	unsigned *lat_w;	/* ... weighted by its updates */
	size_t nlat;
	_Atomic int failed;
	char error[160];	/* written before failed is set */
	pthread_t thread;
	const struct bench_push_opts *o;
	pthread_barrier_t *barrier;
	double rate;
};

struct bench_push_result {
	uint64_t updates, acked, skipped, rejected, busy, resent, hello_retries;
	double seconds, updates_per_s, ack_p50_ms, ack_p99_ms;
	int failed;
};

/* Runs one session per carrier until each has its n updates acknowledged
 * (or failed), with the progress line on stderr. The window is shared out
 * in proportion to n. 0 when every carrier finished. */
int bench_push_run(const struct bench_push_opts *o, struct bench_push_carrier *c, unsigned nc,
    struct bench_push_result *r);

#endif
