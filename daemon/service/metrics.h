/*
 * The monitoring endpoint: an HTTP listener (libevent's evhttp, on the loop
 * thread) answering GET /metrics in Prometheus text format and GET /health.
 */
#ifndef CORRIDOR_METRICS_H
#define CORRIDOR_METRICS_H

#include <stddef.h>

struct server;
struct metrics;

/* Listens on addr ("host:port" or "[v6]:port"); NULL with err filled if it
 * cannot. */
struct metrics *metrics_start(struct server *srv, const char *addr, char *err, size_t errlen);
/* Closes the listener and its connections; NULL is fine. */
void metrics_stop(struct metrics *m);

#endif
