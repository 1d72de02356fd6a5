/* Small socket helpers shared by the listeners and connections. */
#ifndef CORRIDOR_NET_UTIL_H
#define CORRIDOR_NET_UTIL_H

#include <stddef.h>
#include <sys/socket.h>

/* "host:port" of a peer address, for the log. */
void net_format_peer(const struct sockaddr *sa, char *buf, size_t len);
/* True for 127.0.0.0/8 and ::1. */
int net_is_loopback(const struct sockaddr *sa);
/* TCP_NODELAY on a connected socket. */
void net_set_nodelay(int fd);

#endif
