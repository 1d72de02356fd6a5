/*
 * The carrier port as the service sees it: it creates the port with the
 * pieces from below that the port needs, hands it accepted sockets and the
 * writers' completions, and stops, reconfigures and frees it through these
 * functions. The port's state (its connections, flow control, the shared
 * large-frame budget, the decode arena, the rejections on their way to the
 * catalog) is its own (ingest_internal.h); nothing above writes it.
 * Loop thread only.
 */
#ifndef CORRIDOR_INGEST_H
#define CORRIDOR_INGEST_H

#include <stdbool.h>
#include <stddef.h>

#include <event2/util.h>

struct admission;
struct auth_checker;
struct carrier_table;
struct config;
struct counters;
struct event_base;
struct ingest;
struct sockaddr;
struct ssl_ctx_st;
struct store_catalog;
struct update_rec;
struct workq;
struct writer_pool;

/* What the port uses from below; each must outlive it. */
struct ingest_env {
	struct event_base *base;
	struct config *const *cfg;	/* the owner's current snapshot, swapped by a reload */
	struct counters *counters;
	struct admission *admission;
	const struct auth_checker *checker;
	struct carrier_table *carriers;	/* the carriers' live state: the port moves marks */
	struct writer_pool *writers;
	struct store_catalog *catalog;	/* used on the checkpoint thread only */
	struct workq *checkpoints;	/* the checkpoint thread */
	struct ssl_ctx_st *tls;		/* NULL: plain TCP */
	/* other daemons write the same store (store_shared): a carrier's mark
	 * is read again from it at each Hello (marks_refresh) */
	bool shared_store;
};

/* NULL when out of memory. */
struct ingest *ingest_new(const struct ingest_env *env);
/* Frees every connection at once, without a word to the peers (the daemon
 * is exiting: the writers and the checkpoint thread have stopped), then the
 * port. */
void ingest_free(struct ingest *ing);

/* A carrier connection was accepted (ingest_conn.c). */
void ingest_accept(struct ingest *ing, evutil_socket_t fd, const struct sockaddr *sa,
    int salen);
/* Writers finished these updates: acknowledge, reject, resume readers
 * (ingest_batch.c). */
void ingest_on_stored(struct ingest *ing, struct update_rec *list);

/* Graceful stop, first step: every session takes in what was already read
 * and stops reading; one still in its handshake is closed. */
void ingest_drain(struct ingest *ing);
/* Last step, once everything read is committed and acknowledged: the last
 * Ack and an Error frame (SHUTTING_DOWN) to every session, which closes. */
void ingest_goodbye(struct ingest *ing);
/* No carrier connection is left. */
bool ingest_idle(const struct ingest *ing);

/* After a reload swapped the configuration in: the decode limit follows it
 * and the sessions whose credential (or carrier) it no longer has are
 * closed; returns how many. */
size_t ingest_reconfigured(struct ingest *ing);

#endif
