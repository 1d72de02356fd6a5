/*
 * Who may stay connected: open connections counted per IP address (both
 * listeners together, from accept until the connection is freed), and the
 * reasons the daemon refuses or drops a connection, for the log and for
 * corridor_connections_refused_total{reason} in the metrics.
 */
#ifndef CORRIDOR_CONN_LIMITS_H
#define CORRIDOR_CONN_LIMITS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* Why a connection was refused at accept or dropped by a limit. */
enum refuse_reason {
	REFUSE_STOPPING,		/* the daemon is stopping */
	REFUSE_TOTAL,			/* max_connections */
	REFUSE_PER_IP,			/* max_connections_per_ip */
	REFUSE_HANDSHAKE_DEADLINE,	/* TLS handshake + Hello not done in handshake_timeout_s */
	REFUSE_FRAME_DEADLINE,		/* a frame not finished within frame_timeout_s */
	REFUSE_LINE_DEADLINE,		/* a query line not finished within query_line_timeout_s */
	REFUSE_LINE_TOO_LONG,		/* a query line above max_query_line_bytes */
	REFUSE_IDLE,			/* silent for idle_timeout_s */
	REFUSE_TLS,			/* the TLS handshake failed (version, certificate, ...) */
	REFUSE_TLS_REQUIRED,		/* plain text sent to a TLS listener */
	REFUSE_CLIENT_CERT,		/* the client certificate does not name the carrier */
	REFUSE_SLOW_READER,		/* output_buffer_bytes of answers left unread */
	REFUSE_AUTH_CHECKS_PER_IP,	/* auth_checks_per_ip credential checks in flight */
	REFUSE_AUTH_CHECKS_MAX,		/* auth_checks_max credential checks in flight */
	REFUSE_WRITE_TIMEOUT,		/* no byte of the answers taken for write_timeout_s */
	REFUSE_REASONS
};

const char *refuse_reason_name(enum refuse_reason r);

/* An IP address as a hash key: IPv4 is kept as its IPv4-mapped IPv6 form.
 * family 0 (e.g. a Unix socket) is not counted per address. */
struct conn_addr {
	uint8_t bytes[16];
	uint8_t family;
};

void conn_addr_from(const struct sockaddr *sa, struct conn_addr *out);

struct ip_table;

struct ip_table *ip_table_new(void);
void ip_table_free(struct ip_table *t);
/* Open connections from a; 0 for an unknown address or family 0. */
size_t ip_table_count(const struct ip_table *t, const struct conn_addr *a);
/* One more from a; 0, or -1 when out of memory. Family 0 is not counted. */
int ip_table_add(struct ip_table *t, const struct conn_addr *a);
/* One fewer; the entry goes when it reaches 0. */
void ip_table_remove(struct ip_table *t, const struct conn_addr *a);
/* Addresses with at least one connection (for tests and the log). */
size_t ip_table_size(const struct ip_table *t);

#endif
