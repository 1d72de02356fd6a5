/*
 * /metrics and /health over evhttp; see metrics.h. Reads the loop's counters
 * and the writer pool's statistics when scraped, so a scrape costs nothing
 * in between and never changes the daemon's state.
 */
#include "metrics.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>
#include <protobuf-c/protobuf-c.h>

#include "admission.h"
#include "config.h"
#include "log.h"
#include "metrics_conn.h"
#include "server_state.h"
#include "store.h"
#include "validate.h"
#include "writer.h"

#define METRICS_MAX_HEADERS 8192
#define METRICS_MAX_BODY 1024		/* GET and HEAD have none */
#define METRICS_TIMEOUT_S 10		/* idle (read or write); see also metrics_conn.h */
#define METRICS_ACCEPT_PAUSE_S 1	/* after accept failed, out of descriptors */
#define LABEL_MAX 256

struct metrics {
	struct server *srv;
	struct evhttp *http;
	struct metrics_conns conns;
};

/* ------------------------------------------------------------ rendering */

/* A label value with \, " and newline escaped as the text format wants. */
static const char *
metrics_label(char *buf, size_t len, const char *s)
{
	size_t o = 0;

	for (; *s != '\0' && o + 3 < len; s++) {
		if (*s == '\\' || *s == '"')
			buf[o++] = '\\';
		if (*s == '\n') {
			buf[o++] = '\\';
			buf[o++] = 'n';
			continue;
		}
		buf[o++] = *s;
	}
	buf[o] = '\0';
	return buf;
}

static void
metrics_head(struct evbuffer *b, const char *name, const char *type, const char *help)
{
	evbuffer_add_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void
metrics_one(struct evbuffer *b, const char *name, const char *type, const char *help,
    uint64_t v)
{
	metrics_head(b, name, type, help);
	evbuffer_add_printf(b, "%s %llu\n", name, (unsigned long long)v);
}

static const struct {
	const char *name, *type, *help;
	size_t off;
} carrier_metrics[] = {
	{ "corridor_carrier_updates_received_total", "counter",
	    "Updates received from the carrier.", offsetof(struct carrier, received) },
	{ "corridor_carrier_updates_stored_total", "counter",
	    "Updates of the carrier stored.", offsetof(struct carrier, stored) },
	{ "corridor_carrier_updates_duplicate_total", "counter",
	    "Resent updates of the carrier already stored.", offsetof(struct carrier, duplicates) },
	{ "corridor_carrier_updates_rejected_total", "counter",
	    "Updates of the carrier rejected.", offsetof(struct carrier, rejected) },
	{ "corridor_carrier_acked_seq", "gauge",
	    "The carrier's acknowledged high-water mark.", offsetof(struct carrier, acked_seq) },
};

static void
metrics_carriers(struct evbuffer *b, const struct carrier_table *ct)
{
	char label[LABEL_MAX];

	for (size_t m = 0; m < sizeof carrier_metrics / sizeof carrier_metrics[0]; m++) {
		metrics_head(b, carrier_metrics[m].name, carrier_metrics[m].type,
		    carrier_metrics[m].help);
		for (size_t i = 0; i < ct->count; i++) {
			const struct carrier *c = &ct->items[i];
			uint64_t v = *(const uint64_t *)(const void *)((const char *)c +
			    carrier_metrics[m].off);

			evbuffer_add_printf(b, "%s{carrier=\"%s\"} %llu\n", carrier_metrics[m].name,
			    metrics_label(label, sizeof label, c->code), (unsigned long long)v);
		}
	}
}

static void
metrics_histogram(struct evbuffer *b, const struct writer_stats *ws)
{
	uint64_t cum = 0;

	metrics_head(b, "corridor_commit_seconds", "histogram",
	    "Time one writer transaction (one leg's group commit) took.");
	for (size_t i = 0; i < WRITER_COMMIT_BUCKETS; i++) {
		cum += ws->commit_buckets[i];
		evbuffer_add_printf(b, "corridor_commit_seconds_bucket{le=\"%g\"} %llu\n",
		    writer_commit_bounds[i], (unsigned long long)cum);
	}
	cum += ws->commit_buckets[WRITER_COMMIT_BUCKETS];
	evbuffer_add_printf(b, "corridor_commit_seconds_bucket{le=\"+Inf\"} %llu\n"
	    "corridor_commit_seconds_sum %.6f\ncorridor_commit_seconds_count %llu\n",
	    (unsigned long long)cum, ws->commit_seconds, (unsigned long long)cum);
}

static void
metrics_render(struct server *srv, struct evbuffer *b)
{
	const struct counters *k = &srv->counters;
	const struct leg_table *legs = &srv->cfg->legs;
	struct writer_stats ws;
	char l1[LABEL_MAX], l2[LABEL_MAX], l3[LABEL_MAX], l4[LABEL_MAX], l5[LABEL_MAX];

	writer_pool_stats(srv->writers, &ws);
	metrics_head(b, "corridor_build_info", "gauge",
	    "Versions of corridord and the libraries it runs with.");
	/* the backend's library version is labelled with its name (sqlite=) */
	evbuffer_add_printf(b, "corridor_build_info{version=\"%s\",libevent=\"%s\",%s=\"%s\","
	    "protobuf_c=\"%s\",store=\"%s\"} 1\n", metrics_label(l1, sizeof l1, CORRIDOR_VERSION),
	    metrics_label(l2, sizeof l2, event_get_version()), store_backend_name(srv->store),
	    metrics_label(l3, sizeof l3, store_backend_version(srv->store)),
	    metrics_label(l4, sizeof l4, protobuf_c_version()),
	    metrics_label(l5, sizeof l5, store_backend_name(srv->store)));
	metrics_one(b, "corridor_updates_received_total", "counter",
	    "Updates received from carriers.", k->updates_received);
	metrics_one(b, "corridor_updates_stored_total", "counter",
	    "Updates stored (committed).", k->updates_stored);
	metrics_one(b, "corridor_updates_duplicate_total", "counter",
	    "Resent updates that were stored already.", k->updates_duplicate);
	metrics_head(b, "corridor_updates_rejected_total", "counter",
	    "Updates rejected, by reason (RejectReason of the wire protocol).");
	for (int r = 1; r < COUNTERS_REJECT_REASONS; r++)
		if (protobuf_c_enum_descriptor_get_value(&corridor__reject_reason__descriptor, r) !=
		    NULL)
			evbuffer_add_printf(b, "corridor_updates_rejected_total{reason=\"%s\"} %llu\n",
			    reject_reason_name((Corridor__RejectReason)r),
			    (unsigned long long)k->updates_rejected[r]);
	metrics_one(b, "corridor_store_failures_total", "counter",
	    "Updates whose transaction failed (rejected as retryable).", k->store_failures);
	metrics_one(b, "corridor_busy_batches_total", "counter",
	    "Batches refused whole because the writers were behind.", k->busy_batches);
	metrics_one(b, "corridor_pauses_total", "counter",
	    "Times a carrier connection stopped being read (flow control).", k->pauses);
	metrics_one(b, "corridor_connections", "gauge",
	    "Carrier, operator and metrics connections open.", admission_count(&srv->admission));
	metrics_head(b, "corridor_connections_refused_total", "counter",
	    "Connections refused at accept or dropped by a limit, by reason.");
	for (int r = 0; r < REFUSE_REASONS; r++)
		evbuffer_add_printf(b, "corridor_connections_refused_total{reason=\"%s\"} %llu\n",
		    refuse_reason_name((enum refuse_reason)r), (unsigned long long)k->refused[r]);
	metrics_head(b, "corridor_session_errors_total", "counter",
	    "Carrier sessions ended with an Error frame, by ErrorCode of the wire protocol.");
	for (int e = 1; e < COUNTERS_ERROR_CODES; e++)
		if (protobuf_c_enum_descriptor_get_value(&corridor__error_code__descriptor, e) != NULL)
			evbuffer_add_printf(b, "corridor_session_errors_total{code=\"%s\"} %llu\n",
			    protobuf_c_enum_descriptor_get_value(&corridor__error_code__descriptor,
			    e)->name, (unsigned long long)k->session_errors[e]);
	metrics_one(b, "corridor_accept_pauses_total", "counter",
	    "Times accepting paused because accept failed (out of descriptors).",
	    k->accept_pauses);
	metrics_one(b, "corridor_queries_total", "counter", "Operator queries answered.",
	    k->queries);
	metrics_one(b, "corridor_writer_batches_total", "counter",
	    "Writer transactions (one leg's group commit), committed or failed.", ws.batches);
	metrics_one(b, "corridor_writer_failures_total", "counter",
	    "Updates whose writer transaction failed.", ws.failed);
	metrics_one(b, "corridor_writer_backlog", "gauge",
	    "Updates queued to the writers or being stored.", writer_pool_backlog(srv->writers));
	metrics_histogram(b, &ws);
	metrics_head(b, "corridor_leg_updates_stored_total", "counter", "Updates stored, by leg.");
	for (size_t i = 0; i < legs->count; i++)
		evbuffer_add_printf(b, "corridor_leg_updates_stored_total{leg=\"%s\"} %llu\n",
		    metrics_label(l1, sizeof l1, legs->legs[i].code),
		    (unsigned long long)k->leg_stored[i]);
	metrics_carriers(b, &srv->carriers);
	metrics_head(b, "corridor_auth_failures_total", "counter",
	    "Failed authentications: carrier Hellos and operator AUTH lines refused, and "
	    "operator commands above the connection's right, by port and reason.");
	for (int f = 0; f < AUTH_FAIL_COUNT; f++)
		evbuffer_add_printf(b, "corridor_auth_failures_total{port=\"%s\",reason=\"%s\"} %llu\n",
		    auth_failure_port((enum auth_failure)f), auth_failure_name((enum auth_failure)f),
		    (unsigned long long)k->auth_failures[f]);
	metrics_head(b, "corridor_reloads_total", "counter",
	    "Configuration reloads (SIGHUP), applied or refused (the old configuration kept).");
	evbuffer_add_printf(b, "corridor_reloads_total{result=\"ok\"} %llu\n"
	    "corridor_reloads_total{result=\"failed\"} %llu\n",
	    (unsigned long long)k->reloads_ok, (unsigned long long)k->reloads_failed);
}

/* ------------------------------------------------------------ requests */

static void
metrics_handle(struct evhttp_request *req, void *arg)
{
	struct metrics *m = arg;
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri != NULL ? evhttp_uri_get_path(uri) : NULL;
	struct evkeyvalq *hdr = evhttp_request_get_output_headers(req);
	struct evbuffer *out = evhttp_request_get_output_buffer(req);

	/* the connection was admitted at accept (metrics_conn.c) */
	metrics_conns_served(&m->conns, req);
	if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) {
		evhttp_add_header(hdr, "Allow", "GET, HEAD");
		evhttp_send_error(req, HTTP_BADMETHOD, "Method Not Allowed");
		return;
	}
	if (path != NULL && strcmp(path, "/metrics") == 0) {
		metrics_render(m->srv, out);
		evhttp_add_header(hdr, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
		evhttp_send_reply(req, HTTP_OK, "OK", NULL);
	} else if (path != NULL && strcmp(path, "/health") == 0) {
		bool ok = !m->srv->stopping;

		evbuffer_add_printf(out, "%s\n", ok ? "ok" : "stopping");
		evhttp_add_header(hdr, "Content-Type", "text/plain; charset=utf-8");
		evhttp_send_reply(req, ok ? HTTP_OK : HTTP_SERVUNAVAIL,
		    ok ? "OK" : "Service Unavailable", NULL);
	} else
		evhttp_send_error(req, HTTP_NOTFOUND, NULL);
}

/* ------------------------------------------------------------ life cycle */

static void
metrics_resume_accept(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	evconnlistener_enable(arg);
}

/* evhttp leaves its listener without an error callback, and libevent then
 * only warns and keeps the listener enabled: out of descriptors, the waiting
 * scraper makes accept fail on every turn of the loop (a spin, measured at
 * most of a core). Pause it like the other listeners. The timer may hold the
 * listener: it lives until metrics_stop(), which runs after the loop ended. */
static void
metrics_accept_error(struct evconnlistener *l, void *arg)
{
	struct timeval pause = { METRICS_ACCEPT_PAUSE_S, 0 };
	int err = EVUTIL_SOCKET_ERROR();

	(void)arg;
	log_warnx("metrics accept failed error=\"%s\"; pausing it for %d s",
	    evutil_socket_error_to_string(err), METRICS_ACCEPT_PAUSE_S);
	evconnlistener_disable(l);
	event_base_once(evconnlistener_get_base(l), -1, EV_TIMEOUT, metrics_resume_accept, l,
	    &pause);
}

struct metrics *
metrics_start(struct server *srv, const char *addr, char *err, size_t errlen)
{
	char host[CONFIG_ADDR_MAX];
	size_t hl;
	int port;
	struct metrics *m;
	struct evhttp_bound_socket *bound;

	if (config_split_addr(addr, host, sizeof host, &port) == -1) {
		snprintf(err, errlen, "\"%s\" is not host:port", addr);
		return NULL;
	}
	hl = strlen(host);
	if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {	/* [v6]:port */
		memmove(host, host + 1, hl - 2);
		host[hl - 2] = '\0';
	}
	if ((m = calloc(1, sizeof *m)) == NULL || (m->http = evhttp_new(srv->base)) == NULL) {
		free(m);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	m->srv = srv;
	if (metrics_conns_init(&m->conns, srv, m->http) == -1) {
		evhttp_free(m->http);
		free(m);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	/* every method reaches the handler, which answers 405 to all but GET and HEAD */
	evhttp_set_allowed_methods(m->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_POST |
	    EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PATCH);
	evhttp_set_max_headers_size(m->http, METRICS_MAX_HEADERS);
	evhttp_set_max_body_size(m->http, METRICS_MAX_BODY);
	evhttp_set_timeout(m->http, METRICS_TIMEOUT_S);
	evhttp_set_gencb(m->http, metrics_handle, m);
	if ((bound = evhttp_bind_socket_with_handle(m->http, host, (ev_uint16_t)port)) == NULL) {
		snprintf(err, errlen, "cannot listen on %s", addr);
		evhttp_free(m->http);
		metrics_conns_free(&m->conns);
		free(m);
		return NULL;
	}
	evconnlistener_set_error_cb(evhttp_bound_socket_get_listener(bound), metrics_accept_error);
	log_info("listening listener=metrics bind=%s", addr);
	return m;
}

void
metrics_stop(struct metrics *m)
{
	if (m == NULL)
		return;
	evhttp_free(m->http);	/* frees each connection: metrics_conn.c stops counting it */
	metrics_conns_free(&m->conns);
	free(m);
}
