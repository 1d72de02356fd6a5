/* Carrier connections; see ingest_internal.h and docs/wire-protocol.md. */
#include "ingest_internal.h"

#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "counters.h"
#include "config.h"
#include "admission.h"
#include "frame.h"
#include "ingest.h"
#include "ingest_auth.h"
#include "ingest_flow.h"
#include "log.h"
#include "net_util.h"
#include "tls.h"
#include "validate.h"
#include "wire.h"
#include "wire_scan.h"

#define INGEST_SMALL_FRAME 1024
#define INGEST_CLOSE_FLUSH_S 5

static void ingest_read_cb(struct bufferevent *bev, void *arg);

static void
ingest_conn_free(struct ingest_conn *c)
{
	struct ingest *ing = c->ing;

	log_info("conn=%llu carrier=%s peer=%s closed reason=%s", (unsigned long long)c->id,
	    c->carrier != NULL ? c->carrier->code : "-", c->peer,
	    c->close_reason != NULL ? c->close_reason : "unknown");
	if (c->carrier != NULL && c->carrier->session == c)
		c->carrier->session = NULL;
	ingest_frame_release(c);
	ingest_auth_detach(c);
	TAILQ_REMOVE(&ing->conns, c, entry);
	admission_closed(ing->admission, &c->addr);
	event_free(c->deadline_ev);
	bufferevent_free(c->bev);
	free(c);
}

void
ingest_conn_discard(struct ingest_conn *c)
{
	ingest_auth_detach(c);
	TAILQ_REMOVE(&c->ing->conns, c, entry);
	admission_closed(c->ing->admission, &c->addr);
	event_free(c->deadline_ev);
	bufferevent_free(c->bev);
	free(c);
}

static void
ingest_write_frame(struct ingest_conn *c, const Corridor__ServerMessage *msg)
{
	uint8_t small[INGEST_SMALL_FRAME];
	size_t n = wire_frame_size(&msg->base);
	struct evbuffer *out = bufferevent_get_output(c->bev);

	if (n <= sizeof small) {
		evbuffer_add(out, small, wire_pack_into(&msg->base, small));
		return;
	}
	{
		uint8_t *buf = malloc(n);

		if (buf == NULL) {
			log_warnx("conn=%llu cannot allocate %zu bytes for a frame",
			    (unsigned long long)c->id, n);
			return;
		}
		evbuffer_add(out, buf, wire_pack_into(&msg->base, buf));
		free(buf);
	}
}

/* Queues a frame for the carrier, unless the connection is closing; a peer
 * that lets output_buffer_bytes pile up unread is dropped. */
static void
ingest_send(struct ingest_conn *c, const Corridor__ServerMessage *msg)
{
	size_t queued;

	if (c->state == INGEST_CLOSING)
		return;
	ingest_write_frame(c, msg);
	queued = evbuffer_get_length(bufferevent_get_output(c->bev));
	if (queued > (size_t)ingest_cfg(c->ing)->limits.output_buffer_bytes) {
		log_warnx("conn=%llu carrier=%s not reading its answers queued=%zu",
		    (unsigned long long)c->id, c->carrier != NULL ? c->carrier->code : "-", queued);
		counters_refused(c->ing->counters, REFUSE_SLOW_READER);
		ingest_conn_close(c, "slow_reader", 0, NULL);
	}
}

static void
ingest_send_error(struct ingest_conn *c, Corridor__ErrorCode code, const char *message)
{
	Corridor__ServerMessage msg = CORRIDOR__SERVER_MESSAGE__INIT;
	Corridor__Error err = CORRIDOR__ERROR__INIT;

	err.has_code = 1;
	err.code = code;
	err.message = (char *)message;
	msg.body_case = CORRIDOR__SERVER_MESSAGE__BODY_ERROR;
	msg.error = &err;
	ingest_write_frame(c, &msg);	/* also while closing: it is the last word */
}

void
ingest_conn_send_rejection(struct ingest_conn *c, uint64_t seq, const struct reject *rej)
{
	Corridor__ServerMessage msg = CORRIDOR__SERVER_MESSAGE__INIT;
	Corridor__Rejection r = CORRIDOR__REJECTION__INIT;

	r.has_seq = 1;
	r.seq = seq;
	r.has_reason = 1;
	r.reason = rej->reason;
	r.message = (char *)rej->message;
	r.has_retryable = 1;
	r.retryable = rej->retryable;
	msg.body_case = CORRIDOR__SERVER_MESSAGE__BODY_REJECTION;
	msg.rejection = &r;
	ingest_send(c, &msg);
}

void
ingest_conn_send_ack(struct ingest_conn *c)
{
	Corridor__ServerMessage msg = CORRIDOR__SERVER_MESSAGE__INIT;
	Corridor__Ack ack = CORRIDOR__ACK__INIT;

	if (c->carrier == NULL || c->state == INGEST_CLOSING)
		return;
	if (c->carrier->acked_seq <= c->ack_sent && !c->ack_wanted)
		return;
	ack.has_acked_seq = 1;
	ack.acked_seq = c->carrier->acked_seq;
	msg.body_case = CORRIDOR__SERVER_MESSAGE__BODY_ACK;
	msg.ack = &ack;
	ingest_send(c, &msg);
	c->ack_sent = c->carrier->acked_seq;
	c->ack_wanted = false;
}

static void
ingest_deferred_free(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	ingest_conn_free(arg);
}

static void
ingest_schedule_free(struct ingest_conn *c)
{
	struct timeval now = { 0, 0 };

	/* Never free inside the connection's own callback stack. */
	bufferevent_disable(c->bev, EV_READ | EV_WRITE);
	if (event_base_once(c->ing->base, -1, EV_TIMEOUT, ingest_deferred_free, c, &now) == -1)
		log_warnx("conn=%llu cannot schedule free", (unsigned long long)c->id);
}

void
ingest_conn_close(struct ingest_conn *c, const char *reason, Corridor__ErrorCode code,
    const char *message)
{
	struct timeval flush = { INGEST_CLOSE_FLUSH_S, 0 };

	if (c->state == INGEST_CLOSING)
		return;
	c->state = INGEST_CLOSING;
	c->close_reason = reason;
	evtimer_del(c->deadline_ev);
	if (c->carrier != NULL && c->carrier->session == c)
		c->carrier->session = NULL;
	if (code != 0) {
		counters_session_error(c->ing->counters, code);
		ingest_send_error(c, code, message);
	}
	bufferevent_disable(c->bev, EV_READ);
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0) {
		ingest_schedule_free(c);
		return;
	}
	/* the write callback frees it once the last frame is out */
	bufferevent_set_timeouts(c->bev, NULL, &flush);
	bufferevent_enable(c->bev, EV_WRITE);
}

/* The idle timeout runs while the connection is read; write_timeout_s while
 * answers wait for a carrier that takes none of them (also while it is
 * paused, when the idle timeout does not run). */
static void
ingest_set_idle_timeout(struct ingest_conn *c, int64_t seconds)
{
	struct timeval tv = { (time_t)seconds, 0 };
	struct timeval write = { (time_t)ingest_cfg(c->ing)->limits.write_timeout_s, 0 };

	bufferevent_set_timeouts(c->bev, seconds > 0 ? &tv : NULL, &write);
}

/* Mutual TLS: a client certificate the carrier port asks for must name the
 * carrier of the Hello. */
bool
ingest_client_cert_ok(struct ingest_conn *c, const struct carrier *carrier)
{
	char msg[256], names[128];

	if (tls_check_carrier_cert(c->bev, ingest_cfg(c->ing)->tls.carrier.client_cert,
	    carrier->code, msg, sizeof msg, names, sizeof names) == 0)
		return true;
	counters_refused(c->ing->counters, REFUSE_CLIENT_CERT);
	log_warnx("conn=%llu peer=%s refused reason=client_cert carrier=%s cert_names=\"%s\"",
	    (unsigned long long)c->id, c->peer, carrier->code, names);
	ingest_conn_close(c, "client_cert", CORRIDOR__ERROR_CODE__AUTH_FAILED, msg);
	return false;
}

static void
ingest_handle_hello(struct ingest_conn *c, const Corridor__Hello *h)
{
	if (!h->has_protocol_version || h->protocol_version != WIRE_PROTOCOL_VERSION) {
		ingest_conn_close(c, "version_unsupported", CORRIDOR__ERROR_CODE__VERSION_UNSUPPORTED,
		    "this daemon speaks protocol version 1");
		return;
	}
	if (h->carrier == NULL || !carrier_code_valid(h->carrier)) {
		ingest_conn_close(c, "bad_hello", CORRIDOR__ERROR_CODE__BAD_HELLO,
		    "hello needs a carrier code of capital letters and digits");
		return;
	}
	/* the Welcome, or a (delayed) refusal, follows once it is checked */
	ingest_auth_begin(c, h);
}

void
ingest_conn_welcome(struct ingest_conn *c, struct carrier *carrier,
    const struct credential *cred)
{
	struct ingest *ing = c->ing;
	Corridor__ServerMessage msg = CORRIDOR__SERVER_MESSAGE__INIT;
	Corridor__Welcome w = CORRIDOR__WELCOME__INIT;
	Corridor__Limits lim = CORRIDOR__LIMITS__INIT;
	const struct limits *l = &ingest_cfg(ing)->limits;

	if (carrier->session != NULL)
		ingest_conn_close(carrier->session, "replaced", CORRIDOR__ERROR_CODE__REPLACED,
		    "a newer session of this carrier took over");
	carrier->session = c;
	c->carrier = carrier;
	c->state = INGEST_STREAMING;
	c->ack_sent = carrier->acked_seq;
	snprintf(c->cred_name, sizeof c->cred_name, "%s", cred->name);
	snprintf(c->cred_hash, sizeof c->cred_hash, "%s", cred->hash_text);
	c->max_frame_bytes = (uint32_t)l->max_frame_bytes;
	c->max_batch_updates = (uint32_t)l->max_batch_updates;
	evtimer_del(c->deadline_ev);	/* the handshake is done */
	ingest_set_idle_timeout(c, l->idle_timeout_s);

	lim.has_max_frame_bytes = lim.has_max_batch_updates = lim.has_max_inflight_updates = 1;
	lim.has_max_string_bytes = lim.has_max_remark_bytes = 1;
	lim.max_frame_bytes = (uint32_t)l->max_frame_bytes;
	lim.max_batch_updates = (uint32_t)l->max_batch_updates;
	lim.max_inflight_updates = (uint32_t)l->max_inflight_updates;
	lim.max_string_bytes = (uint32_t)l->max_string_bytes;
	lim.max_remark_bytes = (uint32_t)l->max_remark_bytes;
	w.has_protocol_version = 1;
	w.protocol_version = WIRE_PROTOCOL_VERSION;
	w.server_version = (char *)CORRIDOR_VERSION;
	w.has_acked_seq = 1;
	w.acked_seq = carrier->acked_seq;
	w.limits = &lim;
	msg.body_case = CORRIDOR__SERVER_MESSAGE__BODY_WELCOME;
	msg.welcome = &w;
	ingest_send(c, &msg);
	log_info("conn=%llu carrier=%s peer=%s hello client=\"%s\" credential=%s acked_seq=%llu",
	    (unsigned long long)c->id, carrier->code, c->peer, c->client_name[0] ? c->client_name : "-",
	    cred->name, (unsigned long long)carrier->acked_seq);
	/* frames the carrier sent right after its Hello waited in the buffer */
	if (c->paused == 0)
		bufferevent_enable(c->bev, EV_READ);
	ingest_conn_take_input(c);
}

/* nul_hello, nul_updates: see wire_scan_carrier_message(). */
static void
ingest_handle_message(struct ingest_conn *c, const Corridor__CarrierMessage *m, bool nul_hello,
    const bool *nul_updates)
{
	if (c->state == INGEST_HELLO) {
		if (m->body_case != CORRIDOR__CARRIER_MESSAGE__BODY_HELLO)
			ingest_conn_close(c, "no_hello", CORRIDOR__ERROR_CODE__BAD_HELLO,
			    "the first message must be a Hello");
		else if (nul_hello)
			ingest_conn_close(c, "bad_hello", CORRIDOR__ERROR_CODE__BAD_HELLO,
			    "a string of the Hello holds a NUL byte");
		else
			ingest_handle_hello(c, m->hello);
		return;
	}
	if (m->body_case != CORRIDOR__CARRIER_MESSAGE__BODY_BATCH) {
		ingest_conn_close(c, "unexpected_message", CORRIDOR__ERROR_CODE__PROTOCOL,
		    "after the Hello only Batch messages are expected");
		return;
	}
	ingest_batch_take(c, m->batch, nul_updates);
}

/* The frame deadline runs while a frame is partly read and the connection is
 * being read (a pause is the daemon's doing, not the peer's). During the
 * handshake its own deadline runs instead, and when draining none. */
static void
ingest_frame_clock(struct ingest_conn *c, bool partial)
{
	struct timeval tv = { (time_t)ingest_cfg(c->ing)->limits.frame_timeout_s, 0 };

	if (c->state != INGEST_STREAMING)
		return;
	if (!partial || c->paused != 0)
		evtimer_del(c->deadline_ev);
	else if (!evtimer_pending(c->deadline_ev, NULL))
		evtimer_add(c->deadline_ev, &tv);
}

void
ingest_conn_take_input(struct ingest_conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	const struct limits *l = &ingest_cfg(c->ing)->limits;
	size_t read_buffer = (size_t)l->conn_read_buffer_bytes;

	while (c->state == INGEST_HELLO || c->state == INGEST_STREAMING ||
	    c->state == INGEST_DRAINING) {
		/* Before the Hello only a small frame: it fits the read buffer
		 * (max_hello_frame_bytes <= the least conn_read_buffer_bytes), so
		 * an unauthenticated peer never holds the shared budget. */
		bool hello = c->state == INGEST_HELLO;
		uint32_t max = hello ? (uint32_t)l->max_hello_frame_bytes : c->max_frame_bytes;
		uint8_t hdr[FRAME_HEADER_BYTES];
		uint32_t len = 0;
		size_t avail = evbuffer_get_length(in);
		enum frame_status st;
		Corridor__CarrierMessage *m;
		uint8_t *data;
		bool *nul_updates = NULL, nul_hello = false;
		char msg[128];

		if (c->paused != 0 && c->state != INGEST_DRAINING) {
			ingest_frame_clock(c, false);
			return;
		}
		evbuffer_copyout(in, hdr, avail < sizeof hdr ? avail : sizeof hdr);
		st = frame_parse_header(hdr, avail, max, &len);
		if (st == FRAME_NEED_MORE) {
			/* a frame above the read buffer needs the shared budget */
			if (avail >= FRAME_HEADER_BYTES && c->state == INGEST_STREAMING &&
			    (size_t)len + FRAME_HEADER_BYTES > read_buffer)
				ingest_frame_reserve(c, (size_t)len + FRAME_HEADER_BYTES);
			ingest_frame_clock(c, avail > 0);
			return;
		}
		if (st != FRAME_READY) {
			log_warnx("conn=%llu peer=%s bad frame reason=%s len=%u max=%u hello=%d",
			    (unsigned long long)c->id, c->peer, frame_status_name(st), len, max,
			    hello);
			snprintf(msg, sizeof msg, "frame length %u is outside 1..%u%s", len, max,
			    hello ? " (max_hello_frame_bytes: the limit before the Hello)" : "");
			ingest_conn_close(c, frame_status_name(st), st == FRAME_TOO_LARGE ?
			    CORRIDOR__ERROR_CODE__FRAME_TOO_LARGE : CORRIDOR__ERROR_CODE__PROTOCOL, msg);
			return;
		}
		evbuffer_drain(in, FRAME_HEADER_BYTES);
		ingest_frame_release(c);	/* the whole frame is here now */
		ingest_frame_clock(c, false);
		data = evbuffer_pullup(in, len);
		m = corridor__carrier_message__unpack(&c->ing->decode_arena.allocator, len, data);
		if (m != NULL) {
			/* strings cut at a NUL by the decoder: which updates hold one */
			size_t n = m->body_case == CORRIDOR__CARRIER_MESSAGE__BODY_BATCH ?
			    m->batch->n_updates : 0;

			nul_updates = arena_alloc(&c->ing->decode_arena, n > 0 ? n : 1);
			nul_hello = nul_updates != NULL &&
			    wire_scan_carrier_message(data, len, nul_updates, n);
			if (nul_updates == NULL)
				m = NULL;	/* no room left under max_decode_bytes */
		}
		evbuffer_drain(in, len);
		if (m == NULL) {
			log_warnx("conn=%llu peer=%s bad frame reason=not_a_carrier_message len=%u "
			    "decoded_bytes=%zu", (unsigned long long)c->id, c->peer, len,
			    c->ing->decode_arena.used);
			arena_reset(&c->ing->decode_arena);
			/* the first frame must be a Hello: whatever else it is (a
			 * Welcome or Ack sent back, garbage) is a bad Hello */
			ingest_conn_close(c, "undecodable", hello ? CORRIDOR__ERROR_CODE__BAD_HELLO :
			    CORRIDOR__ERROR_CODE__PROTOCOL, hello ? "the first frame is not a "
			    "Hello (it does not decode as a CarrierMessage)" : "the frame is not a "
			    "valid CarrierMessage (or decodes to more than max_decode_bytes)");
			return;
		}
		ingest_handle_message(c, m, nul_hello, nul_updates);
		arena_reset(&c->ing->decode_arena);	/* frees m */
	}
}

static void
ingest_read_cb(struct bufferevent *bev, void *arg)
{
	struct ingest_conn *c = arg;
	size_t high = 0;

	ingest_conn_take_input(c);
	/* While its Hello is checked a connection is still read, to notice a peer
	 * that gives up; but once what it sent behind the Hello fills the read
	 * buffer, libevent 2.1 would call this again on every loop iteration
	 * (its input is at the high watermark and reading is enabled): stop
	 * reading, the Welcome reads on. */
	if (c->state == INGEST_AUTH &&
	    bufferevent_getwatermark(bev, EV_READ, NULL, &high) == 0 && high > 0 &&
	    evbuffer_get_length(bufferevent_get_input(bev)) >= high)
		bufferevent_disable(bev, EV_READ);
}

static void
ingest_write_cb(struct bufferevent *bev, void *arg)
{
	struct ingest_conn *c = arg;

	(void)bev;
	if (c->state == INGEST_CLOSING)
		ingest_schedule_free(c);
}

/* The handshake deadline (TLS and Hello, counted from accept; bytes trickling
 * in do not extend it) or the deadline of a frame being read. */
static void
ingest_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ingest_conn *c = arg;
	const struct limits *l = &ingest_cfg(c->ing)->limits;
	bool hello = c->state == INGEST_HELLO;
	char msg[160];

	(void)fd;
	(void)what;
	if (c->state != INGEST_HELLO && c->state != INGEST_STREAMING)
		return;
	counters_refused(c->ing->counters, hello ? REFUSE_HANDSHAKE_DEADLINE : REFUSE_FRAME_DEADLINE);
	log_warnx("conn=%llu carrier=%s peer=%s timeout reason=%s buffered=%zu tls_handshake=%s",
	    (unsigned long long)c->id, c->carrier != NULL ? c->carrier->code : "-", c->peer,
	    hello ? "handshake_deadline" : "frame_deadline",
	    evbuffer_get_length(bufferevent_get_input(c->bev)),
	    !tls_bufferevent_is_tls(c->bev) ? "none" : tls_handshake_done(c->bev) ? "done" :
	    "unfinished");
	if (hello)
		snprintf(msg, sizeof msg, "no Hello within handshake_timeout_s (%lld s) of "
		    "connecting", (long long)l->handshake_timeout_s);
	else
		snprintf(msg, sizeof msg, "a frame was not complete within frame_timeout_s "
		    "(%lld s) of its first byte", (long long)l->frame_timeout_s);
	/* no Error frame can travel before the TLS handshake is done */
	ingest_conn_close(c, hello ? "handshake_deadline" : "frame_deadline",
	    tls_handshake_done(c->bev) ? CORRIDOR__ERROR_CODE__TIMEOUT : 0, msg);
}

/* An Error frame into buf (INGEST_SMALL_FRAME bytes); returns its size. */
static size_t
ingest_pack_error(uint8_t *buf, Corridor__ErrorCode code, const char *message)
{
	Corridor__ServerMessage msg = CORRIDOR__SERVER_MESSAGE__INIT;
	Corridor__Error err = CORRIDOR__ERROR__INIT;

	err.has_code = 1;
	err.code = code;
	err.message = (char *)message;
	msg.body_case = CORRIDOR__SERVER_MESSAGE__BODY_ERROR;
	msg.error = &err;
	return wire_pack_into(&msg.base, buf);
}

/* A failed TLS handshake: logged and counted, and a peer that spoke plain
 * text gets its Error frame in plain text, so that it learns why. */
static bool
ingest_tls_failed(struct ingest_conn *c)
{
	uint8_t frame[INGEST_SMALL_FRAME];
	char why[256];
	bool plaintext;

	if (!tls_failure(c->bev, why, sizeof why, &plaintext))
		return false;
	counters_refused(c->ing->counters, plaintext ? REFUSE_TLS_REQUIRED : REFUSE_TLS);
	log_warnx("conn=%llu peer=%s refused reason=%s error=\"%s\"", (unsigned long long)c->id,
	    c->peer, plaintext ? "tls_required" : "tls", why);
	if (plaintext)
		tls_refuse_plaintext(bufferevent_getfd(c->bev), frame, ingest_pack_error(frame,
		    CORRIDOR__ERROR_CODE__PROTOCOL, "this port speaks TLS (1.2 or newer); "
		    "connect with TLS"));
	c->close_reason = plaintext ? "tls_required" : "tls";
	c->state = INGEST_CLOSING;
	ingest_schedule_free(c);
	return true;
}

static void
ingest_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct ingest_conn *c = arg;

	(void)bev;
	if (what & BEV_EVENT_CONNECTED) {
		char tls[96];

		tls_describe(c->bev, tls, sizeof tls);
		log_debug("conn=%llu peer=%s tls=\"%s\"", (unsigned long long)c->id, c->peer, tls);
		return;
	}
	if (c->state == INGEST_CLOSING) {
		ingest_schedule_free(c);
		return;
	}
	if ((what & BEV_EVENT_TIMEOUT) && (what & BEV_EVENT_WRITING)) {
		/* nothing more reaches a peer that takes nothing: no Error frame */
		counters_refused(c->ing->counters, REFUSE_WRITE_TIMEOUT);
		log_warnx("conn=%llu carrier=%s peer=%s timeout reason=write_timeout unread=%zu",
		    (unsigned long long)c->id, c->carrier != NULL ? c->carrier->code : "-", c->peer,
		    evbuffer_get_length(bufferevent_get_output(c->bev)));
		c->close_reason = "write_timeout";
		c->state = INGEST_CLOSING;
		if (c->carrier != NULL && c->carrier->session == c)
			c->carrier->session = NULL;
		ingest_schedule_free(c);
		return;
	}
	if (what & BEV_EVENT_TIMEOUT) {
		/* what was waiting, in the daemon and in the kernel, says whether
		 * the peer or the daemon stalled */
		int queued = -1;

		(void)ioctl(bufferevent_getfd(c->bev), FIONREAD, &queued);
		log_info("conn=%llu carrier=%s timeout state=%d buffered=%zu kernel_queued=%d "
		    "paused=%u", (unsigned long long)c->id, c->carrier != NULL ? c->carrier->code : "-",
		    (int)c->state, evbuffer_get_length(bufferevent_get_input(c->bev)), queued,
		    c->paused);
		counters_refused(c->ing->counters, REFUSE_IDLE);
		ingest_conn_close(c, "idle_timeout", CORRIDOR__ERROR_CODE__TIMEOUT,
		    "nothing received within idle_timeout_s");
	}
	else {
		if ((what & BEV_EVENT_ERROR) && ingest_tls_failed(c))
			return;
		c->close_reason = what & BEV_EVENT_EOF ? "peer_closed" : "socket_error";
		c->state = INGEST_CLOSING;
		if (c->carrier != NULL && c->carrier->session == c)
			c->carrier->session = NULL;
		ingest_schedule_free(c);
	}
}

/* Refuses a connection before a session exists: one Error frame, written
 * without blocking (a frame this small fits in any socket buffer), then close.
 * A TLS port only closes: the peer expects a handshake, not a frame. */
static void
ingest_refuse(struct ingest *ing, evutil_socket_t fd, enum refuse_reason why)
{
	uint8_t frame[INGEST_SMALL_FRAME];
	size_t n;

	if (ing->tls == NULL) {
		n = ingest_pack_error(frame, why == REFUSE_STOPPING ?
		    CORRIDOR__ERROR_CODE__SHUTTING_DOWN : CORRIDOR__ERROR_CODE__TOO_MANY_CONNECTIONS,
		    why == REFUSE_STOPPING ? "the daemon is stopping" : why == REFUSE_PER_IP ?
		    "too many connections from this address (max_connections_per_ip); retry later" :
		    "too many connections (max_connections); retry later");
		if (send(fd, frame, n, MSG_DONTWAIT | MSG_NOSIGNAL) != (ssize_t)n)
			log_debug("refusal frame not sent fd=%d", (int)fd);
	}
	evutil_closesocket(fd);
}

void
ingest_accept(struct ingest *ing, evutil_socket_t fd, const struct sockaddr *sa, int salen)
{
	struct ingest_conn *c;
	const struct limits *l = &ingest_cfg(ing)->limits;
	struct timeval deadline = { (time_t)l->handshake_timeout_s, 0 };
	struct conn_addr addr;
	enum refuse_reason why;

	(void)salen;
	if (!admission_admit(ing->admission, "carrier", sa, &addr, &why)) {
		ingest_refuse(ing, fd, why);
		return;
	}
	c = calloc(1, sizeof *c);
	if (c == NULL) {
		log_warnx("carrier connection refused reason=out_of_memory");
		admission_closed(ing->admission, &addr);
		evutil_closesocket(fd);
		return;
	}
	c->ing = ing;
	c->id = admission_next_id(ing->admission);
	c->state = INGEST_HELLO;
	c->max_frame_bytes = (uint32_t)l->max_frame_bytes;
	c->max_batch_updates = (uint32_t)l->max_batch_updates;
	c->addr = addr;
	net_format_peer(sa, c->peer, sizeof c->peer);
	net_set_nodelay(fd);
	c->bev = ing->tls != NULL ? tls_bufferevent_new(ing->base, ing->tls, fd) :
	    bufferevent_socket_new(ing->base, fd, BEV_OPT_CLOSE_ON_FREE);
	c->deadline_ev = evtimer_new(ing->base, ingest_deadline_cb, c);
	if (c->bev == NULL || c->deadline_ev == NULL) {
		log_warnx("conn=%llu peer=%s refused reason=out_of_memory", (unsigned long long)c->id,
		    c->peer);
		if (c->bev != NULL)
			bufferevent_free(c->bev);
		else
			evutil_closesocket(fd);
		if (c->deadline_ev != NULL)
			event_free(c->deadline_ev);
		admission_closed(ing->admission, &addr);
		free(c);
		return;
	}
	TAILQ_INSERT_TAIL(&ing->conns, c, entry);
	/* Read ahead at most conn_read_buffer_bytes; larger frames reserve
	 * from the shared budget (ingest_flow.c). */
	bufferevent_setwatermark(c->bev, EV_READ, 0, (size_t)l->conn_read_buffer_bytes);
	bufferevent_setcb(c->bev, ingest_read_cb, ingest_write_cb, ingest_event_cb, c);
	/* A deadline, not an idle timeout: one byte a second does not extend it. */
	evtimer_add(c->deadline_ev, &deadline);
	ingest_set_idle_timeout(c, 0);		/* only write_timeout_s until the Welcome */
	bufferevent_enable(c->bev, EV_READ);
	log_debug("conn=%llu peer=%s carrier connection tls=%d", (unsigned long long)c->id, c->peer,
	    ing->tls != NULL);
}

void
ingest_conn_drain(struct ingest_conn *c)
{
	if (c->state == INGEST_DRAINING || c->state == INGEST_CLOSING)
		return;
	if (c->state != INGEST_STREAMING) {
		ingest_conn_close(c, "shutdown", CORRIDOR__ERROR_CODE__SHUTTING_DOWN,
		    "the daemon is stopping");
		return;
	}
	/* Everything already read from the socket is taken in and will be
	 * committed and acknowledged; nothing more is read. */
	c->state = INGEST_DRAINING;
	ingest_conn_take_input(c);
	bufferevent_disable(c->bev, EV_READ);
	bufferevent_set_timeouts(c->bev, NULL, NULL);
}
