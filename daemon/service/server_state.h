/*
 * The running daemon: one libevent loop that owns the listeners and every
 * connection, the writer pool that stores updates, the query workers, the
 * credential checkers and the catalog checkpoints. Everything in here is
 * touched by the loop thread only; worker threads get a reference to the
 * configuration snapshot they need (config.h).
 *
 * The state that server.c wires and reload.c and the metrics endpoint read
 * (reload.c also swaps the configuration in); server.c's own functions are
 * in server.h, so that these files need not include the header of the file
 * that calls them.
 */
#ifndef CORRIDOR_SERVER_STATE_H
#define CORRIDOR_SERVER_STATE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>

#include "admission.h"
#include "auth_check.h"
#include "auth_throttle.h"
#include "carrier.h"
#include "config.h"
#include "conn_limits.h"
#include "counters.h"
#include "corridor.pb-c.h"
#include "query_service.h"

struct event_base;
struct evconnlistener;
struct ingest;
struct query_conn;
struct metrics;
struct ip_table;
struct ssl_ctx_st;

/* Builds a configuration afresh the way the daemon was started (defaults,
 * the file, the command line); NULL with the problems in err. */
typedef struct config *(*server_config_loader)(char *err, size_t errlen);

struct server {
	struct event_base *base;
	struct config *cfg;		/* the current snapshot; the loop holds one reference */
	server_config_loader load_config;
	struct carrier_table carriers;	/* every carrier's live state, for the whole run */
	struct writer_pool *writers;
	struct workq *queries;
	struct workq *checkpoints;
	struct workq *auth;		/* checks credentials and tokens (slow hashes) */
	struct auth_throttle *throttle;
	struct auth_checker checker;	/* the credential checks' share of the above */
	struct store *store;		/* the storage backend (store.h) */
	struct store_catalog *catalog;	/* the checkpoint thread's once running */
	struct evconnlistener *carrier_listener, *query_listener;
	struct ssl_ctx_st *carrier_tls, *query_tls;	/* NULL: plain TCP on that port */
	struct event *accept_resume_ev;	/* re-enables accepting after a pause (both ports) */
	struct metrics *metrics;	/* the HTTP endpoint; NULL when disabled */
	struct event *sigterm_ev, *sigint_ev, *sighup_ev, *checkpoint_ev, *stop_ev;
	struct event *watchdog_ev;	/* systemd watchdog and status, when asked for */
	int64_t retention_wait_s;	/* checkpoint ticks until the next retention pass */
	uint64_t watchdog_seen_done;	/* updates settled at the last watchdog ping */
	uint64_t status_last_stored;

	struct ingest *ingest;		/* the carrier port and its state (ingest.h) */
	struct admission admission;	/* who may connect; connection ids (admission.h) */

	struct query_service query;	/* the query port (query_service.h) */
	bool stopping;
	bool reloading, reload_again;	/* a reload runs; another SIGHUP came meanwhile */
	int64_t stop_deadline_ms;
	struct counters counters;	/* the shared counters (counters.h) */
};

#endif
