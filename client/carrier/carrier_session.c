/*
 * The carrier session state machine; see carrier_session.h. Queued updates
 * stay in seq order in one array: [base, next) were sent and await their
 * ack, [next, n) wait for the window. A reconnect rewinds next to base.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "carrier_session.h"
#include "carrier_hello.h"
#include "ctl.h"
#include "frame.h"
#include "log.h"
#include "update_io.h"
#include "validate.h"
#include "wire.h"

#define CS_SILENCE_MS 60000	/* unacknowledged updates and no word from the daemon */
#define CS_RETRY_MS 500
#define CS_RETRY_MAX_MS 10000
#define CS_REPORT_MAX 20	/* rejections reported one by one, the rest counted */
#define CS_TRIES_MAX 30	/* retryable rejections of one update before giving up */
#define CS_BACKOFF_MAX_MS 5000

enum pstate { P_WAIT, P_INFLIGHT, P_RETRY, P_REJECTED };

struct pending {
	Corridor__ShipmentUpdate *u;
	int64_t retry_at;
	uint8_t st;
	uint8_t expect_reject;
	uint8_t sent_once;
	uint8_t tries;		/* retryable rejections so far */
};

/* One carrier's session; the thread that runs the sessions owns it. */
struct csession {
	struct cs_opts o;
	enum cs_state state;
	struct ctl_conn conn;	/* fd -1 between sessions */
	uint64_t acked;
	struct pending *q;
	size_t n, cap, base, next, nretry;
	uint8_t *out;
	size_t outlen, outoff, outcap;
	uint8_t *in;
	size_t inlen, incap;
	uint32_t max_frame, max_batch, window;
	int attempts;
	int64_t backoff_until, last_rx;
	struct cs_stats st;
	char err[256];
};

struct csession *
csession_new(const struct cs_opts *o)
{
	struct csession *cs = calloc(1, sizeof *cs);

	if (cs == NULL)
		return NULL;
	cs->o = *o;
	if (cs->o.batch == 0)
		cs->o.batch = 500;
	if (cs->o.free_update == NULL)
		cs->o.free_update = update_free;
	cs->conn.fd = -1;
	cs->max_frame = FRAME_DEFAULT_MAX_BYTES;
	return cs;
}

static void
cs_release_fd(struct csession *cs)
{
	ctl_conn_close(&cs->conn);
	cs->outlen = cs->outoff = cs->inlen = 0;
}

void
csession_free(struct csession *cs)
{
	if (cs == NULL)
		return;
	cs_release_fd(cs);
	for (size_t i = cs->base; i < cs->n; i++)
		cs->o.free_update(cs->q[i].u);
	free(cs->q);
	free(cs->out);
	free(cs->in);
	free(cs);
}

enum cs_state csession_state(const struct csession *cs) { return cs->state; }
const struct cs_stats *csession_stats(const struct csession *cs) { return &cs->st; }
const char *csession_carrier(const struct csession *cs) { return cs->o.carrier; }
const char *csession_error(const struct csession *cs) { return cs->err; }
uint64_t csession_acked_seq(const struct csession *cs) { return cs->acked; }

/* Everything at or below acked is done: count it and free it. */
static void
cs_advance_mark(struct csession *cs, uint64_t acked)
{
	if (acked > cs->acked) {
		cs->acked = acked;
		cs->attempts = 0;
	}
	while (cs->base < cs->n && cs->q[cs->base].u->seq <= cs->acked) {
		struct pending *p = &cs->q[cs->base++];

		if (p->st == P_RETRY)
			cs->nretry--;
		if (p->st != P_REJECTED && p->sent_once)
			cs->st.acked++;
		cs->o.free_update(p->u);
		p->u = NULL;
	}
	if (cs->next < cs->base)
		cs->next = cs->base;
}

int
csession_queue(struct csession *cs, Corridor__ShipmentUpdate *u, bool expect_reject)
{
	if (cs->n > 0 && u->seq <= cs->q[cs->n - 1].u->seq)
		return -1;
	if (u->seq <= cs->acked) {
		cs->st.skipped++;
		cs->o.free_update(u);
		return 0;
	}
	if (ctl_grow(&cs->q, &cs->cap, cs->n, sizeof *cs->q) == -1)
		return -1;
	memset(&cs->q[cs->n], 0, sizeof cs->q[cs->n]);
	cs->q[cs->n].u = u;
	cs->q[cs->n++].expect_reject = expect_reject;
	cs->st.queued++;
	return 0;
}

/* Connect, hello, welcome (carrier_hello.c), then stream from the mark the
 * welcome gave; *final when trying again cannot help. */
static int
cs_open_session(struct csession *cs, char *err, size_t errlen, bool *final)
{
	struct cs_hello h = {
		.tls = cs->o.tls, .host = cs->o.host, .port = cs->o.port,
		.carrier = cs->o.carrier, .credential = cs->o.credential,
		.batch = cs->o.batch, .window = cs->o.window, .acked = cs->acked,
	};

	if (cs_hello_open(&cs->conn, &h, err, errlen, final) == -1) {
		cs_release_fd(cs);
		return -1;
	}
	cs->max_frame = h.max_frame;
	cs->max_batch = h.max_batch;
	cs->window = h.max_window;
	cs_advance_mark(cs, h.acked_seq);
	cs->next = cs->base;
	if (cs->in == NULL || cs->incap < cs->max_frame + FRAME_HEADER_BYTES) {
		free(cs->in);
		cs->incap = cs->max_frame + FRAME_HEADER_BYTES;
		if ((cs->in = malloc(cs->incap)) == NULL) {
			snprintf(err, errlen, "out of memory");
			cs_release_fd(cs);
			return -1;
		}
	}
	cs->state = CS_STREAMING;
	return 0;
}

int
csession_open(struct csession *cs, char *err, size_t errlen)
{
	bool final;

	if (cs_open_session(cs, err, errlen, &final) == -1) {
		cs->state = CS_FAILED;
		snprintf(cs->err, sizeof cs->err, "%s", err);
		return -1;
	}
	return 0;
}

/* The connection is gone: rewind to resend everything above the mark. */
static void
session_lost(struct csession *cs, int64_t now, const char *reason, bool final)
{
	cs_release_fd(cs);
	for (size_t i = cs->base; i < cs->next; i++)
		if (cs->q[i].st == P_INFLIGHT || cs->q[i].st == P_RETRY)
			cs->q[i].st = P_WAIT;
	cs->nretry = 0;
	cs->next = cs->base;
	cs->attempts++;
	if (final || cs->attempts > cs->o.retries) {
		snprintf(cs->err, sizeof cs->err, "%s%s", reason,
		    final ? "" : " (no more retries)");
		log_warnx("session failed carrier=%s reason=\"%s\"", cs->o.carrier, reason);
		cs->state = CS_FAILED;
		return;
	}
	int64_t delay = 200LL << (cs->attempts > 5 ? 5 : cs->attempts - 1);
	cs->backoff_until = now + (delay > CS_BACKOFF_MAX_MS ? CS_BACKOFF_MAX_MS : delay);
	log_info("session lost carrier=%s reason=\"%s\" attempt=%d retry_in_ms=%lld",
	    cs->o.carrier, reason, cs->attempts, (long long)(cs->backoff_until - now));
	cs->state = CS_BACKOFF;
}

static struct pending *
find_sent(struct csession *cs, uint64_t seq)
{
	size_t lo = cs->base, hi = cs->next;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (cs->q[mid].u->seq < seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < cs->next && cs->q[lo].u->seq == seq ? &cs->q[lo] : NULL;
}

static void
on_rejection(struct csession *cs, const Corridor__Rejection *r, int64_t now)
{
	struct pending *p = find_sent(cs, r->seq);
	const char *reason = reject_reason_name(r->reason);

	if (p == NULL || p->st == P_REJECTED || p->st == P_RETRY)
		return;
	if (r->retryable) {
		bool window = r->reason == CORRIDOR__REJECT_REASON__SEQ_OUT_OF_WINDOW;
		int64_t wait = window ? CS_RETRY_MS :
		    (int64_t)CS_RETRY_MS << (p->tries < 5 ? p->tries : 5);

		/* out of the window is a matter of waiting for the mark, not a fault */
		if (!window && ++p->tries > CS_TRIES_MAX) {
			char why[300];

			snprintf(why, sizeof why, "seq %llu was rejected %d times: %s: %s",
			    (unsigned long long)r->seq, CS_TRIES_MAX, reason,
			    r->message ? r->message : "");
			session_lost(cs, now, why, true);
			return;
		}
		if (window && r->seq > cs->acked + 1 && r->seq - cs->acked - 1 < cs->window) {
			/* the daemon's seq window is narrower than ours: keep within it */
			cs->window = (uint32_t)(r->seq - cs->acked - 1);
			log_info("window narrowed carrier=%s window=%u", cs->o.carrier, cs->window);
		}
		p->st = P_RETRY;
		p->retry_at = now + (wait > CS_RETRY_MAX_MS ? CS_RETRY_MAX_MS : wait);
		cs->nretry++;
		cs->st.retried++;
		log_debug("retryable rejection carrier=%s seq=%llu reason=%s", cs->o.carrier,
		    (unsigned long long)r->seq, reason);
		return;
	}
	p->st = P_REJECTED;
	cs->st.rejected++;
	cs->st.by_reason[(unsigned)r->reason < CS_REASONS ? r->reason : 0]++;
	if (p->expect_reject)
		cs->st.rejected_expected++;
	else if (cs->st.rejected - cs->st.rejected_expected <= CS_REPORT_MAX)
		log_warnx("rejected carrier=%s seq=%llu reason=%s message=\"%s\"%s", cs->o.carrier,
		    (unsigned long long)r->seq, reason, r->message ? r->message : "",
		    cs->st.rejected - cs->st.rejected_expected == CS_REPORT_MAX ?
		    " (further rejections are only counted)" : "");
}

/* One answer from the daemon; -1 when the session is over. */
static int
on_message(struct csession *cs, const Corridor__ServerMessage *m, int64_t now)
{
	char why[300];

	switch (m->body_case) {
	case CORRIDOR__SERVER_MESSAGE__BODY_ACK:
		cs_advance_mark(cs, m->ack->acked_seq);
		return 0;
	case CORRIDOR__SERVER_MESSAGE__BODY_REJECTION:
		on_rejection(cs, m->rejection, now);
		return cs->state == CS_STREAMING ? 0 : -1;
	case CORRIDOR__SERVER_MESSAGE__BODY_ERROR:
		snprintf(why, sizeof why, "daemon error %s: %s", cs_error_code_name(m->error->code),
		    m->error->message ? m->error->message : "");
		session_lost(cs, now, why, cs_error_is_final(m->error->code));
		return -1;
	default:
		session_lost(cs, now, "unexpected message from the daemon", false);
		return -1;
	}
}

static void
read_answers(struct csession *cs, int64_t now)
{
	Corridor__ServerMessage *m;
	uint32_t len;
	ssize_t k;

	for (;;) {
		k = ctl_conn_recv(&cs->conn, cs->in + cs->inlen, cs->incap - cs->inlen);
		if (k == -1 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			return;
		if (k <= 0) {
			session_lost(cs, now, k == 0 ? "connection closed by the daemon" :
			    ctl_conn_strerror(&cs->conn, errno), false);
			return;
		}
		cs->inlen += (size_t)k;
		cs->last_rx = now;
		for (;;) {
			enum frame_status fs = frame_parse_header(cs->in, cs->inlen,
			    cs->max_frame, &len);

			if (fs == FRAME_NEED_MORE)
				break;
			if (fs != FRAME_READY) {
				session_lost(cs, now, frame_status_name(fs), false);
				return;
			}
			m = corridor__server_message__unpack(NULL, len, cs->in + FRAME_HEADER_BYTES);
			cs->inlen -= FRAME_HEADER_BYTES + len;
			memmove(cs->in, cs->in + FRAME_HEADER_BYTES + len, cs->inlen);
			if (m == NULL) {
				session_lost(cs, now, "undecodable ServerMessage", false);
				return;
			}
			k = on_message(cs, m, now);
			corridor__server_message__free_unpacked(m, NULL);
			if (k == -1)
				return;
		}
	}
}

/* Adds p to the batch if it fits the frame; false when the batch is full. */
static bool
batch_add(struct csession *cs, Corridor__ShipmentUpdate **b, size_t *cnt, size_t *bytes,
    struct pending *p)
{
	size_t sz = protobuf_c_message_get_packed_size(&p->u->base) + 6;

	if (*cnt >= cs->max_batch || (*cnt > 0 && *bytes + sz + 16 > cs->max_frame))
		return false;
	b[(*cnt)++] = p->u;
	*bytes += sz;
	if (p->sent_once)
		cs->st.resent++;
	else
		cs->st.sent++;
	p->sent_once = 1;
	if (p->st != P_REJECTED)
		p->st = P_INFLIGHT;
	return true;
}

static int
fill_output(struct csession *cs, int64_t now)
{
	Corridor__ShipmentUpdate **b;
	Corridor__Batch batch = CORRIDOR__BATCH__INIT;
	Corridor__CarrierMessage m = CORRIDOR__CARRIER_MESSAGE__INIT;
	size_t cnt = 0, bytes = 0, need;

	if (cs->outoff < cs->outlen)
		return 0;
	if ((b = malloc(cs->max_batch * sizeof *b)) == NULL)
		return -1;
	for (size_t i = cs->base; cs->nretry > 0 && i < cs->next && i - cs->base < cs->window; i++)
		if (cs->q[i].st == P_RETRY && cs->q[i].retry_at <= now) {
			cs->q[i].st = P_INFLIGHT;	/* batch_add keeps it so */
			cs->nretry--;
			if (!batch_add(cs, b, &cnt, &bytes, &cs->q[i])) {
				cs->q[i].st = P_RETRY;
				cs->nretry++;
				break;
			}
		}
	while (cs->next < cs->n && cs->next - cs->base < cs->window &&
	    batch_add(cs, b, &cnt, &bytes, &cs->q[cs->next]))
		cs->next++;
	if (cnt > 0) {
		batch.n_updates = cnt;
		batch.updates = b;
		m.body_case = CORRIDOR__CARRIER_MESSAGE__BODY_BATCH;
		m.batch = &batch;
		need = wire_frame_size(&m.base);
		if (need > cs->outcap) {
			free(cs->out);
			if ((cs->out = malloc(need)) == NULL) {
				free(b);
				cs->outcap = 0;
				return -1;
			}
			cs->outcap = need;
		}
		cs->outlen = wire_pack_into(&m.base, cs->out);
		cs->outoff = 0;
		if (cs->next - cs->base == cnt)
			cs->last_rx = now;	/* the silence clock starts with the first unacked */
	}
	free(b);
	return 0;
}

static void
flush_output(struct csession *cs, int64_t now)
{
	while (cs->state == CS_STREAMING) {
		if (cs->outoff == cs->outlen && (fill_output(cs, now) == -1 ||
		    cs->outoff == cs->outlen))
			return;
		ssize_t k = ctl_conn_send(&cs->conn, cs->out + cs->outoff, cs->outlen - cs->outoff);

		if (k == -1 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			return;
		if (k <= 0) {
			session_lost(cs, now, ctl_conn_strerror(&cs->conn, errno), false);
			return;
		}
		cs->outoff += (size_t)k;
	}
}

int
csession_prepare(struct csession *cs, struct pollfd *pfd, int64_t now)
{
	pfd->fd = -1;
	pfd->events = 0;
	pfd->revents = 0;
	if (cs->state == CS_BACKOFF)
		return cs->backoff_until > now ? (int)(cs->backoff_until - now) : 0;
	if (cs->state != CS_STREAMING)
		return -1;
	pfd->fd = cs->conn.fd;
	pfd->events = POLLIN | (cs->outoff < cs->outlen ? POLLOUT : 0);
	if (ctl_conn_pending(&cs->conn))
		return 0;	/* TLS holds decrypted answers poll() cannot see */
	return cs->nretry > 0 ? CS_RETRY_MS / 5 : 1000;
}

void
csession_service(struct csession *cs, short revents, int64_t now)
{
	char err[256];
	bool final;

	if (cs->state == CS_BACKOFF && now >= cs->backoff_until) {
		cs->st.reconnects++;
		if (cs_open_session(cs, err, sizeof err, &final) == -1) {
			session_lost(cs, now, err, final);
			return;
		}
	}
	if (cs->state != CS_STREAMING)
		return;
	if ((revents & (POLLIN | POLLHUP | POLLERR)) || ctl_conn_pending(&cs->conn))
		read_answers(cs, now);
	flush_output(cs, now);
	if (cs->state != CS_STREAMING)
		return;
	if (cs->base == cs->n) {
		cs_release_fd(cs);
		cs->state = CS_DONE;
	} else if (cs->next > cs->base && now - cs->last_rx > CS_SILENCE_MS)
		session_lost(cs, now, "no answer from the daemon for 60 s", false);
}
