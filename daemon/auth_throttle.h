/*
 * Slowing down guessing: failed authentications (carrier Hellos and operator
 * AUTH lines) are remembered per source address for auth_fail_window_s, and
 * each failure is refused only after a delay that doubles with every recent
 * failure from that address (auth_fail_delay_ms, at most auth_fail_delay_max_ms).
 * A fixed table of auth_fail_addresses entries bounds the memory; the oldest
 * are forgotten first. Loop thread only; the caller waits with a timer.
 */
#ifndef CORRIDOR_AUTH_THROTTLE_H
#define CORRIDOR_AUTH_THROTTLE_H

#include <stddef.h>
#include <stdint.h>

#include "limit_table.h"

struct auth_throttle;

/* Why an authentication failed, for the log and the metrics
 * (corridor_auth_failures_total{port, reason}). */
enum auth_failure {
	/* the carrier port */
	AUTH_FAIL_UNKNOWN_CARRIER,	/* the Hello's code is not configured */
	AUTH_FAIL_NO_CREDENTIAL,	/* the Hello carries none */
	AUTH_FAIL_NOT_CONFIGURED,	/* no credential is configured for the code */
	AUTH_FAIL_WRONG_CREDENTIAL,
	AUTH_FAIL_CREDENTIAL_TOO_LONG,
	AUTH_FAIL_REVOKED,		/* a reload took the credential away */
	/* the query port */
	AUTH_FAIL_UNKNOWN_OPERATOR,
	AUTH_FAIL_WRONG_TOKEN,
	AUTH_FAIL_TOKEN_TOO_LONG,
	AUTH_FAIL_UNAUTHENTICATED,	/* a command that needs a right before AUTH */
	AUTH_FAIL_FORBIDDEN,		/* a command above the token's right */
	AUTH_FAIL_COUNT
};

/* "carriers" or "operators", and the reason as a label value. */
const char *auth_failure_port(enum auth_failure f);
const char *auth_failure_name(enum auth_failure f);

struct auth_throttle *auth_throttle_new(size_t slots);
void auth_throttle_free(struct auth_throttle *t);

/* Records a failure from addr at now_ms and returns how long (ms) to wait
 * before refusing it. */
int64_t auth_throttle_fail(struct auth_throttle *t, const char *addr, int64_t now_ms,
    const struct limits *l);
/* Failures of addr within the window before now_ms. */
unsigned auth_throttle_recent(const struct auth_throttle *t, const char *addr, int64_t now_ms,
    const struct limits *l);

/* The address part of a "host:port" peer string (the port dropped). */
void auth_peer_address(const char *peer, char *addr, size_t len);

#endif
