/*
 * The daemon's wiring and life cycle: state directory, catalog, writers,
 * query workers, listeners, the catalog checkpoint timer and the graceful
 * stop (stop accepting, take in what was read, commit, acknowledge, exit).
 */
#include "server.h"

#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <protobuf-c/protobuf-c.h>
#include <sqlite3.h>

#include "catalog.h"
#include "ingest_conn.h"
#include "ingest_flow.h"
#include "listen_fds.h"
#include "log.h"
#include "marks.h"
#include "metrics.h"
#include "query_conn.h"
#include "sd_notify.h"
#include "timeutil.h"
#include "workq.h"
#include "writer.h"

#define CHECKPOINT_INTERVAL_MS 1000
#define STOP_POLL_MS 20
#define ACCEPT_PAUSE_S 1

bool
server_accept_allowed(struct server *srv, const char *what)
{
	if (srv->stopping)
		return false;
	if (srv->nconns >= (size_t)srv->cfg->limits.max_connections) {
		srv->counters.connections_refused++;
		log_warnx("%s connection refused reason=max_connections limit=%lld", what,
		    (long long)srv->cfg->limits.max_connections);
		return false;
	}
	return true;
}

void
server_count_reject(struct server *srv, Corridor__RejectReason reason)
{
	if ((unsigned)reason < SERVER_REJECT_REASONS)
		srv->counters.updates_rejected[reason]++;
}

static void
make_dir(const char *path)
{
	if (mkdir(path, 0750) == -1 && errno != EEXIST)
		fatal("cannot create %s", path);
}

static void
on_flow(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	ingest_flow_run(arg);
}

static void
on_writers_done(struct update_rec *list, void *arg)
{
	ingest_on_stored(arg, list);
}

/* Asks the writers for a retention pass every retention_check_s seconds
 * (the first a second after start) when retention_days is set. */
static void
retention_tick(struct server *srv)
{
	const struct limits *lim = &srv->cfg->limits;

	if (lim->retention_days <= 0 || srv->stopping || srv->retention_wait_s-- > 0)
		return;
	srv->retention_wait_s = lim->retention_check_s - 1;
	writer_pool_retain(srv->writers, time_now_ms() - lim->retention_days * 86400000LL);
}

static void
checkpoint_tick(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;
	uint64_t stored = srv->counters.updates_stored;

	(void)fd;
	(void)what;
	marks_checkpoint(srv);
	retention_tick(srv);
	/* the tick is a second: stored since the last one is the rate */
	sd_notify_send("STATUS=connections=%zu updates_per_s=%llu backlog=%zu%s", srv->nconns,
	    (unsigned long long)(stored - srv->status_last_stored),
	    writer_pool_backlog(srv->writers), srv->stopping ? " stopping" : "");
	srv->status_last_stored = stored;
}

/* Pets systemd's watchdog only while the writers make progress: with work
 * waiting and nothing settled since the last ping, a stuck writer lets the
 * watchdog fire and systemd restart the daemon. */
static void
watchdog_tick(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;
	uint64_t settled = srv->counters.updates_stored + srv->counters.updates_duplicate +
	    srv->counters.store_failures;

	(void)fd;
	(void)what;
	if (writer_pool_backlog(srv->writers) > 0 && settled == srv->watchdog_seen_done) {
		log_warnx("writers made no progress backlog=%zu; not petting the watchdog",
		    writer_pool_backlog(srv->writers));
		return;
	}
	srv->watchdog_seen_done = settled;
	sd_notify_send("WATCHDOG=1");
}

/* ------------------------------------------------------------ listeners */

static void
accept_carrier(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen,
    void *arg)
{
	(void)l;
	ingest_conn_accept(arg, fd, sa, salen);
}

static void
accept_operator(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen,
    void *arg)
{
	(void)l;
	query_conn_accept(arg, fd, sa, salen);
}

static void
resume_accept(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	evconnlistener_enable(arg);
}

static void
accept_error(struct evconnlistener *l, void *arg)
{
	struct server *srv = arg;
	struct timeval pause = { ACCEPT_PAUSE_S, 0 };
	int err = EVUTIL_SOCKET_ERROR();

	/* Out of descriptors: pause accepting instead of spinning on the error. */
	log_warnx("accept failed error=\"%s\"; pausing accept for %d s",
	    evutil_socket_error_to_string(err), ACCEPT_PAUSE_S);
	evconnlistener_disable(l);
	event_base_once(srv->base, -1, EV_TIMEOUT, resume_accept, l, &pause);
}

static struct evconnlistener *
listen_on(struct server *srv, const char *name, const char *addr, evconnlistener_cb cb)
{
	const unsigned flags = LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC;
	const int backlog = (int)srv->cfg->limits.listen_backlog;
	struct sockaddr_storage ss;
	int sslen = sizeof ss, fd;
	struct evconnlistener *l;

	/* Socket-activated: systemd holds the port; the address is only its default. */
	if ((fd = listen_fds_take(name)) != -1) {
		if ((l = evconnlistener_new(srv->base, cb, srv, flags, backlog, fd)) == NULL)
			fatal("cannot listen on the socket systemd passed listener=%s fd=%d",
			    name, fd);
		log_info("listening listener=%s source=systemd fd=%d", name, fd);
	} else {
		memset(&ss, 0, sizeof ss);
		if (evutil_parse_sockaddr_port(addr, (struct sockaddr *)&ss, &sslen) == -1)
			fatalx("cannot parse listen address %s (use host:port or [v6]:port)",
			    addr);
		l = evconnlistener_new_bind(srv->base, cb, srv, flags, backlog,
		    (struct sockaddr *)&ss, sslen);
		if (l == NULL)
			fatal("cannot listen on %s", addr);
		log_info("listening listener=%s bind=%s", name, addr);
	}
	evconnlistener_set_error_cb(l, accept_error);
	return l;
}

/* ------------------------------------------------------------ stopping */

static bool
writes_settled(struct server *srv)
{
	struct carrier_table *ct = &srv->cfg->carriers;

	if (writer_pool_backlog(srv->writers) != 0)
		return false;
	for (size_t i = 0; i < ct->count; i++)
		if (ct->items[i].inflight != 0)
			return false;
	return true;
}

static void
stop_poll(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;
	struct ingest_conn *c;

	(void)fd;
	(void)what;
	if (time_mono_ms() > srv->stop_deadline_ms) {
		log_warnx("stop deadline of %lld s reached; exiting with work outstanding",
		    (long long)srv->cfg->limits.shutdown_deadline_s);
		event_base_loopexit(srv->base, NULL);
		return;
	}
	if (!writes_settled(srv) || workq_pending(srv->queries) != 0 ||
	    workq_pending(srv->checkpoints) != 0)
		return;
	/* Everything read is committed and acknowledged: say goodbye. Closing
	 * frees later, from the loop, so walking the list here is safe. */
	TAILQ_FOREACH(c, &srv->ingest_conns, entry) {
		ingest_conn_send_ack(c);
		ingest_conn_close(c, "shutdown", CORRIDOR__ERROR_CODE__SHUTTING_DOWN,
		    "the daemon is stopping; reconnect later");
	}
	if (TAILQ_EMPTY(&srv->ingest_conns) && TAILQ_EMPTY(&srv->query_conns))
		event_base_loopexit(srv->base, NULL);
}

static void
server_begin_stop(struct server *srv, const char *why)
{
	struct timeval poll = { 0, STOP_POLL_MS * 1000 };
	struct ingest_conn *c;
	struct query_conn *q;

	if (srv->stopping)
		return;
	srv->stopping = true;
	sd_notify_send("STOPPING=1\nSTATUS=stopping: committing and acknowledging what was read");
	srv->stop_deadline_ms = time_mono_ms() + srv->cfg->limits.shutdown_deadline_s * 1000;
	log_info("stopping reason=%s connections=%zu backlog=%zu", why, srv->nconns,
	    writer_pool_backlog(srv->writers));
	evconnlistener_free(srv->carrier_listener);
	evconnlistener_free(srv->query_listener);
	srv->carrier_listener = srv->query_listener = NULL;
	TAILQ_FOREACH(c, &srv->ingest_conns, entry)
		ingest_conn_drain(c);
	TAILQ_FOREACH(q, &srv->query_conns, entry)
		if (q->state == QUERY_READING)
			query_conn_close(q, "shutdown");
	srv->stop_ev = event_new(srv->base, -1, EV_PERSIST, stop_poll, srv);
	event_add(srv->stop_ev, &poll);
}

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	(void)what;
	server_begin_stop(arg, sig == SIGTERM ? "sigterm" : "sigint");
}

/* ------------------------------------------------------------ life cycle */

static void
log_versions(struct server *srv)
{
	log_info("corridord %s starting libevent=%s backend=%s sqlite=%s protobuf-c=%s",
	    CORRIDOR_VERSION, event_get_version(), event_base_get_method(srv->base),
	    sqlite3_libversion(), protobuf_c_version());
}

void
server_init(struct server *srv, struct config *cfg)
{
	struct workq_ops query_ops = { query_worker_init, query_worker_fini, srv };
	struct workq_ops plain_ops = { NULL, NULL, NULL };
	struct timeval tick = { 0, CHECKPOINT_INTERVAL_MS * 1000 };
	char path[CONFIG_PATH_MAX + 32], err[512];

	srv->cfg = cfg;
	arena_init(&srv->decode_arena, (size_t)cfg->limits.max_decode_bytes);
	TAILQ_INIT(&srv->ingest_conns);
	TAILQ_INIT(&srv->query_conns);
	log_versions(srv);

	make_dir(cfg->state_dir);
	snprintf(srv->legs_dir, sizeof srv->legs_dir, "%s/legs", cfg->state_dir);
	make_dir(srv->legs_dir);
	snprintf(path, sizeof path, "%s/corridor.db", cfg->state_dir);
	if ((srv->catalog = catalog_open(path, cfg->sync, err, sizeof err)) == NULL)
		fatalx("catalog: %s", err);
	if (catalog_sync(srv->catalog, &cfg->legs, &cfg->carriers, err, sizeof err) == -1)
		fatalx("%s", err);
	if (carrier_table_init_windows(&cfg->carriers, (uint64_t)cfg->limits.seq_window) == -1)
		fatalx("out of memory for carrier windows");
	srv->writers = writer_pool_start(srv->base, &cfg->legs, srv->legs_dir, cfg->sync,
	    &cfg->limits, on_writers_done, srv, err, sizeof err);
	if (srv->writers == NULL)
		fatalx("leg store: %s", err);
	if (marks_recover(srv, err, sizeof err) == -1)
		fatalx("recovering acknowledged marks: %s", err);
	srv->queries = workq_start(srv->base, "query", (int)cfg->limits.query_threads, &query_ops);
	srv->checkpoints = workq_start(srv->base, "checkpoint", 1, &plain_ops);

	srv->carrier_listener = listen_on(srv, "carriers", cfg->carrier_listen, accept_carrier);
	srv->query_listener = listen_on(srv, "operators", cfg->query_listen, accept_operator);
	srv->sigterm_ev = evsignal_new(srv->base, SIGTERM, on_signal, srv);
	srv->sigint_ev = evsignal_new(srv->base, SIGINT, on_signal, srv);
	srv->checkpoint_ev = event_new(srv->base, -1, EV_PERSIST, checkpoint_tick, srv);
	srv->flow_ev = event_new(srv->base, -1, 0, on_flow, srv);
	if (srv->sigterm_ev == NULL || srv->sigint_ev == NULL || srv->checkpoint_ev == NULL ||
	    srv->flow_ev == NULL)
		fatalx("cannot create events");
	event_add(srv->sigterm_ev, NULL);
	event_add(srv->sigint_ev, NULL);
	event_add(srv->checkpoint_ev, &tick);
	/* Monitoring is not worth refusing to store updates for: a port in use
	 * leaves the daemon running without it. */
	if (cfg->metrics_listen[0] != '\0' &&
	    (srv->metrics = metrics_start(srv, cfg->metrics_listen, err, sizeof err)) == NULL)
		log_warnx("metrics endpoint disabled listen=%s reason=\"%s\"", cfg->metrics_listen,
		    err);
	if (sd_notify_watchdog_usec() > 0) {
		uint64_t half = sd_notify_watchdog_usec() / 2;
		struct timeval every = { (time_t)(half / 1000000), (suseconds_t)(half % 1000000) };

		srv->watchdog_ev = event_new(srv->base, -1, EV_PERSIST, watchdog_tick, srv);
		if (srv->watchdog_ev == NULL)
			fatalx("cannot create the watchdog event");
		event_add(srv->watchdog_ev, &every);
	}
	sd_notify_send("READY=1\nSTATUS=listening carriers=%s operators=%s legs=%zu",
	    cfg->carrier_listen, cfg->query_listen, cfg->legs.count);
	log_info("ready state_dir=%s carriers=%s operators=%s legs=%zu carriers_known=%zu "
	    "writers=%lld synchronous=%s", cfg->state_dir, cfg->carrier_listen, cfg->query_listen,
	    cfg->legs.count, cfg->carriers.count, (long long)cfg->limits.writers,
	    cfg->sync == DB_SYNC_FULL ? "full" : "normal");
}

int
server_run(struct server *srv)
{
	event_base_dispatch(srv->base);
	return time_mono_ms() > srv->stop_deadline_ms && srv->stopping ? 1 : 0;
}

void
server_free(struct server *srv)
{
	struct ingest_conn *c;
	struct query_conn *q;

	metrics_stop(srv->metrics);
	writer_pool_stop(srv->writers);
	workq_stop(srv->queries);
	workq_stop(srv->checkpoints);
	/* The last marks, now that nothing else writes the catalog. */
	marks_final_checkpoint(srv);
	while ((c = TAILQ_FIRST(&srv->ingest_conns)) != NULL) {
		TAILQ_REMOVE(&srv->ingest_conns, c, entry);
		bufferevent_free(c->bev);
		free(c);
	}
	while ((q = TAILQ_FIRST(&srv->query_conns)) != NULL) {
		TAILQ_REMOVE(&srv->query_conns, q, entry);
		bufferevent_free(q->bev);
		free(q);
	}
	if (srv->carrier_listener != NULL)
		evconnlistener_free(srv->carrier_listener);
	if (srv->query_listener != NULL)
		evconnlistener_free(srv->query_listener);
	if (srv->stop_ev != NULL)
		event_free(srv->stop_ev);
	event_free(srv->checkpoint_ev);
	event_free(srv->flow_ev);
	if (srv->watchdog_ev != NULL)
		event_free(srv->watchdog_ev);
	event_free(srv->sigterm_ev);
	event_free(srv->sigint_ev);
	catalog_close(srv->catalog);
	carrier_table_free(&srv->cfg->carriers);
	arena_free_all(&srv->decode_arena);
	log_info("stopped");
}
