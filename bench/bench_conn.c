/* Connecting to corridord for the benchmark tools; see bench_conn.h. */
#include "bench_conn.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "frame.h"
#include "wire.h"

#define QCONN_BUF_START 65536
/* an answer line longer than this is not one corridord sends */
#define QCONN_LINE_MAX (16u << 20)

void
bench_endpoint_init(struct bench_endpoint *e)
{
	const char *cred = getenv("CORRIDOR_CREDENTIAL"), *token = getenv("CORRIDOR_TOKEN");

	e->host = "127.0.0.1";
	e->carrier_port = "7470";
	e->query_port = "7471";
	e->credential = cred != NULL && cred[0] != '\0' ? cred : NULL;
	e->token = token != NULL && token[0] != '\0' ? token : NULL;
}

int
bench_connect(const char *host, const char *port)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *ai;
	int fd, one = 1;

	if (getaddrinfo(host, port, &hints, &ai) != 0)
		return -1;
	fd = socket(ai->ai_family, SOCK_STREAM, 0);
	if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) == -1) {
		close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	if (fd >= 0)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	return fd;
}

int
bench_write_all(int fd, const void *buf, size_t n)
{
	const uint8_t *p = buf;

	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

Corridor__ServerMessage *
bench_read_message(int fd, uint8_t *buf, size_t cap)
{
	size_t got = 0;
	uint32_t len = 0;

	while (frame_parse_header(buf, got, (uint32_t)(cap - FRAME_HEADER_BYTES), &len) ==
	    FRAME_NEED_MORE) {
		ssize_t r = read(fd, buf + got, got < FRAME_HEADER_BYTES ?
		    FRAME_HEADER_BYTES - got : FRAME_HEADER_BYTES + len - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return NULL;
		got += (size_t)r;
	}
	if (got != FRAME_HEADER_BYTES + len)
		return NULL;
	return corridor__server_message__unpack(NULL, len, buf + FRAME_HEADER_BYTES);
}

uint64_t
bench_hello(const struct bench_endpoint *e, int fd, const char *carrier,
    const char *client_name, uint8_t *buf, size_t cap, char *err, size_t errlen)
{
	Corridor__CarrierMessage m = CORRIDOR__CARRIER_MESSAGE__INIT;
	Corridor__Hello h = CORRIDOR__HELLO__INIT;
	Corridor__ServerMessage *s;
	uint64_t acked;

	h.has_protocol_version = 1;
	h.protocol_version = WIRE_PROTOCOL_VERSION;
	h.carrier = (char *)(uintptr_t)carrier;
	h.credential = (char *)(uintptr_t)e->credential;
	h.client_name = (char *)(uintptr_t)client_name;
	m.body_case = CORRIDOR__CARRIER_MESSAGE__BODY_HELLO;
	m.hello = &h;
	if (wire_frame_size(&m.base) > cap) {
		snprintf(err, errlen, "hello for %s does not fit its buffer", carrier);
		return BENCH_HELLO_FAILED;
	}
	if (bench_write_all(fd, buf, wire_pack_into(&m.base, buf)) == -1 ||
	    (s = bench_read_message(fd, buf, cap)) == NULL) {
		snprintf(err, errlen, "no welcome for %s (connection closed)", carrier);
		return BENCH_HELLO_FAILED;
	}
	if (s->body_case != CORRIDOR__SERVER_MESSAGE__BODY_WELCOME) {
		snprintf(err, errlen, "no welcome for %s: %s", carrier,
		    s->body_case == CORRIDOR__SERVER_MESSAGE__BODY_ERROR && s->error->message ?
		    s->error->message : "?");
		corridor__server_message__free_unpacked(s, NULL);
		return BENCH_HELLO_FAILED;
	}
	acked = s->welcome->acked_seq;
	corridor__server_message__free_unpacked(s, NULL);
	return acked;
}

/* "AUTH NAME SECRET" from the token NAME:SECRET; the secret is never shown. */
static int
authenticate(struct bench_qconn *q, const char *token, char *err, size_t errlen)
{
	const char *colon = strchr(token, ':');
	struct bench_answer a;
	char line[1024];
	int n;

	if (colon == NULL || colon == token || colon[1] == '\0') {
		snprintf(err, errlen, "CORRIDOR_TOKEN is not NAME:SECRET");
		return -1;
	}
	n = snprintf(line, sizeof line, "AUTH %.*s %s", (int)(colon - token), token, colon + 1);
	if (n < 0 || (size_t)n >= sizeof line) {
		snprintf(err, errlen, "CORRIDOR_TOKEN is too long");
		return -1;
	}
	if (bench_query_run(q, line, 0, &a, err, errlen) == -1) {
		snprintf(err, errlen, "no answer to AUTH");
		return -1;
	}
	if (!a.ok) {
		snprintf(err, errlen, "AUTH as %.*s refused: %s", (int)(colon - token), token, a.err);
		return -1;
	}
	return 0;
}

int
bench_qconn_open(struct bench_qconn *q, const struct bench_endpoint *e, char *err,
    size_t errlen)
{
	memset(q, 0, sizeof *q);
	q->fd = bench_connect(e->host, e->query_port);
	if (q->fd == -1) {
		snprintf(err, errlen, "cannot connect to the query port %s:%s", e->host,
		    e->query_port);
		return -1;
	}
	q->cap = QCONN_BUF_START;
	if ((q->buf = malloc(q->cap)) == NULL) {
		snprintf(err, errlen, "out of memory");
		close(q->fd);
		q->fd = -1;
		return -1;
	}
	if (e->token != NULL && authenticate(q, e->token, err, errlen) == -1) {
		bench_qconn_close(q);
		return -1;
	}
	return 0;
}

void
bench_qconn_close(struct bench_qconn *q)
{
	if (q->fd >= 0) {
		bench_write_all(q->fd, "QUIT\n", 5);
		close(q->fd);
	}
	free(q->buf);
	memset(q, 0, sizeof *q);
	q->fd = -1;
}

/* The next answer line (NUL-terminated in place, newline removed), or NULL. */
static char *
next_line(struct bench_qconn *q, char *err, size_t errlen)
{
	for (;;) {
		char *nl = memchr(q->buf + q->pos, '\n', q->len - q->pos);
		ssize_t r;

		if (nl != NULL) {
			char *line = q->buf + q->pos;

			*nl = '\0';
			if (nl > line && nl[-1] == '\r')
				nl[-1] = '\0';
			q->pos = (size_t)(nl - q->buf) + 1;
			return line;
		}
		if (q->pos > 0) {
			memmove(q->buf, q->buf + q->pos, q->len - q->pos);
			q->len -= q->pos;
			q->pos = 0;
		}
		if (q->len == q->cap) {
			char *nb;

			if (q->cap >= QCONN_LINE_MAX || (nb = realloc(q->buf, q->cap * 2)) == NULL) {
				snprintf(err, errlen, "an answer line above %u bytes", QCONN_LINE_MAX);
				return NULL;
			}
			q->buf = nb;
			q->cap *= 2;
		}
		r = read(q->fd, q->buf + q->len, q->cap - q->len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			snprintf(err, errlen, "connection closed before the answer ended");
			return NULL;
		}
		q->len += (size_t)r;
	}
}

static int
keep_row(struct bench_answer *a, const char *line, size_t *cap)
{
	size_t n = strlen(line);

	if (a->rows_len + n + 2 > *cap) {
		size_t ncap = (*cap ? *cap * 2 : 4096) + n;
		char *nr = realloc(a->rows, ncap);

		if (nr == NULL)
			return -1;
		a->rows = nr;
		*cap = ncap;
	}
	memcpy(a->rows + a->rows_len, line, n);
	a->rows_len += n;
	a->rows[a->rows_len++] = '\n';
	a->rows[a->rows_len] = '\0';
	return 0;
}

int
bench_query_run(struct bench_qconn *q, const char *line, int keep_rows,
    struct bench_answer *a, char *err, size_t errlen)
{
	char req[2048], *l;
	size_t cap = 0;
	int n = snprintf(req, sizeof req, "%s\n", line);

	memset(a, 0, sizeof *a);
	if (n < 0 || (size_t)n >= sizeof req) {
		snprintf(err, errlen, "request too long: %.60s", line);
		return -1;
	}
	if (bench_write_all(q->fd, req, (size_t)n) == -1) {
		snprintf(err, errlen, "cannot send the request: %s", strerror(errno));
		return -1;
	}
	if ((l = next_line(q, err, errlen)) == NULL)
		return -1;
	if (strncmp(l, "ERR ", 4) == 0) {
		snprintf(a->err, sizeof a->err, "%s", l + 4);
		return 0;
	}
	if (strcmp(l, "OK") != 0 || (l = next_line(q, err, errlen)) == NULL ||
	    strncmp(l, "# ", 2) != 0) {
		if (l != NULL)
			snprintf(err, errlen, "answer to \"%.60s\" starts without OK and a header",
			    line);
		return -1;
	}
	for (;;) {
		if ((l = next_line(q, err, errlen)) == NULL)
			goto fail;
		if (strncmp(l, "END ", 4) == 0)
			break;
		a->nrows++;
		if (keep_rows && keep_row(a, l, &cap) == -1) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
	}
	if (strtoull(l + 4, NULL, 10) != a->nrows) {
		snprintf(err, errlen, "answer to \"%.60s\" says %s rows, %zu came", line, l + 4,
		    a->nrows);
		goto fail;
	}
	a->ok = 1;
	return 0;
fail:
	free(a->rows);
	a->rows = NULL;
	return -1;
}
