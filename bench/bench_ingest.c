/*
 * The ingest load generator: K carrier threads, each one session to corridord
 * over loopback, pushing its share of N synthetic updates (bench_rows.c) in
 * pipelined batches within a window, optionally at a fixed total rate.
 * Counts only acknowledged updates and measures each batch's ack latency
 * (send to the Ack that covers it); the pushing is bench_push.c's.
 * usage: bench_ingest --port P [--carriers K] [--updates N] [--batch B]
 *                     [--window W] [--rate R] [--host H] [--first-carrier F]
 * --first-carrier: this instance's carriers are F..F+K-1, so two instances
 * (one per daemon on a shared store) push disjoint carriers.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "timeutil.h"

#include "bench_push.h"
#include "bench_rows.h"

struct synthetic {
	struct leg_table legs;
	int64_t base_ms;
	unsigned first;		/* --first-carrier */
};

/* Update i of carrier k as bench_rows.c makes it. */
static size_t
pack_synthetic(void *src, unsigned k, uint64_t i, uint64_t seq, uint8_t *dst, size_t cap)
{
	const struct synthetic *s = src;
	struct bench_update b;

	bench_make_update(&b, &s->legs, s->first + k, i, seq - i, s->base_ms);
	if (corridor__shipment_update__get_packed_size(&b.u) > cap)
		return 0;
	return corridor__shipment_update__pack(&b.u, dst);
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "host", required_argument, NULL, 'H' }, { "port", required_argument, NULL, 'p' },
		{ "carriers", required_argument, NULL, 'k' },
		{ "updates", required_argument, NULL, 'n' },
		{ "batch", required_argument, NULL, 'b' }, { "window", required_argument, NULL, 'w' },
		{ "rate", required_argument, NULL, 'r' },
		{ "first-carrier", required_argument, NULL, 'f' }, { NULL, 0, NULL, 0 },
	};
	struct bench_endpoint ep;
	/* 16 x 3000 in flight stays under corridord's default max_queued_updates */
	unsigned carriers = 16, window = 3000, first = 0;
	uint64_t updates = 2000000;
	struct bench_push_opts o = { &ep, 500, 0, 0, "bench_ingest", 0, pack_synthetic, NULL };
	struct bench_push_result r;
	struct bench_push_carrier *c;
	static struct synthetic syn;
	char err[128];
	int opt, rc;

	bench_endpoint_init(&ep);
	while ((opt = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (opt) {
		case 'H': ep.host = optarg; break;
		case 'p': ep.carrier_port = optarg; break;
		case 'k': carriers = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'n': updates = strtoull(optarg, NULL, 10); break;
		case 'b': o.batch = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'w': window = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'r': o.rate = strtod(optarg, NULL); break;
		case 'f': first = (unsigned)strtoul(optarg, NULL, 10); break;
		default:
			fprintf(stderr, "usage: bench_ingest --port P [--carriers K] [--updates N] "
			    "[--batch B] [--window W] [--rate R] [--host H] [--first-carrier F]\n");
			return 2;
		}
	}
	if (carriers == 0 || o.batch == 0 || window < o.batch) {
		fprintf(stderr, "bench_ingest: need carriers > 0 and window >= batch > 0\n");
		return 2;
	}
	if (legs_load_default(&syn.legs, err, sizeof err) == -1) {
		fprintf(stderr, "bench_ingest: %s\n", err);
		return 1;
	}
	syn.base_ms = time_now_ms() - 40LL * 86400 * 1000;
	syn.first = first;
	o.src = &syn;
	/* --window is per carrier; bench_push shares out a total */
	o.window = window * carriers;
	if ((c = calloc(carriers, sizeof *c)) == NULL) {
		fprintf(stderr, "bench_ingest: out of memory\n");
		return 1;
	}
	for (unsigned k = 0; k < carriers; k++) {
		bench_carrier_code(first + k, c[k].code, sizeof c[k].code);
		c[k].n = updates / carriers + (k < updates % carriers);
	}
	rc = bench_push_run(&o, c, carriers, &r);
	printf("ingest: carriers=%u updates=%llu acked=%llu rejected=%llu busy=%llu seconds=%.2f "
	    "updates_per_s=%.0f ack_p50_ms=%.2f ack_p99_ms=%.2f hello_retries=%llu\n", carriers,
	    (unsigned long long)updates, (unsigned long long)r.acked,
	    (unsigned long long)r.rejected, (unsigned long long)r.busy, r.seconds,
	    r.updates_per_s, r.ack_p50_ms, r.ack_p99_ms, (unsigned long long)r.hello_retries);
	free(c);
	return rc == 0 ? 0 : 1;
}
