/* Pushing updates into corridord as carriers do; see bench_push.h. */
#include "bench_push.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"
#include "frame.h"
#include "timeutil.h"

#define HELLO_ATTEMPTS 3
#define RESEND_PAUSE_US 20000
/* room for one packed update: identifiers are at most a few hundred bytes
 * and a remark 512, so 4 KiB is far more than any the sources make */
#define UPDATE_MAX_BYTES 4096
#define IN_BUF_BYTES (256u << 10)
/* what stands before a Batch's updates: frame header, tag and length */
#define BATCH_HEAD_BYTES (FRAME_HEADER_BYTES + 1 + 5)

struct pending {
	uint64_t last_seq;
	int64_t sent_us;
	unsigned n;
};

static int64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static size_t
put_varint(uint8_t *p, uint64_t v)
{
	size_t n = 0;

	while (v >= 0x80) {
		p[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (uint8_t)v;
	return n;
}

/* A CarrierMessage{batch} frame of updates first..first+n-1 (indices), or
 * of the seqs in list[] when list is not NULL. Returns the frame's length
 * (0 when an update cannot be packed). The updates are packed behind the
 * room for the head, which is then written right before them. */
static size_t
build_batch(struct bench_push_carrier *c, uint64_t first_seq, uint64_t first, unsigned n,
    const uint64_t *list, uint8_t *out, size_t cap, uint8_t *tmp)
{
	const struct bench_push_opts *o = c->o;
	uint8_t *p = out + BATCH_HEAD_BYTES, head[BATCH_HEAD_BYTES];
	size_t body, hl;

	for (unsigned j = 0; j < n; j++) {
		uint64_t seq = list ? list[j] : first_seq + first + j;
		size_t len = o->pack(o->src, c->k, seq - first_seq, seq, tmp, UPDATE_MAX_BYTES);

		if (len == 0 || (size_t)(p - out) + len + 6 > cap)
			return 0;
		*p++ = 0x0a;		/* Batch.updates, field 1, length-delimited */
		p += put_varint(p, len);
		memcpy(p, tmp, len);
		p += len;
	}
	body = (size_t)(p - out) - BATCH_HEAD_BYTES;
	hl = 0;
	head[hl++] = 0x12;		/* CarrierMessage.batch, field 2 */
	hl += put_varint(head + hl, body);
	frame_write_header(out + BATCH_HEAD_BYTES - hl - FRAME_HEADER_BYTES,
	    (uint32_t)(hl + body));
	memcpy(out + BATCH_HEAD_BYTES - hl, head, hl);
	/* the frame starts where its header went: move it to the front */
	memmove(out, out + BATCH_HEAD_BYTES - hl - FRAME_HEADER_BYTES,
	    FRAME_HEADER_BYTES + hl + body);
	return FRAME_HEADER_BYTES + hl + body;
}

/* Whether the batch starting at seq goes twice: the same for every run. */
static int
resend_batch(const struct bench_push_carrier *c, uint64_t seq)
{
	uint64_t h = seq * 0x9e3779b97f4a7c15ULL;

	for (const char *p = c->code; *p != '\0'; p++)
		h = (h ^ (uint8_t)*p) * 0x100000001b3ULL;
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 32;
	return h % 1000 < c->o->resend_pm;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/* Connects and says hello, again after a failure as a carrier would.
 * Returns the socket and sets *acked, or -1. */
static int
open_session(struct bench_push_carrier *c, uint8_t *buf, size_t cap, uint64_t *acked)
{
	const struct bench_push_opts *o = c->o;
	int fd = -1;

	*acked = BENCH_HELLO_FAILED;
	for (int attempt = 0; attempt < HELLO_ATTEMPTS && *acked == BENCH_HELLO_FAILED;
	    attempt++) {
		if (attempt > 0) {
			fprintf(stderr, "%s: carrier %u: hello again after: %s\n", o->label, c->k,
			    c->error);
			c->error[0] = '\0';
			c->hello_retries++;
		}
		if (fd >= 0)
			close(fd);
		if ((fd = bench_connect(o->ep->host, o->ep->carrier_port)) >= 0)
			*acked = bench_hello(o->ep, fd, c->code, o->label, buf, cap, c->error,
			    sizeof c->error);
		else
			snprintf(c->error, sizeof c->error, "cannot connect to %s:%s", o->ep->host,
			    o->ep->carrier_port);
	}
	if (*acked == BENCH_HELLO_FAILED && fd >= 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

static void *
carrier_run(void *arg)
{
	struct bench_push_carrier *c = arg;
	const struct bench_push_opts *o = c->o;
	size_t cap = BATCH_HEAD_BYTES + (size_t)o->batch * (UPDATE_MAX_BYTES + 6);
	size_t nbatches = (size_t)(c->n / o->batch + 2), head = 0, tail = 0, nresend = 0;
	uint8_t *out = malloc(cap), *in = malloc(IN_BUF_BYTES), *tmp = malloc(UPDATE_MAX_BYTES);
	struct pending *ring = calloc(nbatches, sizeof *ring);
	uint64_t *resend = calloc((size_t)c->window + o->batch, sizeof *resend);
	uint64_t first, mark, sent = 0, acked = 0;
	int64_t resend_after = 0, start;
	double per_us = c->rate / 1e6;
	int fd = -1;

	c->lat_ms = calloc(nbatches, sizeof *c->lat_ms);
	c->lat_w = calloc(nbatches, sizeof *c->lat_w);
	if (!out || !in || !tmp || !ring || !resend || !c->lat_ms || !c->lat_w)
		snprintf(c->error, sizeof c->error, "out of memory");
	else
		fd = open_session(c, out, cap, &mark);
	if (fd >= 0) {
		first = c->first_seq ? c->first_seq : mark + 1;
		if (mark + 1 < first) {
			snprintf(c->error, sizeof c->error, "the daemon's mark for %s is %llu, these "
			    "updates start at seq %llu: push the ones before first", c->code,
			    (unsigned long long)mark, (unsigned long long)first);
			close(fd);
			fd = -1;
		} else {
			/* a resumed push: what the mark covers is done already */
			c->skipped = mark + 1 - first < c->n ? mark + 1 - first : c->n;
			sent = acked = c->skipped;
			atomic_store(&c->done, acked);
		}
	}
	if (fd < 0) {
		if (c->error[0] == '\0')
			snprintf(c->error, sizeof c->error, "cannot connect or say hello");
		c->failed = 1;
		pthread_barrier_wait(c->barrier);
		goto done;
	}
	/* every session says hello before any pushes, so a slow start of one
	 * thread never races the others' flood */
	pthread_barrier_wait(c->barrier);
	start = now_us();
	while (acked < c->n) {
		struct pollfd pfd = { fd, POLLIN, 0 };
		int timeout = -1;

		/* updates refused as BUSY go again after a short pause, lowest
		 * seqs first: they are what holds the mark back */
		if (nresend > 0 && now_us() >= resend_after) {
			unsigned n = (unsigned)(nresend < o->batch ? nresend : o->batch);
			size_t len;

			qsort(resend, nresend, sizeof *resend, cmp_u64);
			len = build_batch(c, first, 0, n, resend, out, cap, tmp);
			if (len == 0 || bench_write_all(fd, out, len) == -1) {
				snprintf(c->error, sizeof c->error, len ? "write failed" :
				    "cannot pack an update");
				c->failed = 1;
				goto done;
			}
			memmove(resend, resend + n, (nresend - n) * sizeof *resend);
			nresend -= n;
			resend_after = now_us() + RESEND_PAUSE_US;
		}
		if (nresend > 0) {
			int64_t wait_ms = (resend_after - now_us()) / 1000 + 1;

			timeout = wait_ms > 0 ? (int)wait_ms : 0;
		}
		while (sent < c->n && sent - acked + o->batch <= c->window) {
			unsigned n = (unsigned)(c->n - sent < o->batch ? c->n - sent : o->batch);
			int64_t due = per_us > 0 ? start + (int64_t)((double)(sent - c->skipped) /
			    per_us) : 0;
			size_t len;

			if (due > now_us()) {
				timeout = (int)((due - now_us()) / 1000) + 1;
				break;
			}
			len = build_batch(c, first, sent, n, NULL, out, cap, tmp);
			ring[head].sent_us = now_us();
			if (len == 0 || bench_write_all(fd, out, len) == -1) {
				snprintf(c->error, sizeof c->error, len ? "write failed" :
				    "cannot pack an update");
				c->failed = 1;
				goto done;
			}
			if (resend_batch(c, first + sent)) {
				if (ctl_grow(&c->resent_at, &c->resent_cap, c->nresent_at,
				    sizeof *c->resent_at) == 0)
					c->resent_at[c->nresent_at++] = (struct bench_resent){ sent, n };
				if (bench_write_all(fd, out, len) == -1) {
					snprintf(c->error, sizeof c->error, "write failed");
					c->failed = 1;
					goto done;
				}
				c->resent += n;
			}
			sent += n;
			ring[head].last_seq = first + sent - 1;
			ring[head].n = n;
			head++;
		}
		if (poll(&pfd, 1, timeout) <= 0 || !(pfd.revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		{
			Corridor__ServerMessage *s = bench_read_message(fd, in, IN_BUF_BYTES);
			int64_t t = now_us();

			if (s == NULL) {
				snprintf(c->error, sizeof c->error, "connection lost");
				c->failed = 1;
				goto done;
			}
			if (s->body_case == CORRIDOR__SERVER_MESSAGE__BODY_ACK &&
			    s->ack->acked_seq + 1 > first + acked) {
				acked = s->ack->acked_seq + 1 - first;
				if (acked > c->n)
					acked = c->n;
				atomic_store(&c->done, acked);
				while (tail < head && ring[tail].last_seq <= s->ack->acked_seq) {
					c->lat_ms[c->nlat] = (double)(t - ring[tail].sent_us) / 1000.0;
					c->lat_w[c->nlat++] = ring[tail].n;
					tail++;
				}
			} else if (s->body_case == CORRIDOR__SERVER_MESSAGE__BODY_REJECTION) {
				if (s->rejection->retryable && nresend < (size_t)c->window + o->batch) {
					if (nresend == 0)
						resend_after = t + RESEND_PAUSE_US;
					resend[nresend++] = s->rejection->seq;
					c->busy++;
				} else
					c->rejected++;
			} else if (s->body_case == CORRIDOR__SERVER_MESSAGE__BODY_ERROR) {
				snprintf(c->error, sizeof c->error, "error: %s",
				    s->error->message ? s->error->message : "?");
				c->failed = 1;
			}
			corridor__server_message__free_unpacked(s, NULL);
			if (c->failed)
				goto done;
		}
	}
done:
	if (fd >= 0)
		close(fd);
	free(out);
	free(in);
	free(tmp);
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
weighted_pct(const struct sample *s, size_t n, uint64_t total, double pct)
{
	uint64_t want = (uint64_t)(pct / 100.0 * (double)total), seen = 0;

	for (size_t i = 0; i < n; i++) {
		seen += s[i].w;
		if (seen >= want)
			return s[i].ms;
	}
	return n ? s[n - 1].ms : 0;
}

static void
show_progress(const struct bench_push_opts *o, struct progress *pr, uint64_t done,
    uint64_t total, uint64_t *last_done, int64_t *last_ms, int64_t t0)
{
	int64_t now = time_mono_ms();
	double recent, avg;

	if (now - *last_ms < 1000)
		return;
	recent = (double)(done - *last_done) * 1000.0 / (double)(now - *last_ms);
	avg = (double)done * 1000.0 / (double)(now - t0 > 0 ? now - t0 : 1);
	progress_show(pr, 0, "%s: %llu / %llu acknowledged (%.1f%%), %.0f updates/s now, "
	    "%.0f on average", o->label, (unsigned long long)done, (unsigned long long)total,
	    total ? 100.0 * (double)done / (double)total : 100.0, recent, avg);
	*last_done = done;
	*last_ms = now;
}

static void
collect(struct bench_push_carrier *c, unsigned nc, struct bench_push_result *r)
{
	struct sample *samples;
	size_t ns = 0;
	uint64_t weight = 0;

	for (unsigned k = 0; k < nc; k++)
		ns += c[k].nlat;
	samples = calloc(ns ? ns : 1, sizeof *samples);
	ns = 0;
	for (unsigned k = 0; k < nc; k++) {
		r->updates += c[k].n;
		r->acked += atomic_load(&c[k].done) - c[k].skipped;
		r->skipped += c[k].skipped;
		r->rejected += c[k].rejected;
		r->busy += c[k].busy;
		r->resent += c[k].resent;
		r->hello_retries += c[k].hello_retries;
		if (c[k].failed) {
			fprintf(stderr, "%s: carrier %u: %s: %s\n", c[k].o->label, k, c[k].code,
			    c[k].error);
			r->failed = 1;
		}
		for (size_t i = 0; samples != NULL && i < c[k].nlat; i++) {
			samples[ns].ms = c[k].lat_ms[i];
			samples[ns++].w = c[k].lat_w[i];
			weight += c[k].lat_w[i];
		}
		free(c[k].lat_ms);
		free(c[k].lat_w);
		c[k].lat_ms = NULL;
		c[k].lat_w = NULL;
	}
	if (samples != NULL) {
		qsort(samples, ns, sizeof *samples, sample_cmp);
		r->ack_p50_ms = weighted_pct(samples, ns, weight, 50);
		r->ack_p99_ms = weighted_pct(samples, ns, weight, 99);
	}
	free(samples);
}

int
bench_push_run(const struct bench_push_opts *o, struct bench_push_carrier *c, unsigned nc,
    struct bench_push_result *r)
{
	pthread_barrier_t all_welcomed;
	struct progress pr;
	uint64_t total = 0, last_done = 0;
	int64_t t0, t1, last_ms;

	memset(r, 0, sizeof *r);
	for (unsigned k = 0; k < nc; k++)
		total += c[k].n;
	pthread_barrier_init(&all_welcomed, NULL, nc);
	progress_init(&pr);
	t0 = last_ms = time_mono_ms();
	for (unsigned k = 0; k < nc; k++) {
		double share = total ? (double)c[k].n / (double)total : 0;
		unsigned w = (unsigned)((double)o->window * share);

		c[k].o = o;
		c[k].k = k;
		c[k].barrier = &all_welcomed;
		c[k].window = w < o->batch ? o->batch : w;
		c[k].rate = o->rate * share;
		atomic_store(&c[k].done, 0);
		if (pthread_create(&c[k].thread, NULL, carrier_run, &c[k]) != 0) {
			/* the others would wait for it at the barrier forever */
			fprintf(stderr, "%s: cannot start a thread for carrier %s\n", o->label,
			    c[k].code);
			exit(1);
		}
	}
	for (;;) {
		uint64_t done = 0;
		int running = 0;

		for (unsigned k = 0; k < nc; k++) {
			uint64_t d = atomic_load(&c[k].done);

			done += d;
			running += d < c[k].n && !c[k].failed;
		}
		if (!running)
			break;
		show_progress(o, &pr, done, total, &last_done, &last_ms, t0);
		usleep(50000);
	}
	for (unsigned k = 0; k < nc; k++)
		pthread_join(c[k].thread, NULL);
	t1 = time_mono_ms();
	progress_done(&pr);
	pthread_barrier_destroy(&all_welcomed);
	collect(c, nc, r);
	r->seconds = (double)(t1 - t0) / 1000.0;
	r->updates_per_s = (double)r->acked * 1000.0 / (double)(t1 - t0 > 0 ? t1 - t0 : 1);
	return r->failed ? -1 : 0;
}
