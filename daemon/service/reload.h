/*
 * SIGHUP: the configuration is read again the way the daemon was started
 * (file, then command-line flags) and swapped in as a new snapshot without
 * dropping connections. Carriers, credentials, operator tokens, legs and
 * limits change; what cannot change while running (listeners, state
 * directory, thread counts, TLS certificates, ...) keeps its running value
 * and the log says it needs a restart. A file with any problem changes
 * nothing at all.
 *
 * Legs: a new leg gets its file (created and migrated off the loop) and the
 * next index; a changed leg's description applies at once, but its typical
 * time, from which the writer derives the rollups, needs a restart (that
 * derives them again). A leg may not disappear or change kind while running
 * (its open file and the traversals paired by its kind would no longer match
 * the configuration): such a file is refused like an invalid one.
 *
 * The sessions of a carrier whose credential was revoked (removed, or its
 * hash replaced) or whose code was removed get an Error frame and are
 * closed; an operator connection whose token went loses its right.
 */
#ifndef CORRIDOR_RELOAD_H
#define CORRIDOR_RELOAD_H

#include <stddef.h>

struct config;
struct leg_table;
struct server;

/* Starts a reload (SIGHUP); one more is queued while one runs. */
void reload_begin(struct server *srv);

/* Orders next so that every leg of running keeps its index and new legs
 * come after; -1 with err when a leg of running is missing or changed kind. */
int reload_reconcile_legs(const struct leg_table *running, struct leg_table *next, char *err,
    size_t errlen);

/* Settings that only a restart changes: each that differs is logged and set
 * back to the running value in next; returns how many. */
int reload_keep_restart_only(const struct config *running, struct config *next);

#endif
