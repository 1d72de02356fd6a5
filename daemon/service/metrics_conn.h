/*
 * The metrics listener's connections under the daemon's connection limits:
 * each is admitted (admission_admit: max_connections, max_connections_per_ip,
 * and its own share max_metrics_connections) as soon as evhttp has accepted
 * it, before a byte is read, and counted until its bufferevent is freed. A
 * request must be complete within handshake_timeout_s of the accept or of
 * the last answer (a deadline, not extended by bytes trickling in).
 *
 * libevent 2.1's evhttp neither refuses at accept nor reports a connection
 * before its first request, so the daemon makes each connection's
 * bufferevent (evhttp_set_bevcb) and admits it right after evhttp's accept
 * callback, setting the connection's close callback. Loop thread only.
 */
#ifndef CORRIDOR_METRICS_CONN_H
#define CORRIDOR_METRICS_CONN_H

#include <stddef.h>
#include <sys/queue.h>

struct server;
struct evhttp;
struct evhttp_request;
struct event;
struct metrics_conn;

struct metrics_conns {
	struct server *srv;
	TAILQ_HEAD(, metrics_conn) unchecked;	/* accepted, admission pending */
	TAILQ_HEAD(, metrics_conn) admitted;
	size_t nadmitted;			/* of max_metrics_connections */
	struct event *admit_ev;			/* runs the admissions after accept */
};

/* Hooks the connections of http into the limits; -1 when out of memory. */
int metrics_conns_init(struct metrics_conns *mc, struct server *srv, struct evhttp *http);
/* A request was answered on req's connection: the deadline starts again. */
void metrics_conns_served(struct metrics_conns *mc, struct evhttp_request *req);
/* After evhttp_free() (which frees every connection). */
void metrics_conns_free(struct metrics_conns *mc);

#endif
