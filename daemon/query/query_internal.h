/*
 * What the query command files share: the per-thread context, the answer
 * being built and the helpers that read leg files and parse arguments.
 * query_exec.c dispatches and holds the simple commands; query_args.c the
 * shared argument checks; query_stats.c the per-leg statistics from the
 * rollups; query_journeys.c journeys between nodes; query_events.c holds,
 * delays and data quality; query_units.c where units are (INTRANSIT,
 * SHIPMENT).
 */
#ifndef CORRIDOR_QUERY_INTERNAL_H
#define CORRIDOR_QUERY_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <event2/buffer.h>

#include "config.h"
#include "legs.h"
#include "qproto.h"
#include "store.h"

#define MS_PER_HOUR 3600000.0

/* A query thread's context: the configuration snapshot of the job it runs
 * and its own reader handle on the store (store_reader.h). */
struct query_ctx {
	const struct config *cfg;
	const struct leg_table *legs;
	const struct limits *lim;
	struct store *store;
	struct store_reader *reader;	/* this thread's, opened by the first query */
};

/* A response being built: rows are counted against max_query_rows. */
struct answer {
	struct evbuffer *out;
	struct evbuffer *rows;
	size_t nrows;
	size_t max_rows;
	int failed;		/* an ERR was written instead */
};

void answer_err(struct answer *a, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void answer_header(struct answer *a, const char *columns);
void answer_row(struct answer *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* After a store primitive returned rc: -1 (the store failed: logged, and
 * the answer says INTERNAL, naming what was read) or a callback's stop
 * (the answer already says why) gives -1; 0 goes on. */
int read_ok(const char *what, int rc, const struct store_error *err, struct answer *a);
int select_legs(struct query_ctx *ctx, struct qrequest *req, int i, size_t *first,
    size_t *last, struct answer *a);
/* Word i as a time (dflt when left out); name is the argument's name in the
 * error ("from", "to"). */
int parse_time_arg(struct qrequest *req, int i, const char *name, int64_t *out, int64_t dflt,
    struct answer *a);

/* The common tail of the statistics commands, [from] [to] [W|E] [carrier],
 * is a struct store_filter (store_reader.h). */
/* Times, window (BAD_ARGUMENT unless from < to) and direction; the last word
 * is taken as it is (JOURNEYS' target_days). */
int parse_filter(struct qrequest *req, int first_arg, struct store_filter *f, struct answer *a);
/* parse_filter(), and the carrier must be known (check_carrier). */
int parse_stats_filter(struct query_ctx *ctx, struct qrequest *req, int first_arg,
    struct store_filter *f, struct answer *a);
/* Rounds the window down to whole hours (the hourly rollups); BAD_ARGUMENT
 * when that leaves it empty. */
int window_to_hours(struct store_filter *f, struct answer *a);
/* 0 if code is a configured carrier or one the catalog knows, else -1 with
 * NOT_FOUND (or INTERNAL). */
int check_carrier(struct query_ctx *ctx, const char *code, struct answer *a);

/* Grows *arr (of elem bytes) to hold n + 1; -1 when out of memory. */
int grow_array(void **arr, size_t *cap, size_t n, size_t elem);

void cmd_stats(struct query_ctx *ctx, struct qrequest *req, int64_t now, struct answer *a);
void cmd_histogram(struct query_ctx *ctx, struct qrequest *req, int64_t now, struct answer *a);
void cmd_ontime(struct query_ctx *ctx, struct qrequest *req, int64_t now, struct answer *a);
void cmd_volumes(struct query_ctx *ctx, struct qrequest *req, int64_t now, struct answer *a);
void cmd_journeys(struct query_ctx *ctx, struct qrequest *req, int64_t now, struct answer *a);
void cmd_holds(struct query_ctx *ctx, struct qrequest *req, int64_t now, struct answer *a);
void cmd_delays(struct query_ctx *ctx, struct qrequest *req, int64_t now, struct answer *a);
void cmd_quality(struct query_ctx *ctx, struct qrequest *req, int64_t now, struct answer *a);
void cmd_intransit(struct query_ctx *ctx, struct qrequest *req, int64_t now, struct answer *a);
void cmd_shipment(struct query_ctx *ctx, struct qrequest *req, int64_t now, struct answer *a);

#endif
