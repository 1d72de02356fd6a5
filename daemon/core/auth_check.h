/*
 * One credential check's life, shared by the carrier Hello (ingest_auth.c)
 * and the operator AUTH (query_auth.c): admitted by the failure throttle
 * (or refused at once, unhashed, over auth_checks_per_ip / auth_checks_max),
 * then waiting on a loop timer for the delay its address's recent failures
 * ask for, then hashed on the auth threads. Its slot in the throttle is held
 * until the job comes back or is dropped, so the caps count every check.
 */
#ifndef CORRIDOR_AUTH_CHECK_H
#define CORRIDOR_AUTH_CHECK_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth_throttle.h"
#include "workq.h"

struct config;
struct counters;
struct event;
struct event_base;

/* What the checks of both ports share, wired by the service: the loop, the
 * auth threads, the failure throttle, the counters and the configuration.
 * Loop thread only. */
struct auth_checker {
	struct event_base *base;
	struct workq *auth;		/* hashes the secrets */
	struct auth_throttle *throttle;
	struct counters *counters;	/* refusals and failures are counted there */
	struct config *const *cfg;	/* the owner's current snapshot */
};

struct auth_check {
	struct workq_job base;	/* first: the workq hands this pointer back */
	const struct auth_checker *env;
	struct event *wait_ev;	/* while it waits its turn; NULL once submitted */
	atomic_bool cancelled;	/* the peer went: the worker skips the hash */
	bool hashed;		/* set by the worker: a secret was compared */
	bool holding;		/* holds a check in the throttle */
	unsigned long long conn_id;
	char peer[64];		/* "host:port", for the failure and the log */
	char addr[64];		/* the throttle's key */
};

/* Admits ck (its base.run and base.done set) for the connection conn_id
 * from peer and submits it, at once or after its wait. Returns AUTH_GATE_OK,
 * or the cap that refuses it (logged and counted; nothing is held, the
 * caller refuses the peer with a message from auth_check_busy_message()). */
enum auth_gate auth_check_start(struct auth_check *ck, const struct auth_checker *env,
    unsigned long long conn_id, const char *peer);
/* What a refused peer is told. */
void auth_check_busy_message(enum auth_gate g, const struct auth_checker *env, char *buf,
    size_t len);
/* Counts a failed authentication from peer ("host:port") and returns how
 * long (ms) to wait before refusing it. */
int64_t auth_check_failed(const struct auth_checker *env, enum auth_failure why,
    const char *peer);
/* The connection goes. true: ck was still waiting and is released, the
 * caller frees it; false: it is with the auth threads, and its done() will
 * come (with the hash skipped if it has not started). */
bool auth_check_detach(struct auth_check *ck);
/* Whether ck still waits its turn (nothing hashed yet). */
bool auth_check_waiting(const struct auth_check *ck);
/* Worker thread: whether to hash at all; then record that it did. */
bool auth_check_wanted(struct auth_check *ck);
/* Loop thread, first thing in done(): releases the throttle's hold. */
void auth_check_finish(struct auth_check *ck);
/* done() of a check whose peer went away: a hashed secret that did not match
 * is still a failure of the address. */
void auth_check_orphan_failed(struct auth_check *ck, bool matched, enum auth_failure why);

#endif
