/*
 * An operator's connection on the query port: text lines in, one query at a
 * time handed to the query workers, answers written back in order.
 */
#ifndef CORRIDOR_QUERY_CONN_H
#define CORRIDOR_QUERY_CONN_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>

#include <event2/util.h>

#include "conn_limits.h"
#include "query_auth.h"

struct query_service;
struct query_job;

enum query_state {
	QUERY_READING,		/* waiting for a line */
	QUERY_RUNNING,		/* a query (or an AUTH) is being answered; input waits */
	QUERY_CLOSING,		/* flushing the last answer, then freed */
};

struct query_conn {
	TAILQ_ENTRY(query_conn) entry;
	uint64_t id;
	struct query_service *qs;
	struct bufferevent *bev;
	enum query_state state;
	struct query_job *job;	/* while QUERY_RUNNING */
	bool peer_eof;		/* the peer has shut down its side */
	char peer[64];
	struct conn_addr addr;	/* counted against max_connections_per_ip */
	/* the TLS handshake deadline (from accept), then the deadline of a
	 * query line being read (from its first byte) */
	struct event *deadline_ev;
	const char *close_reason;

	struct query_auth auth;	/* operator authentication (query_auth.c) */
};

void query_conn_accept(struct query_service *qs, evutil_socket_t fd, const struct sockaddr *sa,
    int salen);
/* Stops reading and frees the connection once its output is written. */
void query_conn_close(struct query_conn *q, const char *reason);
/* Frees at once (the daemon is exiting). */
void query_conn_discard(struct query_conn *q);

/* The query workers' thread hooks (see workq.h). */
void *query_worker_init(void *qs);
void query_worker_fini(void *ctx);

#endif
