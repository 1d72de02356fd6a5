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
void server_free(struct server *srv);

#endif
