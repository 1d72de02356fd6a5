/*
 * Writer threads and their queues; see writer.h. Each writer thread owns
 * one store writer handle (store_writer.h), opened on the loop before the
 * thread starts and used by that thread only; nothing here knows the
 * backend.
 */
#include "writer.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "log.h"
#include "store.h"

/* A leg a reload added, on its way from the loop to its writer. */
struct writer_add {
	size_t index;
	struct leg leg;
};

/*
 * Ownership: fields marked "under mu" are shared by the loop and the writer
 * thread and touched only with mu held; "writer thread" fields are the
 * thread's alone once it runs (set by the loop before pthread_create);
 * "loop thread" fields are the loop's alone.
 */
struct writer {
	struct writer_pool *pool;	/* set before the thread starts */
	int index;			/* set before the thread starts */
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct update_rec *head, **tail;
	size_t waiting;		/* under mu: updates on the list */
	bool stopping;		/* under mu */
	int64_t retain_cutoff;	/* under mu: a retention pass asked for, 0: none */
	/* under mu: legs a reload added, for the thread to take before any
	 * update queued after them */
	struct writer_add *adds;	/* room for LEGS_MAX */
	size_t nadds;
	/* writer thread: its store handle and the legs it has taken */
	struct store_writer *sw;
	size_t nlegs;			/* highest leg index taken + 1 */
	char (*codes)[LEG_CODE_MAX];	/* by leg index, for the log */
	/* writer thread only: the retention pass under way */
	int64_t retaining;	/* its cutoff, 0: none */
	size_t retain_leg;	/* the leg it is at */
	size_t retain_units;	/* dropped from that leg so far */
	int64_t retain_events;
	/* loop thread only */
	struct update_rec *staged, **staged_tail;
	size_t nstaged;
	size_t backlog;		/* staged, waiting or being stored */
	/* writer thread only */
	struct update_rec **scratch;	/* the batch being stored, by leg */
	size_t *leg_start;		/* LEGS_MAX + 1 counters for sorting it */
};

/* The pool's fields are set by the loop before the threads start and only
 * read by them after, except where marked. */
struct writer_pool {
	struct writer *writers;
	int nwriters;
	size_t nlegs;			/* loop thread only: legs given out */
	int64_t cache_mib;		/* leg_cache_mib, for legs a reload adds */
	size_t batch_max;
	unsigned commit_delay_ms;
	size_t retain_batch;	/* units dropped per retention transaction */

	pthread_mutex_t done_mu;
	struct update_rec *done_head, **done_tail;	/* under done_mu */
	struct writer_stats stats;	/* under done_mu */
	struct event *done_ev;
	writer_done_fn done;
	void *done_arg;
};

const double writer_commit_bounds[WRITER_COMMIT_BUCKETS] = {
	0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
};

static double
writer_clock(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
writer_deliver(evutil_socket_t fd, short what, void *arg)
{
	struct writer_pool *p = arg;
	struct update_rec *list;

	(void)fd;
	(void)what;
	pthread_mutex_lock(&p->done_mu);
	list = p->done_head;
	p->done_head = NULL;
	p->done_tail = &p->done_head;
	pthread_mutex_unlock(&p->done_mu);
	for (struct update_rec *r = list; r != NULL; r = r->next)
		p->writers[(size_t)r->leg_index % (size_t)p->nwriters].backlog--;
	if (list != NULL)
		p->done(list, p->done_arg);
}

/* Hands one leg's stored updates (scratch[i..j)) back to the loop at once,
 * so their acks need not wait for the writer's other legs; secs is the time
 * their transaction took. */
static void
writer_complete(struct writer_pool *p, struct update_rec **recs, size_t n, double secs)
{
	struct writer_stats st = { .batches = 1 };
	size_t b = 0;

	while (b < WRITER_COMMIT_BUCKETS && secs > writer_commit_bounds[b])
		b++;

	for (size_t k = 0; k < n; k++) {
		st.stored += recs[k]->result == REC_STORED;
		st.duplicates += recs[k]->result == REC_DUPLICATE;
		st.failed += recs[k]->result == REC_FAILED;
		recs[k]->next = k + 1 < n ? recs[k + 1] : NULL;
	}
	pthread_mutex_lock(&p->done_mu);
	*p->done_tail = recs[0];
	p->done_tail = &recs[n - 1]->next;
	p->stats.batches += st.batches;
	p->stats.stored += st.stored;
	p->stats.duplicates += st.duplicates;
	p->stats.failed += st.failed;
	p->stats.commit_buckets[b]++;
	p->stats.commit_seconds += secs;
	pthread_mutex_unlock(&p->done_mu);
	event_active(p->done_ev, EV_READ, 0);
}

/* Stores one taken batch: one transaction per leg it touches. */
static void
writer_store(struct writer *w, struct update_rec *list)
{
	struct writer_pool *p = w->pool;
	size_t n, nlegs = 0;

	/* A stable counting sort by leg keeps each carrier's arrival order. The
	 * batch's own highest leg bounds it. */
	for (struct update_rec *r = list; r != NULL; r = r->next)
		if ((size_t)r->leg_index + 1 > nlegs)
			nlegs = (size_t)r->leg_index + 1;
	memset(w->leg_start, 0, (nlegs + 1) * sizeof *w->leg_start);
	for (struct update_rec *r = list; r != NULL; r = r->next)
		w->leg_start[r->leg_index + 1]++;
	for (size_t l = 0; l < nlegs; l++)
		w->leg_start[l + 1] += w->leg_start[l];
	n = w->leg_start[nlegs];
	for (struct update_rec *r = list; r != NULL; r = r->next)
		w->scratch[w->leg_start[r->leg_index]++] = r;
	if (p->commit_delay_ms > 0)
		usleep(p->commit_delay_ms * 1000u);	/* rehearsing a slow disk */
	for (size_t i = 0, j; i < n; i = j) {
		double start;

		for (j = i; j < n && w->scratch[j]->leg_index == w->scratch[i]->leg_index; j++)
			;
		start = writer_clock();
		/* a failure sets REC_FAILED on the updates, which the loop logs */
		(void)store_writer_append(w->sw, (size_t)w->scratch[i]->leg_index, &w->scratch[i],
		    j - i, NULL);
		writer_complete(p, &w->scratch[i], j - i, writer_clock() - start);
	}
}

/* One retention transaction on the leg the pass is at; moves on to this
 * writer's next leg when the leg has nothing more to drop. */
static void
writer_retain_step(struct writer *w)
{
	struct writer_pool *p = w->pool;
	size_t units;
	int64_t events;
	bool more;
	int rc;

	while (w->retain_leg < w->nlegs && w->retain_leg % (size_t)p->nwriters != (size_t)w->index)
		w->retain_leg++;
	if (w->retain_leg >= w->nlegs) {
		w->retaining = 0;
		return;
	}
	rc = store_writer_retain_step(w->sw, w->retain_leg, w->retaining, p->retain_batch, &units,
	    &events, &more, NULL);
	w->retain_units += units;
	w->retain_events += events;
	if (rc == 0 && more)
		return;		/* more to look at: after the updates waiting, if any */
	if (w->retain_units > 0)
		log_info("retention leg=%s units=%zu events=%lld",
		    w->codes[w->retain_leg], w->retain_units,
		    (long long)w->retain_events);
	w->retain_units = 0;
	w->retain_events = 0;
	w->retain_leg++;
}

/* Writer thread: the store handle takes leg index (on this thread, which
 * owns it). A leg it cannot take fails its updates (store_writer_append). */
static void
writer_take_leg(struct writer *w, size_t index, const struct leg *leg, int64_t cache_mib)
{
	struct store_error err;

	if (store_writer_add_leg(w->sw, index, leg, cache_mib, &err) == -1)
		log_warnx("writer %d cannot take leg=%s: %s", w->index, leg->code, err.message);
	snprintf(w->codes[index], sizeof w->codes[index], "%s", leg->code);
	if (index + 1 > w->nlegs)
		w->nlegs = index + 1;
}

static void *
writer_thread(void *arg)
{
	struct writer *w = arg;
	struct writer_pool *p = w->pool;

	for (;;) {
		struct update_rec *list, *last;
		size_t n = 1;

		pthread_mutex_lock(&w->mu);
		while (w->head == NULL && !w->stopping && w->retain_cutoff == 0 && w->retaining == 0 &&
		    w->nadds == 0)
			pthread_cond_wait(&w->cv, &w->mu);
		if (w->nadds > 0) {
			/* A leg is added under mu before any of its updates is
			 * queued, so taking the adds first orders them before
			 * those updates. One at a time, off the lock: opening
			 * is slow and the loop flushes under it. */
			struct writer_add add = w->adds[0];

			memmove(&w->adds[0], &w->adds[1], --w->nadds * sizeof w->adds[0]);
			pthread_mutex_unlock(&w->mu);
			writer_take_leg(w, add.index, &add.leg, p->cache_mib);
			continue;
		}
		if (w->head == NULL && !w->stopping && (w->retain_cutoff != 0 || w->retaining != 0)) {
			/* updates first; a retention pass runs in the gaps */
			if (w->retaining == 0) {
				w->retaining = w->retain_cutoff;
				w->retain_leg = 0;
			}
			w->retain_cutoff = 0;
			pthread_mutex_unlock(&w->mu);
			writer_retain_step(w);
			continue;
		}
		if (w->head == NULL) {
			pthread_mutex_unlock(&w->mu);
			break;
		}
		/* Group commit: take whatever is queued, up to the batch bound. */
		list = w->head;
		if (w->waiting <= p->batch_max) {
			n = w->waiting;
			w->head = NULL;
			w->tail = &w->head;
		} else {
			for (last = list; n < p->batch_max; n++)
				last = last->next;
			w->head = last->next;
			last->next = NULL;
		}
		w->waiting -= n;
		pthread_mutex_unlock(&w->mu);

		writer_store(w, list);
	}
	return NULL;
}

struct writer_pool *
writer_pool_start(struct event_base *base, struct store *st, const struct leg_table *legs,
    const struct limits *lim, writer_done_fn done, void *arg, char *err, size_t errlen)
{
	struct writer_pool *p = calloc(1, sizeof *p);
	struct store_error serr;

	if (p == NULL)
		fatalx("writer pool: out of memory");
	p->nlegs = legs->count;
	p->cache_mib = lim->leg_cache_mib;
	p->batch_max = (size_t)lim->writer_batch_updates;
	p->commit_delay_ms = (unsigned)lim->writer_commit_delay_ms;
	p->retain_batch = (size_t)lim->retention_batch_units;
	p->done = done;
	p->done_arg = arg;
	p->done_tail = &p->done_head;
	pthread_mutex_init(&p->done_mu, NULL);
	p->nwriters = (int)lim->writers;
	p->writers = calloc((size_t)p->nwriters, sizeof *p->writers);
	if (p->writers == NULL)
		fatalx("writer pool: out of memory");
	/* Every handle opens its legs here, on the loop, before its thread
	 * starts (pthread_create orders these writes before the thread). */
	for (int i = 0; i < p->nwriters; i++) {
		struct writer *w = &p->writers[i];

		w->index = i;
		w->codes = calloc(LEGS_MAX, sizeof *w->codes);
		if (w->codes == NULL)
			fatalx("writer pool: out of memory");
		if ((w->sw = store_writer_open(st, &serr)) == NULL)
			goto fail;
		for (size_t l = (size_t)i; l < legs->count; l += (size_t)p->nwriters) {
			if (store_writer_add_leg(w->sw, l, &legs->legs[l], p->cache_mib, &serr) == -1)
				goto fail;
			snprintf(w->codes[l], sizeof w->codes[l], "%s", legs->legs[l].code);
			w->nlegs = l + 1;
		}
	}
	p->done_ev = event_new(base, -1, 0, writer_deliver, p);
	if (p->done_ev == NULL)
		fatalx("writer pool: out of memory");
	for (int i = 0; i < p->nwriters; i++) {
		struct writer *w = &p->writers[i];

		w->pool = p;
		w->tail = &w->head;
		w->staged_tail = &w->staged;
		w->scratch = calloc(p->batch_max, sizeof *w->scratch);
		w->leg_start = calloc(LEGS_MAX + 1, sizeof *w->leg_start);
		w->adds = calloc(LEGS_MAX, sizeof *w->adds);
		if (w->scratch == NULL || w->leg_start == NULL || w->adds == NULL)
			fatalx("writer pool: out of memory");
		pthread_mutex_init(&w->mu, NULL);
		pthread_cond_init(&w->cv, NULL);
		if (pthread_create(&w->thread, NULL, writer_thread, w) != 0)
			fatalx("writer pool: cannot start writer %d", i);
	}
	return p;

fail:
	snprintf(err, errlen, "%s", serr.message);
	for (int i = 0; i < p->nwriters; i++) {
		store_writer_close(p->writers[i].sw);
		free(p->writers[i].codes);
	}
	pthread_mutex_destroy(&p->done_mu);
	free(p->writers);
	free(p);
	return NULL;
}

int
writer_pool_add_leg(struct writer_pool *p, const struct leg *leg)
{
	struct writer *w;

	if (p->nlegs == LEGS_MAX)
		return -1;
	w = &p->writers[p->nlegs % (size_t)p->nwriters];
	/* Handed over under the queue lock: the writer takes it before any
	 * update of the leg, which can only be queued after this. */
	pthread_mutex_lock(&w->mu);
	w->adds[w->nadds].index = p->nlegs;
	w->adds[w->nadds].leg = *leg;
	w->nadds++;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	p->nlegs++;
	return 0;
}

void
writer_pool_stage(struct writer_pool *p, struct update_rec *r)
{
	struct writer *w = &p->writers[(size_t)r->leg_index % (size_t)p->nwriters];

	r->next = NULL;
	*w->staged_tail = r;
	w->staged_tail = &r->next;
	w->nstaged++;
	w->backlog++;
}

void
writer_pool_flush(struct writer_pool *p)
{
	for (int i = 0; i < p->nwriters; i++) {
		struct writer *w = &p->writers[i];

		if (w->staged == NULL)
			continue;
		/* one lock and one wake-up per writer per batch, not per update */
		pthread_mutex_lock(&w->mu);
		*w->tail = w->staged;
		w->tail = w->staged_tail;
		w->waiting += w->nstaged;
		pthread_cond_signal(&w->cv);
		pthread_mutex_unlock(&w->mu);
		w->staged = NULL;
		w->staged_tail = &w->staged;
		w->nstaged = 0;
	}
}

void
writer_pool_retain(struct writer_pool *p, int64_t cutoff_ms)
{
	for (int i = 0; i < p->nwriters; i++) {
		pthread_mutex_lock(&p->writers[i].mu);
		p->writers[i].retain_cutoff = cutoff_ms;
		pthread_cond_signal(&p->writers[i].cv);
		pthread_mutex_unlock(&p->writers[i].mu);
	}
}

size_t
writer_pool_backlog(struct writer_pool *p)
{
	size_t total = 0;

	for (int i = 0; i < p->nwriters; i++)
		total += p->writers[i].backlog;
	return total;
}

void
writer_pool_stats(struct writer_pool *p, struct writer_stats *out)
{
	pthread_mutex_lock(&p->done_mu);
	*out = p->stats;
	pthread_mutex_unlock(&p->done_mu);
}

void
writer_pool_stop(struct writer_pool *p)
{
	if (p == NULL)
		return;
	writer_pool_flush(p);
	for (int i = 0; i < p->nwriters; i++) {
		pthread_mutex_lock(&p->writers[i].mu);
		p->writers[i].stopping = true;
		pthread_cond_signal(&p->writers[i].cv);
		pthread_mutex_unlock(&p->writers[i].mu);
	}
	for (int i = 0; i < p->nwriters; i++) {
		pthread_join(p->writers[i].thread, NULL);
		store_writer_close(p->writers[i].sw);
		free(p->writers[i].scratch);
		free(p->writers[i].leg_start);
		free(p->writers[i].adds);
		free(p->writers[i].codes);
		pthread_mutex_destroy(&p->writers[i].mu);
		pthread_cond_destroy(&p->writers[i].cv);
	}
	writer_deliver(-1, 0, p);
	event_free(p->done_ev);
	pthread_mutex_destroy(&p->done_mu);
	free(p->writers);
	free(p);
}
