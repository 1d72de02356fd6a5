/*
 * Socket activation, read directly from the environment as sd_listen_fds(3)
 * with unset_environment=1 does; see listen_fds.h.
 */
#include "listen_fds.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define LISTEN_FDS_START 3

static const char *const names[] = { "carriers", "operators" };
#define NNAMES (sizeof names / sizeof names[0])

static int fds[NNAMES] = { -1, -1 };

static void
unset_vars(void)
{
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
}

static int
parse_count(const char *s, long *out)
{
	char *end;

	errno = 0;
	*out = strtol(s, &end, 10);
	if (s[0] == '\0' || *end != '\0' || errno != 0 || *out < 0)
		return -1;
	return 0;
}

/* Checks that fd is a listening stream socket and makes it close-on-exec
 * and non-blocking. */
static int
prepare_fd(int fd, const char *name, char *err, size_t errlen)
{
	int type = 0, listening = 0, flags;
	socklen_t len = sizeof type;

	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == -1 || type != SOCK_STREAM) {
		snprintf(err, errlen, "socket activation: fd=%d name=%s is not a stream socket",
		    fd, name);
		return -1;
	}
	len = sizeof listening;
	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) == -1 || !listening) {
		snprintf(err, errlen, "socket activation: fd=%d name=%s is not listening", fd,
		    name);
		return -1;
	}
	if ((flags = fcntl(fd, F_GETFD)) == -1 || fcntl(fd, F_SETFD, flags | FD_CLOEXEC) == -1 ||
	    (flags = fcntl(fd, F_GETFL)) == -1 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) == -1) {
		snprintf(err, errlen, "socket activation: fd=%d name=%s: %s", fd, name,
		    strerror(errno));
		return -1;
	}
	return 0;
}

static int
assign(int fd, const char *name, size_t namelen, char *err, size_t errlen)
{
	for (size_t i = 0; i < NNAMES; i++) {
		if (strlen(names[i]) != namelen || strncmp(names[i], name, namelen) != 0)
			continue;
		if (fds[i] != -1) {
			snprintf(err, errlen, "socket activation: name %s passed twice (fd=%d "
			    "and fd=%d)", names[i], fds[i], fd);
			return -1;
		}
		if (prepare_fd(fd, names[i], err, errlen) == -1)
			return -1;
		fds[i] = fd;
		return 0;
	}
	snprintf(err, errlen, "socket activation: fd=%d has name \"%.*s\"; expected "
	    "FileDescriptorName=carriers or operators", fd, (int)(namelen > 64 ? 64 : namelen),
	    name);
	return -1;
}

static int
parse(char *err, size_t errlen)
{
	const char *pid = getenv("LISTEN_PID");
	const char *nfds = getenv("LISTEN_FDS");
	const char *fdnames = getenv("LISTEN_FDNAMES");
	const char *p, *colon = NULL;
	long want_pid, n;

	if (nfds == NULL)
		return 0;
	if (pid == NULL || parse_count(pid, &want_pid) == -1) {
		snprintf(err, errlen, "socket activation: LISTEN_FDS is set but LISTEN_PID "
		    "is missing or malformed");
		return -1;
	}
	if (want_pid != (long)getpid())
		return 0;	/* meant for another process */
	if (parse_count(nfds, &n) == -1 || n > INT_MAX - LISTEN_FDS_START) {
		snprintf(err, errlen, "socket activation: LISTEN_FDS=%.32s is not a count",
		    nfds);
		return -1;
	}
	if (n == 0)
		return 0;
	if (fdnames == NULL) {
		snprintf(err, errlen, "socket activation: LISTEN_FDS=%ld but no LISTEN_FDNAMES; "
		    "name the sockets carriers and operators (FileDescriptorName=)", n);
		return -1;
	}
	p = fdnames;
	for (long i = 0; i < n; i++) {
		colon = strchr(p, ':');
		if (colon == NULL && i + 1 < n) {
			snprintf(err, errlen, "socket activation: LISTEN_FDS=%ld but "
			    "LISTEN_FDNAMES=%.128s has only %ld names", n, fdnames, i + 1);
			return -1;
		}
		if (assign(LISTEN_FDS_START + (int)i, p, colon ? (size_t)(colon - p) :
		    strlen(p), err, errlen) == -1)
			return -1;
		if (colon != NULL)
			p = colon + 1;
	}
	if (colon != NULL) {
		snprintf(err, errlen, "socket activation: LISTEN_FDNAMES=%.128s has more names "
		    "than LISTEN_FDS=%ld", fdnames, n);
		return -1;
	}
	for (size_t i = 0; i < NNAMES; i++) {
		if (fds[i] == -1) {
			snprintf(err, errlen, "socket activation: no socket named %s among "
			    "LISTEN_FDNAMES=%.128s; pass both carriers and operators", names[i],
			    fdnames);
			return -1;
		}
	}
	return 0;
}

int
listen_fds_init(char *err, size_t errlen)
{
	int rc = parse(err, errlen);

	unset_vars();
	return rc;
}

int
listen_fds_take(const char *name)
{
	int fd;

	for (size_t i = 0; i < NNAMES; i++) {
		if (strcmp(names[i], name) == 0) {
			fd = fds[i];
			fds[i] = -1;
			return fd;
		}
	}
	return -1;
}
