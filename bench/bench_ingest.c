/*
 * The ingest load generator: K carrier threads, each one session to corridord
 * over loopback, pushing its share of N updates in pipelined batches within a
 * window, optionally at a fixed total rate. Counts only acknowledged updates
 * and measures each batch's ack latency (send to the Ack that covers it).
 * usage: bench_ingest --port P [--carriers K] [--updates N] [--batch B]
 *                     [--window W] [--rate R]
 * The carriers' secret (one for all) comes from $CORRIDOR_CREDENTIAL.
 */
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "frame.h"
#include "timeutil.h"
#include "wire.h"

#include "bench_rows.h"

struct opts {
	const char *host, *port;
	unsigned carriers;
	uint64_t updates;
	unsigned batch, window;
	double rate;		/* updates/s over all carriers; 0 = as fast as possible */
};

#define HELLO_ATTEMPTS 3

struct pending {
	uint64_t last_seq;
	int64_t sent_us;
	unsigned n;
};

struct loader {
	const struct opts *o;
	pthread_barrier_t *barrier;
	const struct leg_table *legs;
	unsigned k;
	pthread_t thread;
	uint64_t n;		/* updates this carrier sends */
	_Atomic uint64_t acked;
	uint64_t rejected;	/* for good */
	uint64_t busy;		/* retryable: sent again */
	unsigned hello_retries;
	double *lat_ms;		/* one sample per batch */
	unsigned *lat_w;	/* its weight: updates in the batch */
	size_t nlat;
	int failed;
	char error[128];
};

static int64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int
write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Reads one whole ServerMessage (blocking). NULL on error or EOF. */
static Corridor__ServerMessage *
read_message(int fd, uint8_t *buf, size_t cap)
{
	size_t got = 0;
	uint32_t len = 0;

	while (frame_parse_header(buf, got, (uint32_t)(cap - FRAME_HEADER_BYTES), &len) ==
	    FRAME_NEED_MORE) {
		ssize_t r = read(fd, buf + got, got < FRAME_HEADER_BYTES ?
		    FRAME_HEADER_BYTES - got : FRAME_HEADER_BYTES + len - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return NULL;
		got += (size_t)r;
	}
	if (got != FRAME_HEADER_BYTES + len)
		return NULL;
	return corridor__server_message__unpack(NULL, len, buf + FRAME_HEADER_BYTES);
}

static int
connect_to(const char *host, const char *port)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *ai;
	int fd, one = 1;

	if (getaddrinfo(host, port, &hints, &ai) != 0)
		return -1;
	fd = socket(ai->ai_family, SOCK_STREAM, 0);
	if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) == -1) {
		close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	if (fd >= 0)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	return fd;
}

/* Every bench carrier's secret: $CORRIDOR_CREDENTIAL (bench/run.sh makes one
 * credential for all of them). */
static const char *bench_credential;

static uint64_t
hello(struct loader *l, int fd, uint8_t *buf, size_t cap)
{
	Corridor__CarrierMessage m = CORRIDOR__CARRIER_MESSAGE__INIT;
	Corridor__Hello h = CORRIDOR__HELLO__INIT;
	Corridor__ServerMessage *s;
	char code[16];
	uint64_t acked;

	bench_carrier_code(l->k, code, sizeof code);
	h.has_protocol_version = 1;
	h.protocol_version = WIRE_PROTOCOL_VERSION;
	h.carrier = code;
	h.credential = (char *)(uintptr_t)bench_credential;
	h.client_name = (char *)"bench_ingest";
	m.body_case = CORRIDOR__CARRIER_MESSAGE__BODY_HELLO;
	m.hello = &h;
	if (write_all(fd, buf, wire_pack_into(&m.base, buf)) == -1 ||
	    (s = read_message(fd, buf, cap)) == NULL)
		return UINT64_MAX;
	if (s->body_case != CORRIDOR__SERVER_MESSAGE__BODY_WELCOME) {
		snprintf(l->error, sizeof l->error, "no welcome for %s: %s", code,
		    s->body_case == CORRIDOR__SERVER_MESSAGE__BODY_ERROR && s->error->message ?
		    s->error->message : "?");
		corridor__server_message__free_unpacked(s, NULL);
		return UINT64_MAX;
	}
	acked = s->welcome->acked_seq;
	corridor__server_message__free_unpacked(s, NULL);
	return acked;
}

static void *
loader_run(void *arg)
{
	struct loader *l = arg;
	const struct opts *o = l->o;
	size_t cap = 4u << 20, nbatches = (size_t)(l->n / o->batch + 2), head = 0, tail = 0;
	uint8_t *out = malloc(cap), *in = malloc(cap);
	struct bench_update *bu = calloc(o->batch, sizeof *bu);
	Corridor__ShipmentUpdate **ptrs = calloc(o->batch, sizeof *ptrs);
	struct pending *ring = calloc(nbatches, sizeof *ring);
	int64_t base = time_now_ms() - 40LL * 86400 * 1000, start;
	uint64_t first, sent = 0, acked = 0;
	uint64_t *resend = calloc(o->window + o->batch, sizeof *resend);
	size_t nresend = 0;
	int64_t resend_after = 0;
	double per_us = o->rate > 0 ? o->rate / o->carriers / 1e6 : 0;
	int fd = -1;

	l->lat_ms = calloc(nbatches, sizeof *l->lat_ms);
	l->lat_w = calloc(nbatches, sizeof *l->lat_w);
	first = UINT64_MAX;
	/* like a carrier: a session that fails before its Welcome is tried again */
	for (int attempt = 0; attempt < HELLO_ATTEMPTS && first == UINT64_MAX && out != NULL;
	    attempt++) {
		if (attempt > 0) {
			fprintf(stderr, "bench_ingest: carrier %u: hello again after: %s\n", l->k,
			    l->error);
			l->error[0] = '\0';
			l->hello_retries++;
		}
		if (fd >= 0)
			close(fd);
		if ((fd = connect_to(o->host, o->port)) >= 0)
			first = hello(l, fd, out, cap);
	}
	if (fd < 0 || !out || !in || !bu || !ptrs || !ring || !l->lat_ms || !l->lat_w || !resend ||
	    first == UINT64_MAX) {
		if (l->error[0] == '\0')
			snprintf(l->error, sizeof l->error, "cannot connect or say hello");
		l->failed = 1;
		pthread_barrier_wait(l->barrier);
		goto done;
	}
	pthread_barrier_wait(l->barrier);
	first++;
	start = now_us();
	while (acked < l->n) {
		struct pollfd pfd = { fd, POLLIN, 0 };
		int timeout = -1;

		/* updates refused as BUSY go again, after a short pause */
		if (nresend > 0 && now_us() >= resend_after) {
			Corridor__CarrierMessage m = CORRIDOR__CARRIER_MESSAGE__INIT;
			Corridor__Batch b = CORRIDOR__BATCH__INIT;
			unsigned n = (unsigned)(nresend < o->batch ? nresend : o->batch);

			/* lowest seqs first: they are what holds the mark back */
			for (unsigned i = 0; i < n; i++) {
				bench_make_update(&bu[i], l->legs, l->k, resend[i] - first, first, base);
				ptrs[i] = &bu[i].u;
			}
			memmove(resend, resend + n, (nresend - n) * sizeof *resend);
			nresend -= n;
			b.n_updates = n;
			b.updates = ptrs;
			m.body_case = CORRIDOR__CARRIER_MESSAGE__BODY_BATCH;
			m.batch = &b;
			if (write_all(fd, out, wire_pack_into(&m.base, out)) == -1) {
				snprintf(l->error, sizeof l->error, "write failed");
				l->failed = 1;
				goto done;
			}
			resend_after = now_us() + 20000;
		}
		if (nresend > 0) {
			int64_t wait_ms = (resend_after - now_us()) / 1000 + 1;

			timeout = wait_ms > 0 ? (int)wait_ms : 0;
		}
		while (sent < l->n && sent - acked + o->batch <= o->window) {
			Corridor__CarrierMessage m = CORRIDOR__CARRIER_MESSAGE__INIT;
			Corridor__Batch b = CORRIDOR__BATCH__INIT;
			unsigned n = (unsigned)(l->n - sent < o->batch ? l->n - sent : o->batch);
			int64_t due = per_us > 0 ? start + (int64_t)((double)sent / per_us) : 0;

			if (due > now_us()) {
				timeout = (int)((due - now_us()) / 1000) + 1;
				break;
			}
			for (unsigned i = 0; i < n; i++) {
				bench_make_update(&bu[i], l->legs, l->k, sent + i, first, base);
				ptrs[i] = &bu[i].u;
			}
			b.n_updates = n;
			b.updates = ptrs;
			m.body_case = CORRIDOR__CARRIER_MESSAGE__BODY_BATCH;
			m.batch = &b;
			ring[head].sent_us = now_us();
			if (write_all(fd, out, wire_pack_into(&m.base, out)) == -1) {
				snprintf(l->error, sizeof l->error, "write failed");
				l->failed = 1;
				goto done;
			}
			sent += n;
			ring[head].last_seq = first + sent - 1;
			ring[head].n = n;
			head++;
		}
		if (poll(&pfd, 1, timeout) <= 0 || !(pfd.revents & (POLLIN | POLLHUP)))
			continue;
		{
			Corridor__ServerMessage *s = read_message(fd, in, cap);
			int64_t t = now_us();

			if (s == NULL) {
				snprintf(l->error, sizeof l->error, "connection lost");
				l->failed = 1;
				goto done;
			}
			if (s->body_case == CORRIDOR__SERVER_MESSAGE__BODY_ACK) {
				acked = s->ack->acked_seq - first + 1;
				atomic_store(&l->acked, acked);
				while (tail < head && ring[tail].last_seq <= s->ack->acked_seq) {
					l->lat_ms[l->nlat] = (t - ring[tail].sent_us) / 1000.0;
					l->lat_w[l->nlat++] = ring[tail].n;
					tail++;
				}
			} else if (s->body_case == CORRIDOR__SERVER_MESSAGE__BODY_REJECTION) {
				if (s->rejection->retryable && nresend < o->window + o->batch) {
					if (nresend == 0)
						resend_after = t + 20000;
					resend[nresend++] = s->rejection->seq;
					l->busy++;
				} else
					l->rejected++;
			}
			else if (s->body_case == CORRIDOR__SERVER_MESSAGE__BODY_ERROR) {
				snprintf(l->error, sizeof l->error, "error: %s",
				    s->error->message ? s->error->message : "?");
				l->failed = 1;
			}
			corridor__server_message__free_unpacked(s, NULL);
			if (l->failed)
				goto done;
		}
	}
done:
	if (fd >= 0)
		close(fd);
	free(out);
	free(in);
	free(bu);
	free(ptrs);
	free(ring);
	free(resend);
	return NULL;
}

struct sample {
	double ms;
	unsigned w;
};

static int
sample_cmp(const void *a, const void *b)
{
	double x = ((const struct sample *)a)->ms, y = ((const struct sample *)b)->ms;

	return (x > y) - (x < y);
}

/* Update-weighted percentile of the batches' ack latencies. */
static double
weighted_pct(struct sample *s, size_t n, uint64_t total, double pct)
{
	uint64_t want = (uint64_t)(pct / 100.0 * (double)total), seen = 0;

	for (size_t i = 0; i < n; i++) {
		seen += s[i].w;
		if (seen >= want)
			return s[i].ms;
	}
	return n ? s[n - 1].ms : 0;
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "host", required_argument, NULL, 'H' }, { "port", required_argument, NULL, 'p' },
		{ "carriers", required_argument, NULL, 'k' },
		{ "updates", required_argument, NULL, 'n' },
		{ "batch", required_argument, NULL, 'b' }, { "window", required_argument, NULL, 'w' },
		{ "rate", required_argument, NULL, 'r' }, { NULL, 0, NULL, 0 },
	};
	/* 16 x 3000 in flight stays under corridord's default max_queued_updates */
	struct opts o = { "127.0.0.1", "7470", 16, 2000000, 500, 3000, 0 };
	/* every session says hello before any pushes, so a slow start of one
	 * thread never races the others' flood */
	static pthread_barrier_t all_welcomed;
	struct leg_table legs = { .count = 0 };
	struct loader *ls;
	struct sample *samples;
	size_t ns = 0;
	uint64_t acked = 0, rejected = 0, busy = 0, weight = 0, hello_retries = 0;
	int64_t t0, t1, last_report = 0;
	int opt, failed = 0;
	char err[128];

	bench_credential = getenv("CORRIDOR_CREDENTIAL");
	while ((opt = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (opt) {
		case 'H': o.host = optarg; break;
		case 'p': o.port = optarg; break;
		case 'k': o.carriers = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'n': o.updates = strtoull(optarg, NULL, 10); break;
		case 'b': o.batch = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'w': o.window = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'r': o.rate = strtod(optarg, NULL); break;
		default:
			fprintf(stderr, "usage: bench_ingest --port P [--carriers K] [--updates N] "
			    "[--batch B] [--window W] [--rate R]\n");
			return 2;
		}
	}
	if (o.carriers == 0 || o.batch == 0 || o.window < o.batch) {
		fprintf(stderr, "bench_ingest: need carriers > 0 and window >= batch > 0\n");
		return 2;
	}
	legs_load_default(&legs, err, sizeof err);
	pthread_barrier_init(&all_welcomed, NULL, o.carriers);
	ls = calloc(o.carriers, sizeof *ls);
	t0 = time_mono_ms();
	for (unsigned k = 0; k < o.carriers; k++) {
		ls[k].o = &o;
		ls[k].barrier = &all_welcomed;
		ls[k].legs = &legs;
		ls[k].k = k;
		ls[k].n = o.updates / o.carriers + (k < o.updates % o.carriers);
		pthread_create(&ls[k].thread, NULL, loader_run, &ls[k]);
	}
	for (;;) {
		uint64_t done = 0;
		int running = 0;

		for (unsigned k = 0; k < o.carriers; k++) {
			done += atomic_load(&ls[k].acked);
			running += atomic_load(&ls[k].acked) < ls[k].n && !ls[k].failed;
		}
		if (!running)
			break;
		if (time_mono_ms() - last_report >= 1000) {
			fprintf(stderr, "%sbench_ingest: %llu / %llu acknowledged%s",
			    isatty(2) ? "\r" : "", (unsigned long long)done,
			    (unsigned long long)o.updates, isatty(2) ? "" : "\n");
			last_report = time_mono_ms();
		}
		usleep(50000);
	}
	for (unsigned k = 0; k < o.carriers; k++)
		pthread_join(ls[k].thread, NULL);
	t1 = time_mono_ms();
	if (isatty(2))
		fprintf(stderr, "\n");
	for (unsigned k = 0; k < o.carriers; k++)
		ns += ls[k].nlat;
	samples = calloc(ns ? ns : 1, sizeof *samples);
	ns = 0;
	for (unsigned k = 0; k < o.carriers; k++) {
		acked += atomic_load(&ls[k].acked);
		rejected += ls[k].rejected;
		busy += ls[k].busy;
		hello_retries += ls[k].hello_retries;
		if (ls[k].failed) {
			fprintf(stderr, "bench_ingest: carrier %u: %s\n", k, ls[k].error);
			failed = 1;
		}
		for (size_t i = 0; i < ls[k].nlat; i++) {
			samples[ns].ms = ls[k].lat_ms[i];
			samples[ns++].w = ls[k].lat_w[i];
			weight += ls[k].lat_w[i];
		}
		free(ls[k].lat_ms);
		free(ls[k].lat_w);
	}
	qsort(samples, ns, sizeof *samples, sample_cmp);
	printf("ingest: carriers=%u updates=%llu acked=%llu rejected=%llu busy=%llu seconds=%.2f "
	    "updates_per_s=%.0f ack_p50_ms=%.2f ack_p99_ms=%.2f hello_retries=%llu\n", o.carriers,
	    (unsigned long long)o.updates, (unsigned long long)acked,
	    (unsigned long long)rejected, (unsigned long long)busy, (t1 - t0) / 1000.0,
	    acked * 1000.0 / (double)(t1 - t0 > 0 ? t1 - t0 : 1),
	    weighted_pct(samples, ns, weight, 50), weighted_pct(samples, ns, weight, 99),
	    (unsigned long long)hello_retries);
	free(samples);
	free(ls);
	return failed;
}
