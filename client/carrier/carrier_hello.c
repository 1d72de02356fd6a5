/*
 * Opening a carrier session: connect with a time limit, send Hello, read the
 * Welcome (blocking, bounded by the handshake timeout), take the daemon's
 * limits and acknowledged mark, then switch the socket to non-blocking.
 * It knows nothing of the session that streams afterwards: the session asks
 * (cs_hello_open) and takes what the welcome granted from struct cs_hello.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "carrier_hello.h"
#include "frame.h"
#include "log.h"
#include "wire.h"

const char *
cs_error_code_name(int code)
{
	const ProtobufCEnumValue *v =
	    protobuf_c_enum_descriptor_get_value(&corridor__error_code__descriptor, code);

	return v != NULL ? v->name : "UNKNOWN";
}

/* Session-ending errors that another attempt cannot fix. */
bool
cs_error_is_final(Corridor__ErrorCode code)
{
	return code == CORRIDOR__ERROR_CODE__BAD_HELLO ||
	    code == CORRIDOR__ERROR_CODE__UNKNOWN_CARRIER ||
	    code == CORRIDOR__ERROR_CODE__AUTH_FAILED ||
	    code == CORRIDOR__ERROR_CODE__VERSION_UNSUPPORTED ||
	    code == CORRIDOR__ERROR_CODE__PROTOCOL ||
	    code == CORRIDOR__ERROR_CODE__FRAME_TOO_LARGE;
}

static int
io_exact(struct ctl_conn *cn, void *buf, size_t len, int writing)
{
	size_t done = 0;

	while (done < len) {
		ssize_t k = writing ? ctl_conn_send(cn, (char *)buf + done, len - done) :
		    ctl_conn_recv(cn, (char *)buf + done, len - done);

		if (k == -1 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		done += (size_t)k;
	}
	return 0;
}

static Corridor__ServerMessage *
read_welcome(struct ctl_conn *cn, char *err, size_t errlen)
{
	uint8_t hdr[FRAME_HEADER_BYTES], *body;
	uint32_t len;
	Corridor__ServerMessage *m;

	if (io_exact(cn, hdr, sizeof hdr, 0) == -1) {
		snprintf(err, errlen, "no welcome from the daemon (closed or timed out)");
		return NULL;
	}
	if (frame_parse_header(hdr, sizeof hdr, FRAME_DEFAULT_MAX_BYTES, &len) !=
	    FRAME_NEED_MORE) {
		snprintf(err, errlen, "bad frame header from the daemon");
		return NULL;
	}
	if ((body = malloc(len)) == NULL || io_exact(cn, body, len, 0) == -1) {
		free(body);
		snprintf(err, errlen, "the welcome frame was cut short");
		return NULL;
	}
	m = corridor__server_message__unpack(NULL, len, body);
	free(body);
	if (m == NULL)
		snprintf(err, errlen, "the daemon's answer is not a ServerMessage");
	return m;
}

static int
take_welcome(struct cs_hello *h, const Corridor__Welcome *w, char *err, size_t errlen)
{
	const Corridor__Limits *l = w->limits;

	if (w->acked_seq < h->acked) {
		/* what lies between was forgotten here when it was acknowledged */
		snprintf(err, errlen, "the daemon's acknowledged mark went back from %llu to "
		    "%llu; those updates are no longer held here, push them again from the file",
		    (unsigned long long)h->acked, (unsigned long long)w->acked_seq);
		return -1;
	}

	h->max_frame = l && l->has_max_frame_bytes ? l->max_frame_bytes : FRAME_DEFAULT_MAX_BYTES;
	h->max_batch = l && l->has_max_batch_updates ? l->max_batch_updates : 1000;
	h->max_window = l && l->has_max_inflight_updates ? l->max_inflight_updates : 10000;
	if (h->window > 0 && h->window < h->max_window)
		h->max_window = (uint32_t)h->window;
	if (h->batch < h->max_batch)
		h->max_batch = (uint32_t)h->batch;
	if (h->max_batch == 0)
		h->max_batch = 1;
	log_info("welcome carrier=%s server=%s acked_seq=%llu max_batch=%u window=%u",
	    h->carrier, w->server_version ? w->server_version : "?",
	    (unsigned long long)w->acked_seq, h->max_batch, h->max_window);
	h->acked_seq = w->acked_seq;
	return 0;
}

static int
handshake(struct ctl_conn *cn, struct cs_hello *hi, char *err, size_t errlen, bool *final)
{
	Corridor__Hello h = CORRIDOR__HELLO__INIT;
	Corridor__CarrierMessage m = CORRIDOR__CARRIER_MESSAGE__INIT;
	Corridor__ServerMessage *sm;
	uint8_t *frame;
	size_t len;
	int rc = -1;

	h.has_protocol_version = 1;
	h.protocol_version = WIRE_PROTOCOL_VERSION;
	h.carrier = (char *)(uintptr_t)hi->carrier;
	h.credential = (char *)(uintptr_t)hi->credential;
	h.client_name = "corridorctl/" CORRIDOR_VERSION;
	m.body_case = CORRIDOR__CARRIER_MESSAGE__BODY_HELLO;
	m.hello = &h;
	if (wire_pack(&m.base, &frame, &len) == -1) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (io_exact(cn, frame, len, 1) == -1) {
		snprintf(err, errlen, "cannot send hello: %s", strerror(errno));
		free(frame);
		return -1;
	}
	free(frame);
	if ((sm = read_welcome(cn, err, errlen)) == NULL)
		return -1;
	if (sm->body_case == CORRIDOR__SERVER_MESSAGE__BODY_WELCOME) {
		rc = take_welcome(hi, sm->welcome, err, errlen);
		*final = rc == -1;
	} else if (sm->body_case == CORRIDOR__SERVER_MESSAGE__BODY_ERROR) {
		snprintf(err, errlen, "daemon refused the session: %s: %s",
		    cs_error_code_name(sm->error->code),
		    sm->error->message ? sm->error->message : "");
		*final = cs_error_is_final(sm->error->code);
	} else
		snprintf(err, errlen, "expected a welcome, got message %d", sm->body_case);
	corridor__server_message__free_unpacked(sm, NULL);
	return rc;
}

int
cs_hello_open(struct ctl_conn *cn, struct cs_hello *h, char *err, size_t errlen, bool *final)
{
	struct timeval tv = { CS_HANDSHAKE_MS / 1000, 0 };

	*final = false;
	if (ctl_conn_open(cn, h->tls, h->host, h->port, CS_HANDSHAKE_MS, err, errlen) == -1)
		return -1;
	setsockopt(cn->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(cn->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	if (handshake(cn, h, err, errlen, final) == -1) {
		ctl_conn_close(cn);
		return -1;
	}
	fcntl(cn->fd, F_SETFL, fcntl(cn->fd, F_GETFL) | O_NONBLOCK);
	return 0;
}
