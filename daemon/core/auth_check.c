/* A credential check through the throttle; see auth_check.h. */
#include "auth_check.h"

#include <stdio.h>

#include <event2/event.h>

#include "config.h"
#include "counters.h"
#include "log.h"
#include "timeutil.h"

static void
check_wait_over(evutil_socket_t fd, short what, void *arg)
{
	struct auth_check *ck = arg;

	(void)fd;
	(void)what;
	event_free(ck->wait_ev);
	ck->wait_ev = NULL;
	workq_submit(ck->env->auth, &ck->base);
}

enum auth_gate
auth_check_start(struct auth_check *ck, const struct auth_checker *env,
    unsigned long long conn_id, const char *peer)
{
	const struct limits *l = &(*env->cfg)->limits;
	int64_t wait_ms;
	enum auth_gate g;
	struct timeval tv;

	ck->env = env;
	ck->conn_id = conn_id;
	atomic_init(&ck->cancelled, false);
	snprintf(ck->peer, sizeof ck->peer, "%s", peer);
	auth_peer_address(peer, ck->addr, sizeof ck->addr);
	g = auth_throttle_begin(env->throttle, ck->addr, time_mono_ms(), l, &wait_ms);
	if (g != AUTH_GATE_OK) {
		counters_refused(env->counters, g == AUTH_GATE_PER_IP ? REFUSE_AUTH_CHECKS_PER_IP :
		    REFUSE_AUTH_CHECKS_MAX);
		log_warnx("conn=%llu peer=%s credential check refused reason=%s in_flight=%u",
		    conn_id, peer, g == AUTH_GATE_PER_IP ? "auth_checks_per_ip" : "auth_checks_max",
		    auth_throttle_inflight(env->throttle, g == AUTH_GATE_PER_IP ? ck->addr : NULL));
		return g;
	}
	ck->holding = true;
	if (wait_ms == 0) {
		workq_submit(env->auth, &ck->base);
		return AUTH_GATE_OK;
	}
	log_info("conn=%llu peer=%s credential check waits wait_ms=%lld recent_failures=%u",
	    conn_id, peer, (long long)wait_ms,
	    auth_throttle_recent(env->throttle, ck->addr, time_mono_ms(), l));
	tv.tv_sec = (time_t)(wait_ms / 1000);
	tv.tv_usec = (suseconds_t)(wait_ms % 1000) * 1000;
	ck->wait_ev = evtimer_new(env->base, check_wait_over, ck);
	if (ck->wait_ev == NULL || evtimer_add(ck->wait_ev, &tv) == -1) {
		/* cannot wait: the check cannot run either */
		if (ck->wait_ev != NULL)
			event_free(ck->wait_ev);
		ck->wait_ev = NULL;
		auth_check_finish(ck);
		log_warnx("conn=%llu peer=%s credential check refused reason=no_timer", conn_id,
		    peer);
		return AUTH_GATE_TOTAL;
	}
	return AUTH_GATE_OK;
}

void
auth_check_busy_message(enum auth_gate g, const struct auth_checker *env, char *buf,
    size_t len)
{
	const struct limits *l = &(*env->cfg)->limits;

	if (g == AUTH_GATE_PER_IP)
		snprintf(buf, len, "too many credential checks from this address at once "
		    "(auth_checks_per_ip %lld); retry later", (long long)l->auth_checks_per_ip);
	else
		snprintf(buf, len, "too many credential checks at once (auth_checks_max %lld); "
		    "retry later", (long long)l->auth_checks_max);
}

bool
auth_check_detach(struct auth_check *ck)
{
	if (ck->wait_ev != NULL) {
		event_free(ck->wait_ev);
		ck->wait_ev = NULL;
		auth_check_finish(ck);
		return true;
	}
	atomic_store(&ck->cancelled, true);
	return false;
}

bool
auth_check_waiting(const struct auth_check *ck)
{
	return ck->wait_ev != NULL;
}

bool
auth_check_wanted(struct auth_check *ck)
{
	if (atomic_load(&ck->cancelled))
		return false;
	ck->hashed = true;
	return true;
}

void
auth_check_finish(struct auth_check *ck)
{
	if (!ck->holding)
		return;
	ck->holding = false;
	auth_throttle_end(ck->env->throttle, ck->addr);
}

int64_t
auth_check_failed(const struct auth_checker *env, enum auth_failure why, const char *peer)
{
	char addr[64];

	counters_auth_failed(env->counters, why);
	auth_peer_address(peer, addr, sizeof addr);
	return auth_throttle_fail(env->throttle, addr, time_mono_ms(), &(*env->cfg)->limits);
}

void
auth_check_orphan_failed(struct auth_check *ck, bool matched, enum auth_failure why)
{
	int64_t delay;

	if (!ck->hashed || matched)
		return;
	delay = auth_check_failed(ck->env, why, ck->peer);
	log_warnx("conn=%llu peer=%s authentication failed reason=%s peer_gone=1 "
	    "next_delay_ms=%lld", ck->conn_id, ck->peer, auth_failure_name(why), (long long)delay);
}
