/*
 * A small pool of threads that run jobs off the event loop and hand them back
 * to it: run() on a worker thread with that thread's context (e.g. its own
 * read-only SQLite handles), then done() on the loop thread. Used for the
 * operators' queries and for the catalog's checkpoints.
 */
#ifndef CORRIDOR_WORKQ_H
#define CORRIDOR_WORKQ_H

#include <stddef.h>

struct event_base;

struct workq_job {
	struct workq_job *next;
	void (*run)(struct workq_job *job, void *thread_ctx);
	void (*done)(struct workq_job *job);
};

struct workq_ops {
	void *(*thread_init)(void *arg);	/* may be NULL */
	void (*thread_fini)(void *ctx);		/* may be NULL */
	void *arg;
};

struct workq;

struct workq *workq_start(struct event_base *base, const char *name, int nthreads,
    const struct workq_ops *ops);
void workq_submit(struct workq *q, struct workq_job *job);
/* Jobs submitted and not yet handed back. */
size_t workq_pending(const struct workq *q);
/* Finishes the queued jobs, joins the threads and runs the outstanding done()s. */
void workq_stop(struct workq *q);

#endif
