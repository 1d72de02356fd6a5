/*
 * Admission: whether a new connection may stay (the daemon is not stopping,
 * max_connections, max_connections_per_ip), counted in total and for its
 * address from accept until the session calls admission_closed(); and the
 * connection ids every listener's connections share. The listeners (carrier,
 * operator, metrics) call it at accept, the sessions when they are freed.
 * Loop thread only.
 */
#ifndef CORRIDOR_ADMISSION_H
#define CORRIDOR_ADMISSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "conn_limits.h"

struct config;
struct counters;
struct ip_table;

struct admission {
	struct config *const *cfg;	/* the loop's current snapshot (its owner swaps it) */
	struct counters *counters;	/* refusals are counted there */
	struct ip_table *per_ip;	/* open connections by peer address */
	size_t nconns;			/* open connections of every listener */
	uint64_t next_conn_id;
	bool stopping;			/* the daemon is stopping: refuse all */
};

/* -1 when out of memory. cfg points at the owner's current configuration. */
int admission_init(struct admission *a, struct config *const *cfg, struct counters *k);
void admission_free(struct admission *a);
/* A new connection is admitted (and counted until admission_closed) or
 * refused with *why (counted and logged); what is "carrier", "operator" or
 * "metrics" for the log. */
bool admission_admit(struct admission *a, const char *what, const struct sockaddr *sa,
    struct conn_addr *addr, enum refuse_reason *why);
void admission_closed(struct admission *a, const struct conn_addr *addr);
/* The id of a new connection, unique over the run. */
uint64_t admission_next_id(struct admission *a);
size_t admission_count(const struct admission *a);
/* From now on every connection is refused with REFUSE_STOPPING. */
void admission_stop(struct admission *a);

#endif
