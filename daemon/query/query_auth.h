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

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

#include "access.h"

struct evbuffer;
struct query_auth_job;
struct query_refusal;
struct query_service;

/*
 * One operator connection's authentication, embedded in the connection
 * (query_conn.c), which registers at attach what this module needs of it:
 * its id and peer for the log, the output its answers go to and the
 * callback that reads on once an answer that came later (a checked AUTH, a
 * delayed refusal) is written. The rest is query_auth.c's. Loop thread only.
 */
struct query_auth {
	struct query_service *qs;
	uint64_t id;
	const char *peer;
	struct evbuffer *out;
	void (*answered)(void *conn);
	void *conn;

	enum op_right right;		/* what the AUTH of this connection granted */
	char op_name[ACCESS_NAME_MAX];	/* who, and with which stored hash, */
	char op_hash[CRED_TEXT_MAX];	/* so a reload can revoke it */
	struct query_auth_job *job;	/* an AUTH being checked */
	struct query_refusal *refusal;	/* a failed AUTH waiting out its delay */
	LIST_ENTRY(query_auth) entry;	/* in qs->auths */
};

/* The right a command (its first word, any case) needs. */
enum op_right query_right_needed(const char *command);

/* A new connection: no right yet; answered(conn) is called whenever an
 * answer has been written, also one written before query_auth_begin()
 * returns (the connection then is not waiting: the call must do nothing). */
void query_auth_attach(struct query_auth *a, struct query_service *qs, uint64_t id,
    const char *peer, struct evbuffer *out, void (*answered)(void *conn), void *conn);
/* Answers an AUTH line (taken over and freed). true: the answer comes later
 * (the connection waits for answered()); false: it is written already. */
bool query_auth_begin(struct query_auth *a, char *line);
/* 0 when the connection may run command; else an ERR line is written and
 * the refusal counted, and -1 is returned. */
int query_auth_permit(struct query_auth *a, const char *command);
/* The peer shut down its side: an AUTH still waiting its turn is dropped
 * unchecked (answered ERR UNAUTHORIZED), so that a guesser that closes at
 * once costs nothing; one being hashed is answered as usual. */
void query_auth_peer_closed(struct query_auth *a);
/* The connection is going: forget its check and its refusal timer. */
void query_auth_detach(struct query_auth *a);
/* After a reload: a token that is gone or changed loses its right, a
 * changed right applies from the next command; returns how many lost it. */
size_t query_auth_recheck(struct query_service *qs);

#endif
