/*
 * The query port's share of the daemon: what its connections and AUTH
 * checks need (wired by the service before the first accept) and the list
 * of operator connections. Loop thread only, except thread_nice and store,
 * which are set before the query threads start and only read (each query
 * thread opens its own reader handle on the store).
 */
#ifndef CORRIDOR_QUERY_SERVICE_H
#define CORRIDOR_QUERY_SERVICE_H

#include <stdbool.h>
#include <sys/queue.h>

#include "config.h"

struct admission;
struct auth_checker;
struct counters;
struct event_base;
struct query_auth;
struct query_conn;
struct store;
struct ssl_ctx_st;
struct workq;

struct query_service {
	struct event_base *base;
	struct config *const *cfg;	/* the owner's current snapshot */
	struct counters *counters;
	struct admission *admission;
	const struct auth_checker *checker;
	struct ssl_ctx_st *tls;		/* NULL: plain TCP */
	struct workq *queries;		/* the query threads */
	int thread_nice;		/* for the query threads as they start */
	struct store *store;
	bool stopping;			/* set by query_service_stop() */
	TAILQ_HEAD(, query_conn) conns;	/* every operator connection */
	LIST_HEAD(, query_auth) auths;	/* their AUTH state (query_auth.c); zeroed: empty */
};

static inline struct config *
query_cfg(const struct query_service *qs)
{
	return *qs->cfg;
}

/* Graceful stop: connections waiting for a line close; the others after
 * their answer. */
void query_service_stop(struct query_service *qs);
/* No operator connection is left. */
bool query_service_idle(const struct query_service *qs);
/* Frees every connection at once (the daemon is exiting). */
void query_service_discard_all(struct query_service *qs);
/* After a reload: the line limit of every connection follows the new one. */
void query_service_reconfigured(struct query_service *qs);

#endif
