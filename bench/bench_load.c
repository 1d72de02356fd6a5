/*
 * bench_load: pushes bench_gen's data set into corridord over its carrier
 * port, one session per carrier at once, as fast as the daemon acknowledges
 * (bench_push.c), with a progress line. --slice A:B pushes each carrier's
 * updates from fraction A to B of its file (its stream is in time order, so
 * a slice is about the same stretch of time for every carrier); slices are
 * pushed in order, and a slice already acknowledged is skipped. Checks that
 * exactly the updates bad on purpose were rejected.
 * Some batches go twice, as a carrier's do when its send times out before
 * the Ack (--resend-permille): the (carrier, seq) duplicates QUALITY counts.
 * usage: bench_load --data DIR --port P [--host H] [--slice A:B] [--batch B]
 *                   [--window W] [--rate R] [--label NAME] [--resend-permille P]
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_push.h"
#include "bench_updfile.h"

#define CARRIERS_MAX 64

struct dataset {
	unsigned n;
	char code[CARRIERS_MAX][16];
	struct updfile_map map[CARRIERS_MAX];
	uint64_t from[CARRIERS_MAX];	/* first record of the slice */
};

/* Update i of the slice is record from + i; its seq is in the bytes. */
static size_t
pack_record(void *src, unsigned k, uint64_t i, uint64_t seq, uint8_t *dst, size_t cap)
{
	const struct dataset *d = src;
	size_t len;
	const uint8_t *r;

	(void)seq;
	if (d->from[k] + i >= d->map[k].count)
		return 0;
	r = updfile_record(&d->map[k], d->from[k] + i, &len, NULL);
	if (len > cap)
		return 0;
	memcpy(dst, r, len);
	return len;
}

/* The carriers named in DIR/manifest, their files mapped. */
static int
open_dataset(struct dataset *d, const char *dir, char *err, size_t errlen)
{
	char path[4200], line[1024], *p, *save = NULL;
	FILE *f;
	int found = 0;

	snprintf(path, sizeof path, "%s/manifest", dir);
	if ((f = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "%s: no manifest (make the data set with bench_gen)", dir);
		return -1;
	}
	while (!found && fgets(line, sizeof line, f) != NULL)
		found = strncmp(line, "carriers=", 9) == 0;
	fclose(f);
	if (!found) {
		snprintf(err, errlen, "%.300s/manifest names no carriers", dir);
		return -1;
	}
	line[strcspn(line, "\n")] = '\0';
	for (p = strtok_r(line + 9, " ", &save); p != NULL; p = strtok_r(NULL, " ", &save)) {
		if (d->n == CARRIERS_MAX || strlen(p) >= sizeof d->code[0]) {
			snprintf(err, errlen, "%.300s/manifest: too many carriers or a code too long", dir);
			return -1;
		}
		snprintf(d->code[d->n], sizeof d->code[0], "%s", p);
		snprintf(path, sizeof path, "%s/%s.upd", dir, p);
		if (updfile_open(&d->map[d->n], path, err, errlen) == -1)
			return -1;
		d->n++;
	}
	return 0;
}

/* Updates bad on purpose among updates [i, i + n) of the slice of carrier k. */
static uint64_t
bad_in(const struct dataset *d, unsigned k, uint64_t i, uint64_t n)
{
	uint64_t bad = 0;

	for (uint64_t j = i; j < i + n && d->from[k] + j < d->map[k].count; j++) {
		uint8_t flags;
		size_t len;

		updfile_record(&d->map[k], d->from[k] + j, &len, &flags);
		bad += (flags & UPDFILE_BAD) != 0;
	}
	return bad;
}

static int
parse_slice(const char *s, double *a, double *b)
{
	char *end;

	*a = strtod(s, &end);
	if (*end != ':')
		return -1;
	*b = strtod(end + 1, &end);
	return *end != '\0' || *a < 0 || *b > 1 || *a >= *b ? -1 : 0;
}

static void
usage(void)
{
	fprintf(stderr, "usage: bench_load --data DIR --port P [--host H] [--slice A:B (0:1)] "
	    "[--batch B (500)] [--window W (42000, over all carriers)] [--rate R] "
	    "[--label NAME] [--resend-permille P (2)]\n");
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "data", required_argument, NULL, 'd' }, { "host", required_argument, NULL, 'H' },
		{ "port", required_argument, NULL, 'p' }, { "slice", required_argument, NULL, 's' },
		{ "batch", required_argument, NULL, 'b' }, { "window", required_argument, NULL, 'w' },
		{ "rate", required_argument, NULL, 'r' }, { "label", required_argument, NULL, 'l' },
		{ "resend-permille", required_argument, NULL, 'R' },
		{ NULL, 0, NULL, 0 },
	};
	static struct dataset d;
	struct bench_endpoint ep;
	/* 42,000 in flight stays under corridord's default max_queued_updates */
	struct bench_push_opts o = { &ep, 500, 42000, 0, "load", 2, pack_record, &d };
	struct bench_push_carrier c[CARRIERS_MAX];
	struct bench_push_result r;
	const char *dir = NULL;
	double a = 0, b = 1;
	uint64_t expected = 0, twice = 0;
	char err[512];
	int opt, rc;

	bench_endpoint_init(&ep);
	while ((opt = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (opt) {
		case 'd': dir = optarg; break;
		case 'H': ep.host = optarg; break;
		case 'p': ep.carrier_port = optarg; break;
		case 'b': o.batch = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'w': o.window = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'r': o.rate = strtod(optarg, NULL); break;
		case 'l': o.label = optarg; break;
		case 'R': o.resend_pm = (unsigned)strtoul(optarg, NULL, 10); break;
		case 's':
			if (parse_slice(optarg, &a, &b) == 0)
				break;
			fprintf(stderr, "bench_load: --slice wants A:B with 0 <= A < B <= 1\n");
			return 2;
		default:
			usage();
			return 2;
		}
	}
	if (dir == NULL || optind != argc || o.batch == 0 || o.batch > 1000 ||
	    o.window < o.batch) {
		usage();
		return 2;
	}
	if (open_dataset(&d, dir, err, sizeof err) == -1) {
		fprintf(stderr, "bench_load: %s\n", err);
		return 1;
	}
	memset(c, 0, sizeof c);
	for (unsigned k = 0; k < d.n; k++) {
		uint64_t n = d.map[k].count;

		d.from[k] = (uint64_t)((double)n * a);
		snprintf(c[k].code, sizeof c[k].code, "%s", d.code[k]);
		c[k].n = (b >= 1 ? n : (uint64_t)((double)n * b)) - d.from[k];
		c[k].first_seq = d.from[k] + 1;
	}
	rc = bench_push_run(&o, c, d.n, &r);
	for (unsigned k = 0; k < d.n; k++) {
		expected += bad_in(&d, k, c[k].skipped, c[k].n - c[k].skipped);
		/* a copy of a bad one is rejected again unless the mark has passed it */
		for (size_t j = 0; j < c[k].nresent_at; j++)
			twice += bad_in(&d, k, c[k].resent_at[j].i, c[k].resent_at[j].n);
		free(c[k].resent_at);
		updfile_unmap(&d.map[k]);
	}
	printf("%s: slice=%.3f:%.3f carriers=%u updates=%llu acked=%llu skipped=%llu rejected=%llu "
	    "expected_rejected=%llu resent_bad=%llu busy=%llu resent=%llu seconds=%.2f updates_per_s=%.0f ack_p50_ms=%.2f "
	    "ack_p99_ms=%.2f hello_retries=%llu\n", o.label, a, b, d.n,
	    (unsigned long long)r.updates, (unsigned long long)r.acked,
	    (unsigned long long)r.skipped, (unsigned long long)r.rejected,
	    (unsigned long long)expected, (unsigned long long)twice, (unsigned long long)r.busy,
	    (unsigned long long)r.resent, r.seconds, r.updates_per_s,
	    r.ack_p50_ms, r.ack_p99_ms, (unsigned long long)r.hello_retries);
	if (rc == 0 && (r.rejected < expected || r.rejected > expected + twice)) {
		fprintf(stderr, "bench_load: %llu updates rejected, %llu were bad on purpose "
		    "(and %llu more sent twice)\n", (unsigned long long)r.rejected,
		    (unsigned long long)expected, (unsigned long long)twice);
		rc = -1;
	}
	return rc == 0 ? 0 : 1;
}
