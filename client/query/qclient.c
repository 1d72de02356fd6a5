/*
 * The operator side of the query protocol: connect, send one line, read
 * "OK", the "# " header, tab-separated rows and "END n" (or one "ERR" line)
 * into a struct qresult.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "ctl.h"
#include "ctl_conn.h"
#include "qresult.h"

#define QCLIENT_CONNECT_TIMEOUT_MS 10000

static void
chomp(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r'))
		s[--n] = '\0';
}

/* Splits s at tabs into a new array of exactly want fields (missing ones empty). */
static char **
split_tabs(const char *s, size_t want, size_t *got)
{
	char **f = calloc(want ? want : 1, sizeof *f);
	const char *p = s;
	size_t n = 0;

	if (f == NULL)
		return NULL;
	while (n < want) {
		const char *t = strchr(p, '\t');
		size_t len = t ? (size_t)(t - p) : strlen(p);

		f[n++] = strndup(p, len);
		if (t == NULL)
			break;
		p = t + 1;
	}
	*got = n;
	while (n < want)
		f[n++] = strdup("");
	return f;
}

static size_t
count_fields(const char *s)
{
	size_t n = 1;

	for (; *s; s++)
		n += *s == '\t';
	return n;
}

static int
add_row(struct qresult *r, const char *line)
{
	size_t got;

	if (ctl_grow(&r->rows, &r->rows_cap, r->nrows, sizeof *r->rows) == -1)
		return -1;
	r->rows[r->nrows] = split_tabs(line, r->ncols, &got);
	if (r->rows[r->nrows] == NULL)
		return -1;
	r->nrows++;
	return 0;
}

/* "END <rows>". A row may begin with "END" too: its first field can be a
 * carrier's word (a delay reason, a unit), but never holds a space. */
static int
is_end_line(const char *line)
{
	return strncmp(line, "END ", 4) == 0 && line[4] != '\0' &&
	    strspn(line + 4, "0123456789") == strlen(line + 4);
}

/* Lines from a connection, plain or TLS. */
struct reader {
	struct ctl_conn *cn;
	char buf[8192];
	size_t off, len;
	int error;		/* errno of the failed read, 0 at the end */
};

/* The next line, with its newline, into *line (grown as needed): its length,
 * or -1 at the end of the answer stream or on an error. */
static ssize_t
reader_getline(struct reader *rd, char **line, size_t *cap)
{
	size_t n = 0;

	for (;;) {
		char *nl;
		size_t take;

		if (rd->off == rd->len) {
			ssize_t k = ctl_conn_recv(rd->cn, rd->buf, sizeof rd->buf);

			if (k == -1 && errno == EINTR)
				continue;
			if (k <= 0) {
				rd->error = k == 0 ? 0 : errno;
				return -1;
			}
			rd->off = 0;
			rd->len = (size_t)k;
		}
		nl = memchr(rd->buf + rd->off, '\n', rd->len - rd->off);
		take = nl != NULL ? (size_t)(nl - (rd->buf + rd->off)) + 1 : rd->len - rd->off;
		if (n + take + 1 > *cap) {
			size_t ncap = (n + take + 1) * 2;
			char *p = realloc(*line, ncap);

			if (p == NULL) {
				rd->error = ENOMEM;
				return -1;
			}
			*line = p;
			*cap = ncap;
		}
		memcpy(*line + n, rd->buf + rd->off, take);
		n += take;
		rd->off += take;
		(*line)[n] = '\0';
		if (nl != NULL)
			return (ssize_t)n;
	}
}

static int
read_answer(struct reader *in, struct qresult *r, char *err, size_t errlen)
{
	char *line = NULL;
	size_t cap = 0;
	int rc = -1, state = 0;	/* 0: status, 1: header, 2: rows */

	while (reader_getline(in, &line, &cap) != -1) {
		chomp(line);
		if (state == 0 && strncmp(line, "ERR", 3) == 0) {
			char *code = line + 3 + (line[3] == ' ');
			char *sp = strchr(code, ' ');

			if (sp != NULL)
				*sp++ = '\0';
			snprintf(r->err_code, sizeof r->err_code, "%s", code);
			snprintf(r->err_msg, sizeof r->err_msg, "%s", sp ? sp : "");
			rc = 0;
			break;
		} else if (state == 0 && strcmp(line, "OK") == 0) {
			r->ok = 1;
			state = 1;
		} else if (state == 1 && strncmp(line, "# ", 2) == 0) {
			r->ncols = count_fields(line + 2);
			r->cols = split_tabs(line + 2, r->ncols, &r->ncols);
			state = 2;
		} else if (state >= 1 && is_end_line(line)) {
			rc = 0;
			break;
		} else if (state == 2) {
			if (add_row(r, line) == -1) {
				snprintf(err, errlen, "out of memory");
				break;
			}
		} else {
			snprintf(err, errlen, "unexpected answer line: %.80s", line);
			break;
		}
	}
	if (rc == -1 && err[0] == '\0')
		snprintf(err, errlen, "connection closed before the answer ended%s%s",
		    in->error != 0 ? ": " : "",
		    in->error == EAGAIN ? "timed out" : in->error != 0 ?
		    ctl_conn_strerror(in->cn, in->error) : "");
	free(line);
	return rc;
}

/* The whole of buf, or -1. */
static int
send_all(struct ctl_conn *cn, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t k = ctl_conn_send(cn, buf, len);

		if (k == -1 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		buf += k;
		len -= (size_t)k;
	}
	return 0;
}

int
qclient_run(const struct ctl_tls *tls, const char *host, const char *port,
    const char *token_name, const char *token_secret, const char *line, int timeout_ms,
    struct qresult *r, char *err, size_t errlen)
{
	struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
	struct ctl_conn cn;
	struct reader *rd;
	bool auth_failed = false;
	int rc;

	memset(r, 0, sizeof *r);
	err[0] = '\0';
	if (ctl_conn_open(&cn, tls, host, port, QCLIENT_CONNECT_TIMEOUT_MS, err, errlen) == -1)
		return -1;
	setsockopt(cn.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	if ((rd = calloc(1, sizeof *rd)) == NULL) {
		snprintf(err, errlen, "out of memory");
		ctl_conn_close(&cn);
		return -1;
	}
	rd->cn = &cn;
	rc = 0;
	if (token_name != NULL) {
		/* AUTH first, and its answer, before the request: a daemon that
		 * refuses at the first line (TLS_REQUIRED) closes with nothing of
		 * ours left unread, so its answer is not lost to a reset */
		char auth[4400];
		int n = snprintf(auth, sizeof auth, "AUTH %s %s\n", token_name, token_secret);

		rc = n > 0 && (size_t)n < sizeof auth ? send_all(&cn, auth, (size_t)n) : -1;
		OPENSSL_cleanse(auth, sizeof auth);
		if (rc == -1)
			snprintf(err, errlen, "cannot send the AUTH line: %s",
			    ctl_conn_strerror(&cn, errno));
		else
			rc = read_answer(rd, r, err, errlen);
		auth_failed = rc == 0 && !r->ok;	/* the AUTH's ERR is the answer */
		if (rc == 0 && r->ok)
			qresult_free(r);	/* the AUTH's OK; the request's answer follows */
	}
	if (rc == 0 && !auth_failed) {
		if (send_all(&cn, line, strlen(line)) == -1 || send_all(&cn, "\n", 1) == -1) {
			snprintf(err, errlen, "cannot send the request: %s",
			    ctl_conn_strerror(&cn, errno));
			rc = -1;
		} else
			rc = read_answer(rd, r, err, errlen);
	}
	if (rc == 0)
		(void)send_all(&cn, "QUIT\n", 5);
	free(rd);
	ctl_conn_close(&cn);
	return rc;
}

static void
free_fields(char **f, size_t n)
{
	if (f == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		free(f[i]);
	free(f);
}

void
qresult_free(struct qresult *r)
{
	for (size_t i = 0; i < r->nrows; i++)
		free_fields(r->rows[i], r->ncols);
	free(r->rows);
	free_fields(r->cols, r->ncols);
	memset(r, 0, sizeof *r);
}
