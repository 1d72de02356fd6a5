/* Operator connections on the query port; see query_conn.h. */
#include "query_conn.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "admission.h"
#include "config.h"
#include "counters.h"
#include "log.h"
#include "net_util.h"
#include "qproto.h"
#include "query_auth.h"
#include "query_exec.h"
#include "query_service.h"
#include "timeutil.h"
#include "tls.h"
#include "workq.h"

#define QUERY_CLOSE_FLUSH_S 5
#define QUERY_ANSWER_MOVE_BYTES 4096	/* answers this large are moved, not copied */

struct query_job {
	struct workq_job base;	/* first: the workq hands this pointer back */
	struct query_conn *conn;	/* NULL once the connection is gone */
	struct config *cfg;		/* the snapshot the query reads (a reference) */
	char *line;
	struct evbuffer *out;
};

static void query_process_input(struct query_conn *q);
static void query_continue(struct query_conn *q);
static void query_read_when_able(struct query_conn *q);
static void query_conn_resume(void *conn);

void *
query_worker_init(void *arg)
{
	struct query_service *qs = arg;

	/* Linux gives each thread its own nice value: operators' queries use
	 * the cores the writers leave idle. The value was taken at start: the
	 * configuration itself is the loop's to read (a reload swaps it). */
	if (setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), qs->thread_nice) == -1)
		log_warn("query thread: cannot lower its CPU priority");
	/* each job brings its configuration snapshot (query_ctx_use); the
	 * reader handle is this thread's own */
	return query_ctx_new(NULL, qs->store);
}

void
query_worker_fini(void *ctx)
{
	query_ctx_free(ctx);
}

static void
query_job_run(struct workq_job *base, void *ctx)
{
	struct query_job *job = (struct query_job *)base;

	if (ctx == NULL) {
		/* out of memory when the thread started */
		evbuffer_add_printf(job->out, "ERR INTERNAL this query thread has no memory\n");
		return;
	}
	query_ctx_use(ctx, job->cfg);
	query_execute(ctx, job->line, time_now_ms(), job->out);
}

static void
query_job_free(struct query_job *job)
{
	config_release(job->cfg);
	evbuffer_free(job->out);
	free(job->line);
	free(job);
}

static void
query_conn_free(struct query_conn *q)
{
	log_debug("conn=%llu peer=%s operator closed reason=%s", (unsigned long long)q->id,
	    q->peer, q->close_reason != NULL ? q->close_reason : "unknown");
	if (q->job != NULL)
		q->job->conn = NULL;	/* the worker's answer is dropped */
	query_auth_detach(&q->auth);
	TAILQ_REMOVE(&q->qs->conns, q, entry);
	admission_closed(q->qs->admission, &q->addr);
	event_free(q->deadline_ev);
	bufferevent_free(q->bev);
	free(q);
}

void
query_conn_discard(struct query_conn *q)
{
	q->close_reason = "exit";
	query_conn_free(q);
}

static void
query_deferred_free(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	query_conn_free(arg);
}

static void
query_schedule_free(struct query_conn *q)
{
	struct timeval now = { 0, 0 };

	bufferevent_disable(q->bev, EV_READ | EV_WRITE);
	if (event_base_once(q->qs->base, -1, EV_TIMEOUT, query_deferred_free, q, &now) == -1)
		log_warnx("conn=%llu cannot schedule free", (unsigned long long)q->id);
}

void
query_conn_close(struct query_conn *q, const char *reason)
{
	struct timeval flush = { QUERY_CLOSE_FLUSH_S, 0 };

	if (q->state == QUERY_CLOSING)
		return;
	q->state = QUERY_CLOSING;
	q->close_reason = reason;
	evtimer_del(q->deadline_ev);
	bufferevent_disable(q->bev, EV_READ);
	if (evbuffer_get_length(bufferevent_get_output(q->bev)) == 0) {
		query_schedule_free(q);
		return;
	}
	bufferevent_set_timeouts(q->bev, NULL, &flush);
	bufferevent_enable(q->bev, EV_WRITE);
}

/* Appends an answer to the output. A small one is copied into the output's
 * last chain: moving the job's own chain would keep a whole chain (1 KiB and
 * more) alive per 50-byte answer, so pipelined PINGs would hold twenty times
 * the output_buffer_bytes the output counts. A large one is moved, chains
 * and all (they are full). */
static void
query_output_add(struct query_conn *q, struct evbuffer *answer)
{
	struct evbuffer *out = bufferevent_get_output(q->bev);
	size_t len = evbuffer_get_length(answer);

	if (len >= QUERY_ANSWER_MOVE_BYTES) {
		evbuffer_add_buffer(out, answer);
		return;
	}
	/* (evbuffer_remove_buffer would move whole chains too) */
	if (len > 0 && evbuffer_add(out, evbuffer_pullup(answer, -1), len) == -1) {
		log_warnx("conn=%llu peer=%s answer lost: out of memory", (unsigned long long)q->id,
		    q->peer);
		query_conn_close(q, "out_of_memory");	/* answers must not go missing */
	}
}

static void
query_job_done(struct workq_job *base)
{
	struct query_job *job = (struct query_job *)base;
	struct query_conn *q = job->conn;

	if (q != NULL) {
		q->job = NULL;
		query_output_add(q, job->out);
		if (q->state == QUERY_RUNNING) {
			q->state = QUERY_READING;
			query_continue(q);
		}
	}
	query_job_free(job);
}

static void
query_reply_err(struct query_conn *q, const char *code, const char *msg)
{
	evbuffer_add_printf(bufferevent_get_output(q->bev), "ERR %s %s\n", code, msg);
}

/* The first word of line, cut to fit word. */
static void
first_word(const char *line, char *word, size_t len)
{
	size_t n = 0;

	/* split as qproto_split() will split it for query_execute() */
	while (*line == ' ' || *line == '\t')
		line++;
	while (line[n] != '\0' && line[n] != ' ' && line[n] != '\t' && n + 1 < len) {
		word[n] = line[n];
		n++;
	}
	word[n] = '\0';
}

/* len is the line's length: a NUL inside would cut the C string short, so
 * the bytes are checked before anything reads the line as a string. */
static int
query_start(struct query_conn *q, char *line, size_t len)
{
	struct query_job *job;
	char word[24], msg[160];
	size_t pos;

	if (qproto_check_line(line, len, &pos, msg, sizeof msg) == -1) {
		log_warnx("conn=%llu peer=%s query refused reason=bad_byte pos=%zu byte=0x%02x",
		    (unsigned long long)q->id, q->peer, pos, (unsigned char)line[pos - 1]);
		query_reply_err(q, "BAD_ARGUMENT", msg);
		return 0;
	}
	first_word(line, word, sizeof word);
	if (strcasecmp(word, "QUIT") == 0) {
		free(line);
		query_conn_close(q, "quit");
		return -1;
	}
	if (strcasecmp(word, "AUTH") == 0) {
		if (query_auth_begin(&q->auth, line))
			q->state = QUERY_RUNNING;	/* until query_conn_resume() */
		return -1;
	}
	if (word[0] != '\0' && query_auth_permit(&q->auth, word) == -1)
		return 0;
	job = calloc(1, sizeof *job);
	if (job == NULL || (job->out = evbuffer_new()) == NULL) {
		free(job);
		query_reply_err(q, "INTERNAL", "out of memory");
		return 0;
	}
	job->base.run = query_job_run;
	job->base.done = query_job_done;
	job->conn = q;
	job->cfg = config_hold(query_cfg(q->qs));
	job->line = line;
	q->job = job;
	q->state = QUERY_RUNNING;
	counters_query(q->qs->counters);
	workq_submit(q->qs->queries, &job->base);
	return -1;
}

/* Output waiting for the peer above output_buffer_bytes: the next query
 * waits until it has been written (a peer that pipelines queries without
 * reading the answers cannot grow the daemon's memory). */
static bool
query_output_full(struct query_conn *q)
{
	return evbuffer_get_length(bufferevent_get_output(q->bev)) >
	    (size_t)query_cfg(q->qs)->limits.output_buffer_bytes;
}

/* An answer that did not come from a worker (AUTH) is written: read on. */
static void
query_conn_resume(void *conn)
{
	struct query_conn *q = conn;

	if (q->state != QUERY_RUNNING)
		return;
	q->state = QUERY_READING;
	query_continue(q);
}

/* After an answer or a drained output: the next query, or the end. */
static void
query_continue(struct query_conn *q)
{
	if (q->state != QUERY_READING)
		return;
	if (q->qs->stopping) {
		query_conn_close(q, "shutdown");
		return;
	}
	query_process_input(q);
	if (q->state == QUERY_READING && q->peer_eof && !query_output_full(q))
		query_conn_close(q, "peer_closed");
}

/* The query line deadline runs while part of a line waits and lines are being
 * read (not while a query runs or its answer waits to be written); until the
 * TLS handshake is done, the handshake deadline runs instead. */
static void
query_line_clock(struct query_conn *q, bool partial)
{
	struct timeval tv = { (time_t)query_cfg(q->qs)->limits.query_line_timeout_s, 0 };

	if (!tls_handshake_done(q->bev))
		return;
	if (!partial)
		evtimer_del(q->deadline_ev);
	else if (!evtimer_pending(q->deadline_ev, NULL))
		evtimer_add(q->deadline_ev, &tv);
}

/* Takes the next whole line, if any, and starts answering it. */
static void
query_process_input(struct query_conn *q)
{
	struct evbuffer *in = bufferevent_get_input(q->bev);
	size_t max = (size_t)query_cfg(q->qs)->limits.max_query_line_bytes;

	while (q->state == QUERY_READING && !query_output_full(q)) {
		struct evbuffer_ptr eol = evbuffer_search_eol(in, NULL, NULL, EVBUFFER_EOL_LF);
		size_t len;
		char *line;

		if (eol.pos < 0) {
			if (evbuffer_get_length(in) > max) {
				log_warnx("conn=%llu peer=%s query refused reason=line_too_long "
				    "len>%zu", (unsigned long long)q->id, q->peer, max);
				query_reply_err(q, "LINE_TOO_LONG", "a query line is at most "
				    "max_query_line_bytes long");
				counters_refused(q->qs->counters, REFUSE_LINE_TOO_LONG);
				query_conn_close(q, "line_too_long");
				return;
			}
			query_line_clock(q, evbuffer_get_length(in) > 0);
			query_read_when_able(q);	/* the rest of the line is to come */
			return;
		}
		if ((size_t)eol.pos > max) {
			query_reply_err(q, "LINE_TOO_LONG", "a query line is at most "
			    "max_query_line_bytes long");
			counters_refused(q->qs->counters, REFUSE_LINE_TOO_LONG);
			query_conn_close(q, "line_too_long");
			return;
		}
		line = evbuffer_readln(in, &len, EVBUFFER_EOL_CRLF);
		if (line == NULL)
			return;
		query_line_clock(q, false);
		if (query_start(q, line, len) == 0)
			free(line);
	}
	query_line_clock(q, false);	/* not reading lines now */
	query_read_when_able(q);
}

/* The socket is read only while a line can be acted on: no query or AUTH
 * running, no refusal waiting out its delay, the output below
 * output_buffer_bytes. Otherwise what the peer sends waits in the kernel
 * (TCP backpressure) and libevent is not told to read: with the input at
 * its high watermark and reading enabled, libevent 2.1 calls the read
 * callback again on every loop iteration (bufferevent_inbuf_wm_check), which
 * spun the loop at 100% CPU. */
static void
query_read_when_able(struct query_conn *q)
{
	size_t high = 0;
	bool able;

	if (q->state == QUERY_CLOSING)
		return;
	able = !q->peer_eof && (q->state == QUERY_READING ? !query_output_full(q) :
	    /* while a query or AUTH runs, read on up to the watermark only, so
	     * that a peer that gives up is noticed (its AUTH is not checked) */
	    bufferevent_getwatermark(q->bev, EV_READ, NULL, &high) == 0 &&
	    evbuffer_get_length(bufferevent_get_input(q->bev)) < high);
	if (able)
		bufferevent_enable(q->bev, EV_READ);
	else
		bufferevent_disable(q->bev, EV_READ);
}

static void
query_read_cb(struct bufferevent *bev, void *arg)
{
	struct query_conn *q = arg;

	(void)bev;
	query_process_input(q);
	query_read_when_able(q);
}

static void
query_write_cb(struct bufferevent *bev, void *arg)
{
	struct query_conn *q = arg;

	(void)bev;
	if (q->state == QUERY_CLOSING)
		query_schedule_free(q);
	else
		query_continue(q);	/* the answers are out: read on */
}

/* The TLS handshake deadline, or the query line deadline. */
static void
query_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct query_conn *q = arg;
	bool handshake = !tls_handshake_done(q->bev);
	char msg[128];

	(void)fd;
	(void)what;
	if (q->state == QUERY_CLOSING)
		return;
	counters_refused(q->qs->counters, handshake ? REFUSE_HANDSHAKE_DEADLINE : REFUSE_LINE_DEADLINE);
	log_warnx("conn=%llu peer=%s operator timeout reason=%s buffered=%zu",
	    (unsigned long long)q->id, q->peer, handshake ? "handshake_deadline" :
	    "query_line_deadline", evbuffer_get_length(bufferevent_get_input(q->bev)));
	if (handshake) {
		q->close_reason = "handshake_deadline";
		q->state = QUERY_CLOSING;
		query_schedule_free(q);
		return;
	}
	snprintf(msg, sizeof msg, "a query line must end within query_line_timeout_s (%lld s) "
	    "of its first byte", (long long)query_cfg(q->qs)->limits.query_line_timeout_s);
	query_reply_err(q, "LINE_TIMEOUT", msg);
	query_conn_close(q, "query_line_deadline");
}

/* A failed TLS handshake: logged and counted, and a peer that spoke plain
 * text is told so in plain text. */
static bool
query_tls_failed(struct query_conn *q)
{
	static const char refusal[] = "ERR TLS_REQUIRED this port speaks TLS (1.2 or newer); "
	    "connect with TLS (corridorctl --tls)\n";
	char why[256];
	bool plaintext;

	if (!tls_failure(q->bev, why, sizeof why, &plaintext))
		return false;
	counters_refused(q->qs->counters, plaintext ? REFUSE_TLS_REQUIRED : REFUSE_TLS);
	log_warnx("conn=%llu peer=%s operator refused reason=%s error=\"%s\"",
	    (unsigned long long)q->id, q->peer, plaintext ? "tls_required" : "tls", why);
	if (plaintext)
		tls_refuse_plaintext(bufferevent_getfd(q->bev), refusal, sizeof refusal - 1);
	q->close_reason = plaintext ? "tls_required" : "tls";
	q->state = QUERY_CLOSING;
	query_schedule_free(q);
	return true;
}

static void
query_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct query_conn *q = arg;

	(void)bev;
	if (what & BEV_EVENT_CONNECTED) {
		char tls[96];

		evtimer_del(q->deadline_ev);	/* the TLS handshake is done */
		tls_describe(q->bev, tls, sizeof tls);
		log_debug("conn=%llu peer=%s operator tls=\"%s\"", (unsigned long long)q->id,
		    q->peer, tls);
		return;
	}
	if ((what & BEV_EVENT_EOF) && q->state != QUERY_CLOSING) {
		/* A half-closed peer (printf ... | nc) still gets its answers. */
		q->peer_eof = true;
		query_auth_peer_closed(&q->auth);
		query_continue(q);
		return;
	}
	if ((what & BEV_EVENT_TIMEOUT) && (what & BEV_EVENT_WRITING)) {
		/* nothing more can reach a peer that takes nothing: no ERR, no flush */
		counters_refused(q->qs->counters, REFUSE_WRITE_TIMEOUT);
		log_warnx("conn=%llu peer=%s operator timeout reason=write_timeout unread=%zu",
		    (unsigned long long)q->id, q->peer,
		    evbuffer_get_length(bufferevent_get_output(q->bev)));
		q->close_reason = "write_timeout";
		q->state = QUERY_CLOSING;
		query_schedule_free(q);
		return;
	}
	if ((what & BEV_EVENT_TIMEOUT) && (what & BEV_EVENT_READING) &&
	    q->state != QUERY_CLOSING) {
		counters_refused(q->qs->counters, REFUSE_IDLE);
		log_info("conn=%llu peer=%s operator timeout reason=idle", (unsigned long long)q->id,
		    q->peer);
		query_reply_err(q, "IDLE_TIMEOUT", "nothing received within idle_timeout_s");
		query_conn_close(q, "idle_timeout");
		return;
	}
	if ((what & BEV_EVENT_ERROR) && q->state != QUERY_CLOSING && query_tls_failed(q))
		return;
	if (q->state != QUERY_CLOSING)
		q->close_reason = what & BEV_EVENT_TIMEOUT ? "idle_timeout" : "socket_error";
	q->state = QUERY_CLOSING;
	query_schedule_free(q);
}

void
query_conn_accept(struct query_service *qs, evutil_socket_t fd, const struct sockaddr *sa,
    int salen)
{
	struct query_conn *q;
	struct timeval idle = { (time_t)query_cfg(qs)->limits.idle_timeout_s, 0 };
	struct timeval write = { (time_t)query_cfg(qs)->limits.write_timeout_s, 0 };
	struct timeval handshake = { (time_t)query_cfg(qs)->limits.handshake_timeout_s, 0 };
	struct conn_addr addr;
	enum refuse_reason why;

	(void)salen;
	if (!admission_admit(qs->admission, "operator", sa, &addr, &why)) {
		const char *msg = why == REFUSE_STOPPING ?
		    "ERR SHUTTING_DOWN the daemon is stopping\n" : why == REFUSE_PER_IP ?
		    "ERR TOO_MANY_CONNECTIONS too many connections from this address "
		    "(max_connections_per_ip)\n" :
		    "ERR TOO_MANY_CONNECTIONS too many connections (max_connections)\n";

		/* a TLS peer expects a handshake, not a line: it only sees the close */
		if (qs->tls == NULL &&
		    send(fd, msg, strlen(msg), MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
			log_debug("refusal line not sent fd=%d", (int)fd);
		evutil_closesocket(fd);
		return;
	}
	q = calloc(1, sizeof *q);
	if (q == NULL) {
		admission_closed(qs->admission, &addr);
		evutil_closesocket(fd);
		return;
	}
	q->qs = qs;
	q->id = admission_next_id(qs->admission);
	q->state = QUERY_READING;
	q->addr = addr;
	net_format_peer(sa, q->peer, sizeof q->peer);
	net_set_nodelay(fd);
	q->bev = qs->tls != NULL ? tls_bufferevent_new(qs->base, qs->tls, fd) :
	    bufferevent_socket_new(qs->base, fd, BEV_OPT_CLOSE_ON_FREE);
	q->deadline_ev = evtimer_new(qs->base, query_deadline_cb, q);
	if (q->bev == NULL || q->deadline_ev == NULL) {
		if (q->bev != NULL)
			bufferevent_free(q->bev);
		else
			evutil_closesocket(fd);
		if (q->deadline_ev != NULL)
			event_free(q->deadline_ev);
		admission_closed(qs->admission, &addr);
		free(q);
		return;
	}
	TAILQ_INSERT_TAIL(&qs->conns, q, entry);
	query_auth_attach(&q->auth, qs, q->id, q->peer, bufferevent_get_output(q->bev),
	    query_conn_resume, q);
	bufferevent_setwatermark(q->bev, EV_READ, 0,
	    (size_t)query_cfg(qs)->limits.max_query_line_bytes + 2);
	bufferevent_setcb(q->bev, query_read_cb, query_write_cb, query_event_cb, q);
	bufferevent_set_timeouts(q->bev, &idle, &write);
	if (qs->tls != NULL)
		evtimer_add(q->deadline_ev, &handshake);
	bufferevent_enable(q->bev, EV_READ);
	log_debug("conn=%llu peer=%s operator connection tls=%d", (unsigned long long)q->id,
	    q->peer, qs->tls != NULL);
}

void
query_service_stop(struct query_service *qs)
{
	struct query_conn *q;

	qs->stopping = true;
	TAILQ_FOREACH(q, &qs->conns, entry)
		if (q->state == QUERY_READING)
			query_conn_close(q, "shutdown");
}

bool
query_service_idle(const struct query_service *qs)
{
	return TAILQ_EMPTY(&qs->conns);
}

void
query_service_discard_all(struct query_service *qs)
{
	struct query_conn *q;

	while ((q = TAILQ_FIRST(&qs->conns)) != NULL)
		query_conn_discard(q);
}

void
query_service_reconfigured(struct query_service *qs)
{
	struct query_conn *q;

	TAILQ_FOREACH(q, &qs->conns, entry)
		bufferevent_setwatermark(q->bev, EV_READ, 0,
		    (size_t)query_cfg(qs)->limits.max_query_line_bytes + 2);
}
