/*
 * Operator authentication on the query port: "AUTH <name> <secret>" checks
 * the secret against the [operators] hash of that name on the auth threads
 * and grants the token's right (read or admin) to the connection. The
 * command table (query_exec.c) says what each command needs: PING,
 * HELP, QUIT and AUTH need no right; BACKUP needs admin; every other
 * command needs read. A failed AUTH is answered ERR UNAUTHORIZED only after
 * the failure throttle's delay. Carrier credentials are a separate table:
 * they never open this port.
 */
#ifndef CORRIDOR_QUERY_AUTH_H
#define CORRIDOR_QUERY_AUTH_H

#include <stddef.h>

#include "access.h"

struct query_conn;
struct query_service;

/* The right a command (its first word, any case) needs. */
enum op_right query_right_needed(const char *command);

/* Answers an AUTH line (taken over and freed); the connection is
 * QUERY_RUNNING until the answer is written. */
void query_auth_begin(struct query_conn *q, char *line);
/* 0 when q may run command; else an ERR line is written and the refusal
 * counted, and -1 is returned. */
int query_auth_permit(struct query_conn *q, const char *command);
/* The peer shut down its side: an AUTH still waiting its turn is dropped
 * unchecked (answered ERR UNAUTHORIZED), so that a guesser that closes at
 * once costs nothing; one being hashed is answered as usual. */
void query_auth_peer_closed(struct query_conn *q);
/* The connection is going: forget its check and its refusal timer. */
void query_auth_detach(struct query_conn *q);
/* After a reload: a token that is gone or changed loses its right, a
 * changed right applies from the next command; returns how many lost it. */
size_t query_auth_recheck(struct query_service *qs);

#endif
