/*
 * The daemon's life cycle, for main.c; its state is struct server
 * (server_state.h).
 */
#ifndef CORRIDOR_SERVER_H
#define CORRIDOR_SERVER_H

#include "server_state.h"

/* Opens the state, starts the threads and listeners; takes over the
 * reference to cfg. load_config rebuilds the configuration on SIGHUP.
 * Exits on failure. */
void server_init(struct server *srv, struct config *cfg, server_config_loader load_config);
/* Runs the loop until a graceful stop has finished; returns the exit code. */
int server_run(struct server *srv);
/* corridord --init-store: makes or migrates cfg's store, records its legs
 * and carriers and prepares every leg, then returns (0, or -1 with err);
 * nothing listens. For a new database before daemons start, or a tool. */
int server_init_store(const struct config *cfg, char *err, size_t errlen);
void server_free(struct server *srv);

#endif
