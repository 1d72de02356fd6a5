/*
 * Making guesses cost: failed authentications (carrier Hellos and operator
 * AUTH lines) are remembered per source address for auth_fail_window_s. A
 * credential check from an address with recent failures waits before it is
 * hashed: until a delay after the last failure (auth_fail_delay_ms, doubling
 * with every recent failure up to auth_fail_delay_max_ms), and one such delay
 * after the check before it. Checks in flight are capped per address
 * (auth_checks_per_ip) and in all (auth_checks_max). A fixed table of
 * auth_fail_addresses entries bounds the memory; the oldest are forgotten
 * first, never one with checks in flight. Loop thread only.
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

/* Records a failure from addr at now_ms (when the check failed, whether or
 * not the peer still waits) and returns how long (ms) to wait before the
 * refusal is sent. A success records nothing and wipes nothing: failures
 * only age out, so one right guess cannot reset the count for many wrong ones. */
int64_t auth_throttle_fail(struct auth_throttle *t, const char *addr, int64_t now_ms,
    const struct limits *l);
/* Whether a credential check may start. */
enum auth_gate {
	AUTH_GATE_OK,
	AUTH_GATE_PER_IP,	/* auth_checks_per_ip checks from the address in flight */
	AUTH_GATE_TOTAL,	/* auth_checks_max in flight (or no table slot free) */
};

/* Claims a check from addr at now_ms; with AUTH_GATE_OK, *wait_ms is how
 * long it must wait before hashing (0 for an address without recent
 * failures) and auth_throttle_end() must follow, once, whatever happens. */
enum auth_gate auth_throttle_begin(struct auth_throttle *t, const char *addr, int64_t now_ms,
    const struct limits *l, int64_t *wait_ms);
void auth_throttle_end(struct auth_throttle *t, const char *addr);
/* Checks in flight from addr, or in all with addr NULL. */
unsigned auth_throttle_inflight(const struct auth_throttle *t, const char *addr);
/* Failures of addr within the window before now_ms. */
unsigned auth_throttle_recent(const struct auth_throttle *t, const char *addr, int64_t now_ms,
    const struct limits *l);

/* The address part of a "host:port" peer string (the port dropped). */
void auth_peer_address(const char *peer, char *addr, size_t len);

#endif
