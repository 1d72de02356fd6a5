/*
 * The writers: threads that each own a store writer handle for some legs and store what
 * the loop queues for those legs, group-committing whatever is queued (up to
 * writer_batch_updates) in one transaction per leg. Completed updates come
 * back to the loop in a list; nothing is acknowledged before that.
 */
#ifndef CORRIDOR_WRITER_H
#define CORRIDOR_WRITER_H

#include <stddef.h>
#include <stdint.h>

#include "legs.h"
#include "limit_table.h"
#include "update_rec.h"

struct event_base;
struct store;
struct writer_pool;

typedef void (*writer_done_fn)(struct update_rec *completed, void *arg);

/* Upper bounds (seconds) of the commit latency histogram's buckets. */
#define WRITER_COMMIT_BUCKETS 13
extern const double writer_commit_bounds[WRITER_COMMIT_BUCKETS];

struct writer_stats {
	uint64_t batches;	/* transactions committed or failed */
	uint64_t stored;
	uint64_t duplicates;
	uint64_t failed;
	/* transactions by time taken: [i] in (bounds[i-1], bounds[i]], the last
	 * one above every bound; they add up to batches */
	uint64_t commit_buckets[WRITER_COMMIT_BUCKETS + 1];
	double commit_seconds;	/* the sum of those times */
};

/* Opens a writer handle of st per thread, gives each its legs (leg i to
 * writer i % writers) and starts the threads. NULL with err filled if a
 * leg cannot be opened. */
struct writer_pool *writer_pool_start(struct event_base *base, struct store *st,
    const struct leg_table *legs, const struct limits *lim, writer_done_fn done, void *arg,
    char *err, size_t errlen);

/* A leg added by a reload, prepared off the loop (store_leg_prepare()),
 * takes the next leg index; its writer thread takes it before any of its
 * updates. Loop thread; -1 when LEGS_MAX are open. */
int writer_pool_add_leg(struct writer_pool *p, const struct leg *leg);

/* Stages r for its leg's writer (loop thread). Nothing reaches the writers
 * until writer_pool_flush(), so a batch costs one lock per writer. The
 * caller bounds the backlog (max_queued_updates). */
void writer_pool_stage(struct writer_pool *p, struct update_rec *r);
void writer_pool_flush(struct writer_pool *p);

/* Updates staged, queued or being stored, over all writers (loop thread). */
size_t writer_pool_backlog(struct writer_pool *p);
/* Asks every writer for a retention pass over its legs (leg_retention.c)
 * with this cutoff; it runs between batches of updates. */
void writer_pool_retain(struct writer_pool *p, int64_t cutoff_ms);
void writer_pool_stats(struct writer_pool *p, struct writer_stats *out);

/* Stores what is queued, joins the threads, delivers the last completions
 * and closes the files. */
void writer_pool_stop(struct writer_pool *p);

#endif
