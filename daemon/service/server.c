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
#include "admission.h"
#include "ingest.h"
#include "listen_fds.h"
#include "log.h"
#include "marks.h"
#include "metrics.h"
#include "net_util.h"
#include "query_conn.h"
#include "reload.h"
#include "sd_notify.h"
#include "store.h"
#include "timeutil.h"
#include "tls.h"
#include "workq.h"
#include "writer.h"

#define CHECKPOINT_INTERVAL_MS 1000
#define STOP_POLL_MS 20
#define ACCEPT_PAUSE_S 1

/* The writers' completions arrive on the loop, so only once it runs: after
 * server_init() made the carrier port. */
static void
on_writers_done(struct update_rec *list, void *arg)
{
	ingest_on_stored(((struct server *)arg)->ingest, list);
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
	marks_checkpoint(srv->ingest);
	retention_tick(srv);
	/* the tick is a second: stored since the last one is the rate */
	sd_notify_send("STATUS=connections=%zu updates_per_s=%llu backlog=%zu%s",
	    admission_count(&srv->admission),
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
	ingest_accept(((struct server *)arg)->ingest, fd, sa, salen);
}

static void
accept_operator(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen,
    void *arg)
{
	(void)l;
	query_conn_accept(&((struct server *)arg)->query, fd, sa, salen);
}

static void
resume_accept(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;

	(void)fd;
	(void)what;
	/* gone when the daemon began to stop during the pause */
	if (srv->carrier_listener != NULL)
		evconnlistener_enable(srv->carrier_listener);
	if (srv->query_listener != NULL)
		evconnlistener_enable(srv->query_listener);
}

static void
accept_error(struct evconnlistener *l, void *arg)
{
	struct server *srv = arg;
	struct timeval pause = { ACCEPT_PAUSE_S, 0 };
	int err = EVUTIL_SOCKET_ERROR();
	uint64_t pauses;

	/* Out of descriptors (EMFILE, ENFILE) or buffers: the waiting connection
	 * stays in the listen queue and accept would fail again at once, so
	 * accepting pauses instead of spinning on the error. */
	pauses = counters_accept_paused(&srv->counters);
	log_warnx("accept failed error=\"%s\" connections=%zu pauses=%llu; pausing accept for "
	    "%d s", evutil_socket_error_to_string(err), admission_count(&srv->admission),
	    (unsigned long long)pauses, ACCEPT_PAUSE_S);
	evconnlistener_disable(l);
	if (!evtimer_pending(srv->accept_resume_ev, NULL))
		evtimer_add(srv->accept_resume_ev, &pause);
}

/* Clear text where the network is not the host's own is worth a warning. */
static void
warn_if_exposed(struct evconnlistener *l, const char *name, bool tls)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	const char *key = strcmp(name, "carriers") == 0 ? "carrier" : "query";
	char addr[64];

	if (tls || getsockname(evconnlistener_get_fd(l), (struct sockaddr *)&ss, &len) == -1 ||
	    (ss.ss_family != AF_INET && ss.ss_family != AF_INET6) ||
	    net_is_loopback((struct sockaddr *)&ss))
		return;
	net_format_peer((struct sockaddr *)&ss, addr, sizeof addr);
	log_warnx("listener=%s bind=%s is not loopback and has no TLS: what crosses it "
	    "(credentials, updates, answers) can be read and changed on the way; set "
	    "%s_cert and %s_key in [tls]", name, addr, key, key);
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

/* The TLS context of a listener, or NULL for plain TCP. Exits on failure. */
static struct ssl_ctx_st *
tls_for(struct server *srv, const struct tls_listener_config *lc, const char *name)
{
	char err[512];
	SSL_CTX *ctx;

	if (!tls_listener_enabled(lc))
		return NULL;
	if ((ctx = tls_server_ctx_new(lc, srv->cfg->tls.min_version, name, err, sizeof err)) == NULL)
		fatalx("tls: %s", err);
	return ctx;
}

/* ------------------------------------------------------------ stopping */

static bool
writes_settled(struct server *srv)
{
	struct carrier_table *ct = &srv->carriers;

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
	/* Everything read is committed and acknowledged: say goodbye. */
	ingest_goodbye(srv->ingest);
	if (ingest_idle(srv->ingest) && query_service_idle(&srv->query))
		event_base_loopexit(srv->base, NULL);
}

static void
server_begin_stop(struct server *srv, const char *why)
{
	struct timeval poll = { 0, STOP_POLL_MS * 1000 };

	if (srv->stopping)
		return;
	srv->stopping = true;
	admission_stop(&srv->admission);
	sd_notify_send("STOPPING=1\nSTATUS=stopping: committing and acknowledging what was read");
	srv->stop_deadline_ms = time_mono_ms() + srv->cfg->limits.shutdown_deadline_s * 1000;
	log_info("stopping reason=%s connections=%zu backlog=%zu", why,
	    admission_count(&srv->admission),
	    writer_pool_backlog(srv->writers));
	evconnlistener_free(srv->carrier_listener);
	evconnlistener_free(srv->query_listener);
	srv->carrier_listener = srv->query_listener = NULL;
	ingest_drain(srv->ingest);
	query_service_stop(&srv->query);
	srv->stop_ev = event_new(srv->base, -1, EV_PERSIST, stop_poll, srv);
	event_add(srv->stop_ev, &poll);
}

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	(void)what;
	if (sig == SIGHUP)
		reload_begin(arg);
	else
		server_begin_stop(arg, sig == SIGTERM ? "sigterm" : "sigint");
}

/* ------------------------------------------------------------ life cycle */

static void
log_versions(struct server *srv)
{
	log_info("corridord %s starting libevent=%s backend=%s store=%s %s=%s protobuf-c=%s",
	    CORRIDOR_VERSION, event_get_version(), event_base_get_method(srv->base),
	    store_backend_name(srv->store), store_backend_name(srv->store),
	    store_backend_version(srv->store), protobuf_c_version());
}

int
server_init_store(const struct config *cfg, char *err, size_t errlen)
{
	static struct carrier_table carriers;
	struct store_error serr;
	struct store_catalog *cat = NULL;
	struct store *st;
	int rc = -1;

	if ((st = store_open(cfg, &serr)) == NULL) {
		snprintf(err, errlen, "store: %s", serr.message);
		return -1;
	}
	for (size_t i = 0; i < cfg->carriers.count; i++)
		carrier_add(&carriers, cfg->carriers.items[i].code, cfg->carriers.items[i].name);
	if ((cat = store_catalog_open(st, &serr)) == NULL ||
	    store_catalog_sync(cat, &cfg->legs, &carriers, &serr) == -1) {
		snprintf(err, errlen, "catalog: %s", serr.message);
		goto out;
	}
	for (size_t i = 0; i < cfg->legs.count; i++)
		if (store_leg_prepare(st, &cfg->legs.legs[i], &serr) == -1) {
			snprintf(err, errlen, "leg %s: %s", cfg->legs.legs[i].code, serr.message);
			goto out;
		}
	rc = 0;
out:
	store_catalog_close(cat);
	store_close(st);
	return rc;
}

void
server_init(struct server *srv, struct config *cfg, server_config_loader load_config)
{
	struct workq_ops query_ops = { query_worker_init, query_worker_fini, &srv->query };
	struct workq_ops plain_ops = { NULL, NULL, NULL };
	struct timeval tick = { 0, CHECKPOINT_INTERVAL_MS * 1000 };
	struct store_error serr;
	char err[512];

	srv->cfg = cfg;
	srv->load_config = load_config;
	TAILQ_INIT(&srv->query.conns);
	if ((srv->store = store_open(cfg, &serr)) == NULL)
		fatalx("store: %s", serr.message);
	log_versions(srv);

	if ((srv->catalog = store_catalog_open(srv->store, &serr)) == NULL)
		fatalx("catalog: %s", serr.message);
	for (size_t i = 0; i < cfg->carriers.count; i++)
		carrier_add(&srv->carriers, cfg->carriers.items[i].code, cfg->carriers.items[i].name);
	if (store_catalog_sync(srv->catalog, &cfg->legs, &srv->carriers, &serr) == -1)
		fatalx("%s", serr.message);
	if (carrier_table_init_windows(&srv->carriers, (uint64_t)cfg->limits.seq_window) == -1)
		fatalx("out of memory for carrier windows");
	srv->writers = writer_pool_start(srv->base, srv->store, &cfg->legs, &cfg->limits,
	    on_writers_done, srv, err, sizeof err);
	if (srv->writers == NULL)
		fatalx("leg store: %s", err);
	if (marks_recover_table(srv->catalog, &cfg->legs, &srv->carriers, err, sizeof err) == -1)
		fatalx("recovering acknowledged marks: %s", err);
	srv->query.thread_nice = (int)cfg->limits.query_thread_nice;
	srv->query.store = srv->store;
	srv->queries = workq_start(srv->base, "query", (int)cfg->limits.query_threads, &query_ops);
	srv->checkpoints = workq_start(srv->base, "checkpoint", 1, &plain_ops);
	srv->auth = workq_start(srv->base, "auth", (int)cfg->limits.auth_threads, &plain_ops);
	srv->throttle = auth_throttle_new((size_t)cfg->limits.auth_fail_addresses);
	if (srv->throttle == NULL)
		fatalx("out of memory for the authentication throttle");
	srv->checker = (struct auth_checker){ srv->base, srv->auth, srv->throttle, &srv->counters,
	    &srv->cfg };
	if (cfg->access.ncreds == 0)
		log_warnx("no carrier credentials configured ([credentials]): no carrier can write");
	if (cfg->access.nops == 0)
		log_warnx("no operator tokens configured ([operators]): only PING and HELP answer");

	srv->accept_resume_ev = evtimer_new(srv->base, resume_accept, srv);
	if (admission_init(&srv->admission, &srv->cfg, &srv->counters) == -1 ||
	    srv->accept_resume_ev == NULL)
		fatalx("out of memory for the connection limits");
	srv->carrier_tls = tls_for(srv, &cfg->tls.carrier, "carriers");
	srv->query_tls = tls_for(srv, &cfg->tls.query, "operators");
	srv->ingest = ingest_new(&(struct ingest_env){ .base = srv->base, .cfg = &srv->cfg,
	    .counters = &srv->counters, .admission = &srv->admission, .checker = &srv->checker,
	    .carriers = &srv->carriers, .writers = srv->writers, .catalog = srv->catalog,
	    .checkpoints = srv->checkpoints, .tls = srv->carrier_tls,
	    .shared_store = store_shared(srv->store) });
	if (srv->ingest == NULL)
		fatalx("out of memory for the carrier port");
	srv->query.base = srv->base;
	srv->query.cfg = &srv->cfg;
	srv->query.counters = &srv->counters;
	srv->query.admission = &srv->admission;
	srv->query.checker = &srv->checker;
	srv->query.tls = srv->query_tls;
	srv->query.queries = srv->queries;
	srv->carrier_listener = listen_on(srv, "carriers", cfg->carrier_listen, accept_carrier);
	srv->query_listener = listen_on(srv, "operators", cfg->query_listen, accept_operator);
	log_info("tls carriers=%s client_cert=%s operators=%s",
	    srv->carrier_tls != NULL ? "on" : "off",
	    cfg->tls.carrier.client_cert == TLS_CLIENT_CERT_REQUIRED ? "required" :
	    cfg->tls.carrier.client_cert == TLS_CLIENT_CERT_OPTIONAL ? "optional" : "none",
	    srv->query_tls != NULL ? "on" : "off");
	warn_if_exposed(srv->carrier_listener, "carriers", srv->carrier_tls != NULL);
	warn_if_exposed(srv->query_listener, "operators", srv->query_tls != NULL);
	srv->sigterm_ev = evsignal_new(srv->base, SIGTERM, on_signal, srv);
	srv->sigint_ev = evsignal_new(srv->base, SIGINT, on_signal, srv);
	srv->sighup_ev = evsignal_new(srv->base, SIGHUP, on_signal, srv);
	srv->checkpoint_ev = event_new(srv->base, -1, EV_PERSIST, checkpoint_tick, srv);
	if (srv->sigterm_ev == NULL || srv->sigint_ev == NULL || srv->sighup_ev == NULL ||
	    srv->checkpoint_ev == NULL)
		fatalx("cannot create events");
	event_add(srv->sigterm_ev, NULL);
	event_add(srv->sigint_ev, NULL);
	event_add(srv->sighup_ev, NULL);
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
	    "writers=%lld synchronous=%s credentials=%zu operators=%zu", cfg->state_dir,
	    cfg->carrier_listen, cfg->query_listen, cfg->legs.count, cfg->carriers.count,
	    (long long)cfg->limits.writers, cfg->sync == STORE_SYNC_FULL ? "full" : "normal",
	    cfg->access.ncreds, cfg->access.nops);
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
	metrics_stop(srv->metrics);
	writer_pool_stop(srv->writers);
	workq_stop(srv->queries);
	workq_stop(srv->checkpoints);
	/* The last marks, now that nothing else writes the catalog. */
	marks_final_checkpoint(srv->ingest);
	ingest_free(srv->ingest);
	query_service_discard_all(&srv->query);
	/* after the connections: a check still queued finds its connection gone */
	workq_stop(srv->auth);
	auth_throttle_free(srv->throttle);
	if (srv->carrier_listener != NULL)
		evconnlistener_free(srv->carrier_listener);
	if (srv->query_listener != NULL)
		evconnlistener_free(srv->query_listener);
	if (srv->stop_ev != NULL)
		event_free(srv->stop_ev);
	event_free(srv->accept_resume_ev);
	admission_free(&srv->admission);
	tls_ctx_free(srv->carrier_tls);
	tls_ctx_free(srv->query_tls);
	event_free(srv->checkpoint_ev);
	if (srv->watchdog_ev != NULL)
		event_free(srv->watchdog_ev);
	event_free(srv->sigterm_ev);
	event_free(srv->sigint_ev);
	event_free(srv->sighup_ev);
	store_catalog_close(srv->catalog);
	store_close(srv->store);
	carrier_table_free(&srv->carriers);
	config_release(srv->cfg);
	srv->cfg = NULL;
	log_info("stopped");
}
