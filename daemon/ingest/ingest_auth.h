/*
 * Carrier authentication: the Hello's credential is checked against the
 * hashes configured for its carrier code on the auth threads (the hash is
 * slow on purpose, so never on the loop), then the session is welcomed or
 * refused after the delay the failure throttle asks for. Also the
 * per-update check that a session writes only as its own carrier, and the
 * re-check of open sessions after a reload.
 */
#ifndef CORRIDOR_INGEST_AUTH_H
#define CORRIDOR_INGEST_AUTH_H

#include "corridor.pb-c.h"

struct ingest_conn;
struct reject;
struct ingest;

/* A Hello with a valid version and carrier code: check it. */
void ingest_auth_begin(struct ingest_conn *c, const Corridor__Hello *h);
/* The connection is going: a check in flight forgets it, a refusal's timer goes. */
void ingest_auth_detach(struct ingest_conn *c);
/* Fills rej for an update whose carrier is not the session's. */
void ingest_auth_wrong_carrier(struct ingest_conn *c, const char *code, struct reject *rej);
/* After a reload: closes the sessions whose credential (or carrier) the
 * current configuration no longer has; returns how many. */
size_t ingest_auth_recheck(struct ingest *ing);

#endif
