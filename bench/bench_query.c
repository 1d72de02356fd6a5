/*
 * bench_query: operators' requests against corridord over its query port.
 * Latency mode (the default) runs each request of a templates file
 * (bench/queries.tsv) many times, one at a time on one connection, and
 * prints p50/p99/max per template. Loop mode (--loop) keeps C connections
 * querying back to back until --duration ends or SIGTERM/SIGINT comes, for
 * the mixed benchmark, and prints the rate and latencies.
 * usage: bench_query --port P (--data DIR | --from T --to T) [--queries FILE]
 *                    [--iterations N] [--max-seconds S] [--only NAME,...]
 *                    [--loop [--connections C] [--duration S] [--pause-ms MS]
 *                     [--ready-file PATH]] [--host H]
 */
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench_conn.h"
#include "bench_qset.h"
#include "bench_samples.h"

#define LOOP_CONNECTIONS_MAX 16

struct opts {
	struct bench_endpoint ep;
	const char *queries, *data, *from, *to, *only, *ready_file;
	unsigned iterations, connections, pause_ms;
	double max_seconds, duration;
	int loop;
};

static atomic_int stop_now;

static void
on_signal(int sig)
{
	(void)sig;
	atomic_store(&stop_now, 1);
}

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Runs one request and records its latency; -1 when the connection broke. */
static int
timed(struct bench_qconn *q, const struct qreq *r, struct samples *s, const char *name)
{
	struct bench_answer a;
	char err[256];
	double t0 = now_ms(), t;

	if (bench_query_run(q, r->line, 0, &a, err, sizeof err) == -1) {
		fprintf(stderr, "bench_query: %s: %s: %s\n", name, r->line, err);
		return -1;
	}
	t = now_ms() - t0;
	if (!a.ok) {
		if (s->errors++ == 0)
			fprintf(stderr, "bench_query: %s: %s -> ERR %s\n", name, r->line, a.err);
		return 0;
	}
	samples_add(s, t, a.nrows);
	return 0;
}

static void
print_samples(const char *kind, const char *name, const char *text, struct samples *s)
{
	samples_sort(s);
	printf("%s: name=%s samples=%zu errors=%zu rows_mean=%.1f mean_ms=%.3f p50_ms=%.3f "
	    "p99_ms=%.3f max_ms=%.3f request=\"%s\"\n", kind, name, s->n, s->errors,
	    s->n ? (double)s->rows / (double)s->n : 0, samples_mean(s), samples_pct(s, 50),
	    samples_pct(s, 99), samples_pct(s, 100), text);
}

static int
latency_mode(const struct opts *o, struct qset *qs)
{
	struct bench_qconn q;
	char err[256];
	int rc = 0;

	if (bench_qconn_open(&q, &o->ep, err, sizeof err) == -1) {
		fprintf(stderr, "bench_query: %s\n", err);
		return 1;
	}
	for (size_t t = 0; t < qs->ntmpl && rc == 0; t++) {
		struct qtmpl *tm = &qs->tmpl[t];
		struct samples s = { 0 };
		double start;

		if (!tm->selected || tm->nreq == 0)
			continue;
		/* once through first: opens the leg files in the query threads */
		for (size_t i = 0; i < tm->nreq && rc == 0; i++) {
			struct samples warm = { 0 };

			rc = timed(&q, &qs->req[tm->first + i], &warm, tm->name);
			samples_free(&warm);
		}
		start = now_ms();
		for (unsigned it = 0; it < o->iterations && rc == 0; it++) {
			for (size_t i = 0; i < tm->nreq && rc == 0; i++)
				rc = timed(&q, &qs->req[tm->first + i], &s, tm->name);
			if (now_ms() - start > o->max_seconds * 1000) {
				fprintf(stderr, "bench_query: %s: stopped after %u of %u rounds "
				    "(--max-seconds %.0f)\n", tm->name, it + 1, o->iterations,
				    o->max_seconds);
				break;
			}
		}
		print_samples("query", tm->name, tm->text, &s);
		fflush(stdout);
		if (s.errors > 0)
			rc = 1;
		samples_free(&s);
	}
	bench_qconn_close(&q);
	return rc != 0;
}

struct looper {
	const struct opts *o;
	const struct qset *qs;
	const size_t *pick;	/* requests of the selected templates */
	size_t npick;
	unsigned k;
	struct samples s;
	int failed;
	pthread_t thread;
	pthread_barrier_t *ready;
};

static void *
loop_run(void *arg)
{
	struct looper *l = arg;
	struct bench_qconn q;
	char err[256];
	size_t i = l->k * 7;	/* connections start at different requests */
	int open = bench_qconn_open(&q, &l->o->ep, err, sizeof err);

	if (open == -1) {
		fprintf(stderr, "bench_query: connection %u: %s\n", l->k, err);
		l->failed = 1;
	}
	pthread_barrier_wait(l->ready);
	while (open == 0 && !atomic_load(&stop_now)) {
		const struct qreq *r = &l->qs->req[l->pick[i++ % l->npick]];

		if (timed(&q, r, &l->s, l->qs->tmpl[r->tmpl].name) == -1) {
			l->failed = 1;
			break;
		}
		if (l->o->pause_ms > 0)
			usleep(l->o->pause_ms * 1000);
	}
	if (open == 0)
		bench_qconn_close(&q);
	return NULL;
}

static int
loop_mode(const struct opts *o, struct qset *qs)
{
	struct looper ls[LOOP_CONNECTIONS_MAX];
	pthread_barrier_t ready;
	struct samples all = { 0 };
	size_t *pick, npick = 0;
	double t0, secs;
	int failed = 0;

	if ((pick = calloc(qs->nreq ? qs->nreq : 1, sizeof *pick)) == NULL)
		return 1;
	for (size_t r = 0; r < qs->nreq; r++)
		if (qs->tmpl[qs->req[r].tmpl].selected)
			pick[npick++] = r;
	if (npick == 0) {
		fprintf(stderr, "bench_query: no request to loop over\n");
		free(pick);
		return 1;
	}
	memset(ls, 0, sizeof ls);
	pthread_barrier_init(&ready, NULL, o->connections + 1);
	for (unsigned k = 0; k < o->connections; k++) {
		ls[k] = (struct looper){ o, qs, pick, npick, k, { 0 }, 0, 0, &ready };
		if (pthread_create(&ls[k].thread, NULL, loop_run, &ls[k]) != 0) {
			fprintf(stderr, "bench_query: cannot start a thread\n");
			exit(1);
		}
	}
	pthread_barrier_wait(&ready);
	t0 = now_ms();
	if (o->ready_file != NULL) {
		FILE *f = fopen(o->ready_file, "w");

		if (f != NULL)
			fclose(f);
	}
	while (!atomic_load(&stop_now) && (o->duration <= 0 || now_ms() - t0 < o->duration * 1000))
		usleep(20000);
	atomic_store(&stop_now, 1);
	for (unsigned k = 0; k < o->connections; k++) {
		pthread_join(ls[k].thread, NULL);
		failed |= ls[k].failed;
		samples_merge(&all, &ls[k].s);
		samples_free(&ls[k].s);
	}
	secs = (now_ms() - t0) / 1000;
	samples_sort(&all);
	printf("queryloop: connections=%u pause_ms=%u queries=%zu errors=%zu seconds=%.2f "
	    "queries_per_s=%.1f mean_ms=%.3f p50_ms=%.3f p99_ms=%.3f max_ms=%.3f\n",
	    o->connections, o->pause_ms, all.n, all.errors, secs,
	    secs > 0 ? (double)all.n / secs : 0, samples_mean(&all), samples_pct(&all, 50),
	    samples_pct(&all, 99), samples_pct(&all, 100));
	failed |= all.errors > 0;
	samples_free(&all);
	pthread_barrier_destroy(&ready);
	free(pick);
	return failed;
}

static void
usage(void)
{
	fprintf(stderr, "usage: bench_query --port P (--data DIR | --from T --to T) "
	    "[--queries FILE (bench/queries.tsv)] [--iterations N (20)] [--max-seconds S (60)] "
	    "[--only NAME,...] [--loop [--connections C (1)] [--duration S] [--pause-ms MS] "
	    "[--ready-file PATH]] [--host H]\n");
}

static int
parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "host", required_argument, NULL, 'H' }, { "port", required_argument, NULL, 'p' },
		{ "queries", required_argument, NULL, 'q' }, { "data", required_argument, NULL, 'd' },
		{ "from", required_argument, NULL, 'f' }, { "to", required_argument, NULL, 't' },
		{ "iterations", required_argument, NULL, 'i' },
		{ "max-seconds", required_argument, NULL, 'm' },
		{ "only", required_argument, NULL, 'o' }, { "loop", no_argument, NULL, 'l' },
		{ "connections", required_argument, NULL, 'c' },
		{ "duration", required_argument, NULL, 'D' },
		{ "pause-ms", required_argument, NULL, 'P' },
		{ "ready-file", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	while ((opt = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (opt) {
		case 'H': o->ep.host = optarg; break;
		case 'p': o->ep.query_port = optarg; break;
		case 'q': o->queries = optarg; break;
		case 'd': o->data = optarg; break;
		case 'f': o->from = optarg; break;
		case 't': o->to = optarg; break;
		case 'i': o->iterations = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'm': o->max_seconds = strtod(optarg, NULL); break;
		case 'o': o->only = optarg; break;
		case 'l': o->loop = 1; break;
		case 'c': o->connections = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'D': o->duration = strtod(optarg, NULL); break;
		case 'P': o->pause_ms = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'r': o->ready_file = optarg; break;
		default:
			usage();
			return -1;
		}
	}
	if (optind != argc || (o->data == NULL && (o->from == NULL || o->to == NULL)) ||
	    o->iterations == 0 || o->connections == 0 ||
	    o->connections > LOOP_CONNECTIONS_MAX) {
		usage();
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct opts o = { .queries = "bench/queries.tsv", .iterations = 20, .connections = 1,
	    .max_seconds = 60 };
	struct sigaction sa;
	struct qset qs;
	char err[512];
	int rc;

	bench_endpoint_init(&o.ep);
	if (parse_opts(argc, argv, &o) == -1)
		return 2;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	if (qset_load(&qs, o.queries, o.only, err, sizeof err) == -1 ||
	    (o.data != NULL && qset_window_from_data(&qs, o.data, err, sizeof err) == -1) ||
	    (o.data == NULL && qset_window(&qs, o.from, o.to, err, sizeof err) == -1) ||
	    qset_expand(&qs, &o.ep, err, sizeof err) == -1) {
		fprintf(stderr, "bench_query: %s\n", err);
		qset_free(&qs);
		return 1;
	}
	rc = o.loop ? loop_mode(&o, &qs) : latency_mode(&o, &qs);
	qset_free(&qs);
	return rc;
}
