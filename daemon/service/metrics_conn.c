/* The metrics listener's connections under the limits; see metrics_conn.h. */
#include "metrics_conn.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>

#include "admission.h"
#include "conn_limits.h"
#include "counters.h"
#include "log.h"
#include "net_util.h"
#include "server_state.h"

static const char metrics_refusal[] = "HTTP/1.1 503 Service Unavailable\r\n"
    "Content-Type: text/plain\r\nContent-Length: 21\r\nConnection: close\r\n\r\n"
    "Too many connections\n";

enum metrics_conn_state { MC_UNCHECKED, MC_ADMITTED };

struct metrics_conn {
	TAILQ_ENTRY(metrics_conn) entry;
	struct metrics_conns *owner;
	struct bufferevent *bev;	/* evhttp's; a reference held while unchecked */
	struct evhttp_connection *evcon;	/* once admitted */
	struct event *deadline_ev;
	enum metrics_conn_state state;
	struct conn_addr addr;		/* counted while MC_ADMITTED */
	uint64_t id;
	char peer[64];
};

static void
metrics_conn_free(struct metrics_conn *c)
{
	struct metrics_conns *mc = c->owner;

	if (c->state == MC_ADMITTED) {
		TAILQ_REMOVE(&mc->admitted, c, entry);
		mc->nadmitted--;
		admission_closed(&mc->srv->admission, &c->addr);
	} else
		TAILQ_REMOVE(&mc->unchecked, c, entry);
	event_free(c->deadline_ev);
	free(c);
}

/* evhttp is freeing an admitted connection. */
static void
metrics_conn_closed(struct evhttp_connection *evcon, void *arg)
{
	struct metrics_conn *c = arg;

	(void)evcon;
	log_debug("conn=%llu peer=%s metrics closed", (unsigned long long)c->id, c->peer);
	metrics_conn_free(c);
}

/* Ends a connection from outside evhttp: both directions shut, evhttp sees
 * the end of its socket and frees the connection (metrics_conn_closed). */
static void
metrics_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct metrics_conn *c = arg;
	evutil_socket_t sock = bufferevent_getfd(c->bev);

	(void)fd;
	(void)what;
	counters_refused(&c->owner->srv->counters, REFUSE_HANDSHAKE_DEADLINE);
	log_warnx("conn=%llu peer=%s metrics closed reason=request_deadline "
	    "handshake_timeout_s=%lld", (unsigned long long)c->id, c->peer,
	    (long long)c->owner->srv->cfg->limits.handshake_timeout_s);
	if (sock >= 0)
		shutdown(sock, SHUT_RDWR);
}

static void
metrics_arm_deadline(struct metrics_conn *c)
{
	struct timeval tv = { (time_t)c->owner->srv->cfg->limits.handshake_timeout_s, 0 };

	evtimer_add(c->deadline_ev, &tv);
}

/* Admits one accepted connection (true) or refuses it with a 503. */
static bool
metrics_conn_admit(struct metrics_conn *c, evutil_socket_t fd)
{
	struct metrics_conns *mc = c->owner;
	struct server *srv = mc->srv;
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	enum refuse_reason why = REFUSE_TOTAL;
	int64_t share = srv->cfg->limits.max_metrics_connections;

	if (getpeername(fd, (struct sockaddr *)&ss, &len) == -1) {
		log_warn("conn=%llu metrics connection refused reason=no_peer",
		    (unsigned long long)c->id);
		return false;
	}
	net_format_peer((struct sockaddr *)&ss, c->peer, sizeof c->peer);
	if (mc->nadmitted >= (size_t)share) {
		counters_refused(&srv->counters, REFUSE_TOTAL);
		log_warnx("metrics connection refused peer=%s reason=max_metrics_connections "
		    "connections=%zu max_metrics_connections=%lld", c->peer, mc->nadmitted,
		    (long long)share);
	} else if (admission_admit(&srv->admission, "metrics", (struct sockaddr *)&ss, &c->addr, &why))
		return true;
	/* tiny, into an empty socket buffer: a non-blocking send cannot stall */
	if (send(fd, metrics_refusal, sizeof metrics_refusal - 1, MSG_DONTWAIT | MSG_NOSIGNAL) !=
	    (ssize_t)(sizeof metrics_refusal - 1))
		log_debug("conn=%llu metrics refusal not sent", (unsigned long long)c->id);
	return false;
}

/* After evhttp accepted: its connection has its socket and its callbacks,
 * whose argument is the evhttp_connection (evhttp_start_read_ in 2.1). */
static void
metrics_admit_cb(evutil_socket_t fd, short what, void *arg)
{
	struct metrics_conns *mc = arg;
	struct metrics_conn *c;

	(void)fd;
	(void)what;
	while ((c = TAILQ_FIRST(&mc->unchecked)) != NULL) {
		struct bufferevent *bev = c->bev;
		bufferevent_event_cb eventcb = NULL;
		void *evcon = NULL;
		evutil_socket_t sock = bufferevent_getfd(bev);

		bufferevent_getcb(bev, NULL, NULL, &eventcb, &evcon);
		if (eventcb == NULL || evcon == NULL || sock < 0) {
			metrics_conn_free(c);	/* evhttp freed it already */
		} else if (metrics_conn_admit(c, sock)) {
			TAILQ_REMOVE(&mc->unchecked, c, entry);
			c->state = MC_ADMITTED;
			c->evcon = evcon;
			TAILQ_INSERT_TAIL(&mc->admitted, c, entry);
			mc->nadmitted++;
			evhttp_connection_set_closecb(c->evcon, metrics_conn_closed, c);
			metrics_arm_deadline(c);
			log_debug("conn=%llu peer=%s metrics connection", (unsigned long long)c->id,
			    c->peer);
		} else {
			/* evhttp reads the end and frees its connection */
			shutdown(sock, SHUT_RDWR);
			metrics_conn_free(c);
		}
		bufferevent_decref(bev);
	}
}

/* evhttp's hook for each accepted connection, before it has its socket:
 * the bufferevent is made here so that it can be found at admission. */
static struct bufferevent *
metrics_bev_cb(struct event_base *base, void *arg)
{
	struct metrics_conns *mc = arg;
	struct metrics_conn *c = calloc(1, sizeof *c);

	if (c == NULL || (c->deadline_ev = evtimer_new(base, metrics_deadline_cb, c)) == NULL ||
	    (c->bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		if (c != NULL && c->deadline_ev != NULL)
			event_free(c->deadline_ev);
		free(c);
		log_warnx("metrics connection not counted reason=out_of_memory");
		return NULL;
	}
	bufferevent_incref(c->bev);	/* until admitted, even if evhttp frees it */
	c->owner = mc;
	c->id = admission_next_id(&mc->srv->admission);
	c->state = MC_UNCHECKED;
	TAILQ_INSERT_TAIL(&mc->unchecked, c, entry);
	event_active(mc->admit_ev, EV_TIMEOUT, 0);
	return c->bev;
}

int
metrics_conns_init(struct metrics_conns *mc, struct server *srv, struct evhttp *http)
{
	mc->srv = srv;
	TAILQ_INIT(&mc->unchecked);
	TAILQ_INIT(&mc->admitted);
	mc->nadmitted = 0;
	if ((mc->admit_ev = event_new(srv->base, -1, 0, metrics_admit_cb, mc)) == NULL)
		return -1;
	evhttp_set_bevcb(http, metrics_bev_cb, mc);
	return 0;
}

void
metrics_conns_served(struct metrics_conns *mc, struct evhttp_request *req)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct metrics_conn *c;

	TAILQ_FOREACH(c, &mc->admitted, entry)
		if (c->evcon == evcon) {
			evtimer_del(c->deadline_ev);
			metrics_arm_deadline(c);
			return;
		}
}

void
metrics_conns_free(struct metrics_conns *mc)
{
	struct metrics_conn *c;

	/* evhttp_free() closed the admitted ones */
	while ((c = TAILQ_FIRST(&mc->unchecked)) != NULL) {
		struct bufferevent *bev = c->bev;

		metrics_conn_free(c);
		bufferevent_decref(bev);
	}
	if (mc->admit_ev != NULL)
		event_free(mc->admit_ev);
	mc->admit_ev = NULL;
}
