/*
 * Socket activation: the listening sockets systemd passes in ($LISTEN_PID,
 * $LISTEN_FDS, $LISTEN_FDNAMES; descriptors from 3), read directly without
 * libsystemd. Each must be named "carriers" or "operators".
 */
#ifndef CORRIDOR_LISTEN_FDS_H
#define CORRIDOR_LISTEN_FDS_H

#include <stddef.h>

/* Reads and unsets the variables; call before any thread starts. 0 when
 * nothing was passed (or it was meant for another process) or every passed
 * descriptor is a named listening socket, both names present, each once;
 * else -1 with the reason in err. */
int listen_fds_init(char *err, size_t errlen);
/* The descriptor passed for name ("carriers", "operators"), close-on-exec
 * and non-blocking; -1 when not socket-activated. The caller owns it. */
int listen_fds_take(const char *name);

#endif
