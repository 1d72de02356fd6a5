/*
 * Plumbing the operator commands and the carrier sessions share: TCP
 * connect with a time limit, growing arrays, and the progress line shown
 * during long operations.
 */
#include <errno.h>
#include <stdlib.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include "ctl_util.h"
#include "timeutil.h"

static int
connect_one(const struct addrinfo *ai, int timeout_ms, int *saved)
{
	struct pollfd pfd;
	socklen_t sl = sizeof *saved;
	int fd, fl, one = 1;

	fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
	if (fd == -1) {
		*saved = errno;
		return -1;
	}
	fl = fcntl(fd, F_GETFL);
	fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == -1 && errno != EINPROGRESS) {
		*saved = errno;
		close(fd);
		return -1;
	}
	pfd.fd = fd;
	pfd.events = POLLOUT;
	if (poll(&pfd, 1, timeout_ms) != 1) {
		*saved = ETIMEDOUT;
		close(fd);
		return -1;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, saved, &sl) == -1 || *saved != 0) {
		close(fd);
		return -1;
	}
	fcntl(fd, F_SETFL, fl);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	return fd;
}

int
net_connect(const char *host, const char *port, int timeout_ms, char *err, size_t errlen)
{
	struct addrinfo hints, *res, *ai;
	int fd = -1, saved = 0, rc;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	rc = getaddrinfo(host, port, &hints, &res);
	if (rc != 0) {
		snprintf(err, errlen, "cannot resolve %s port %s: %s", host, port,
		    gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai != NULL && fd == -1; ai = ai->ai_next)
		fd = connect_one(ai, timeout_ms, &saved);
	freeaddrinfo(res);
	if (fd == -1)
		snprintf(err, errlen, "cannot connect to %s:%s: %s", host, port,
		    strerror(saved));
	return fd;
}

void
progress_init(struct progress *p)
{
	p->tty = isatty(STDERR_FILENO);
	p->last_ms = time_mono_ms();
	p->shown = 0;
}

void
progress_show(struct progress *p, int force, const char *fmt, ...)
{
	int64_t now = time_mono_ms();
	va_list ap;

	if (!force && now - p->last_ms < (p->tty ? 200 : 5000))
		return;
	p->last_ms = now;
	va_start(ap, fmt);
	if (p->tty)
		fputs("\r\033[K", stderr);
	vfprintf(stderr, fmt, ap);
	if (!p->tty)
		fputc('\n', stderr);
	va_end(ap);
	fflush(stderr);
	p->shown = 1;
}

void
progress_done(struct progress *p)
{
	if (p->tty && p->shown)
		fputc('\n', stderr);
	p->shown = 0;
}

int
ctl_grow(void *arrp, size_t *cap, size_t n, size_t elem)
{
	void **arr = arrp, *nv;
	size_t ncap;

	if (n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 1024;
	if ((nv = realloc(*arr, ncap * elem)) == NULL)
		return -1;
	*arr = nv;
	*cap = ncap;
	return 0;
}
