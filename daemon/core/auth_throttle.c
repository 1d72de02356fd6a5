/* Per-address failure memory and delays; see auth_throttle.h. */
#include "auth_throttle.h"

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ADDR_MAX 48		/* an IPv6 address in text, with its NUL */
#define PROBE 8			/* slots looked at per address */
#define SHIFT_MAX 30

struct slot {
	char addr[ADDR_MAX];	/* "" = free */
	unsigned failures;
	int64_t last_ms;	/* the last failure */
	int64_t next_ms;	/* the earliest start of the next delayed check */
	unsigned inflight;	/* checks waiting or hashing: the slot is not reused */
};

struct auth_throttle {
	struct slot *slots;
	size_t n;
	unsigned inflight;	/* over all addresses */
};

static const char *const failure_names[AUTH_FAIL_COUNT] = {
	[AUTH_FAIL_UNKNOWN_CARRIER] = "unknown_carrier",
	[AUTH_FAIL_NO_CREDENTIAL] = "no_credential",
	[AUTH_FAIL_NOT_CONFIGURED] = "not_configured",
	[AUTH_FAIL_WRONG_CREDENTIAL] = "wrong_credential",
	[AUTH_FAIL_CREDENTIAL_TOO_LONG] = "too_long",
	[AUTH_FAIL_REVOKED] = "revoked",
	[AUTH_FAIL_UNKNOWN_OPERATOR] = "unknown_operator",
	[AUTH_FAIL_WRONG_TOKEN] = "wrong_token",
	[AUTH_FAIL_TOKEN_TOO_LONG] = "too_long",
	[AUTH_FAIL_UNAUTHENTICATED] = "unauthenticated",
	[AUTH_FAIL_FORBIDDEN] = "forbidden",
};

const char *
auth_failure_port(enum auth_failure f)
{
	return f < AUTH_FAIL_UNKNOWN_OPERATOR ? "carriers" : "operators";
}

const char *
auth_failure_name(enum auth_failure f)
{
	return (unsigned)f < AUTH_FAIL_COUNT ? failure_names[f] : "?";
}

struct auth_throttle *
auth_throttle_new(size_t slots)
{
	struct auth_throttle *t = calloc(1, sizeof *t);

	if (t == NULL || (t->slots = calloc(slots ? slots : 1, sizeof *t->slots)) == NULL) {
		free(t);
		return NULL;
	}
	t->n = slots ? slots : 1;
	return t;
}

void
auth_throttle_free(struct auth_throttle *t)
{
	if (t == NULL)
		return;
	free(t->slots);
	free(t);
}

static uint64_t
addr_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;	/* FNV-1a */

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

static bool
expired(const struct slot *s, int64_t now_ms, const struct limits *l)
{
	return now_ms - s->last_ms > l->auth_fail_window_s * 1000;
}

/* The slot holding addr, else NULL (lookup only). */
static struct slot *
find(const struct auth_throttle *t, const char *addr)
{
	size_t start = (size_t)(addr_hash(addr) % t->n);

	for (size_t i = 0; i < PROBE && i < t->n; i++) {
		struct slot *s = &t->slots[(start + i) % t->n];

		if (strcmp(s->addr, addr) == 0)
			return s;
	}
	return NULL;
}

/* The slot for addr: its own, a free or expired one, or the one used least
 * recently among those probed (its address is forgotten). A slot with checks
 * in flight is never taken: NULL when every probed slot has some. */
static struct slot *
claim(struct auth_throttle *t, const char *addr, int64_t now_ms, const struct limits *l)
{
	size_t start = (size_t)(addr_hash(addr) % t->n);
	struct slot *own = find(t, addr), *oldest = NULL;

	if (own != NULL)
		return own;
	for (size_t i = 0; i < PROBE && i < t->n; i++) {
		struct slot *s = &t->slots[(start + i) % t->n];

		if (s->inflight > 0)
			continue;
		if (s->addr[0] == '\0' || expired(s, now_ms, l)) {
			oldest = s;
			break;
		}
		if (oldest == NULL || s->last_ms < oldest->last_ms)
			oldest = s;
	}
	if (oldest == NULL)
		return NULL;
	snprintf(oldest->addr, sizeof oldest->addr, "%s", addr);
	oldest->failures = 0;
	oldest->last_ms = oldest->next_ms = 0;
	return oldest;
}

/* The delay that n recent failures ask for: auth_fail_delay_ms doubled
 * n - 1 times, at most auth_fail_delay_max_ms. */
static int64_t
delay_for(unsigned n, const struct limits *l)
{
	int64_t delay = l->auth_fail_delay_ms;

	for (unsigned k = 1; k < n && k <= SHIFT_MAX && delay < l->auth_fail_delay_max_ms; k++)
		delay *= 2;
	return delay < l->auth_fail_delay_max_ms ? delay : l->auth_fail_delay_max_ms;
}

int64_t
auth_throttle_fail(struct auth_throttle *t, const char *addr, int64_t now_ms,
    const struct limits *l)
{
	struct slot *s = claim(t, addr, now_ms, l);

	if (s == NULL)		/* every probed slot busy: not remembered, still delayed */
		return delay_for(1, l);
	if (s->failures > 0 && expired(s, now_ms, l)) {
		s->failures = 0;
		s->next_ms = 0;
	}
	if (s->failures < UINT_MAX)
		s->failures++;
	s->last_ms = now_ms;
	return delay_for(s->failures, l);
}

enum auth_gate
auth_throttle_begin(struct auth_throttle *t, const char *addr, int64_t now_ms,
    const struct limits *l, int64_t *wait_ms)
{
	struct slot *s = find(t, addr);
	int64_t delay, earliest, start, queued;

	*wait_ms = 0;
	if (t->inflight >= (unsigned)l->auth_checks_max)
		return AUTH_GATE_TOTAL;
	if (s != NULL && s->inflight >= (unsigned)l->auth_checks_per_ip)
		return AUTH_GATE_PER_IP;
	if (s == NULL && (s = claim(t, addr, now_ms, l)) == NULL)
		return AUTH_GATE_TOTAL;
	if (s->failures > 0 && !expired(s, now_ms, l)) {
		/* Checks from this address start at least one delay after its
		 * last failure and one delay apart; a reservation left by checks
		 * whose peers went away counts only as far as checks are still
		 * in flight, so the wait stays bounded. */
		delay = delay_for(s->failures, l);
		earliest = s->last_ms + delay > now_ms ? s->last_ms + delay : now_ms;
		queued = earliest + delay * (int64_t)s->inflight;
		start = s->next_ms < queued ? s->next_ms : queued;
		if (start < earliest)
			start = earliest;
		s->next_ms = start + delay;
		*wait_ms = start - now_ms;
	}
	s->inflight++;
	t->inflight++;
	return AUTH_GATE_OK;
}

void
auth_throttle_end(struct auth_throttle *t, const char *addr)
{
	struct slot *s = find(t, addr);

	if (s != NULL && s->inflight > 0)
		s->inflight--;
	if (t->inflight > 0)
		t->inflight--;
}

unsigned
auth_throttle_inflight(const struct auth_throttle *t, const char *addr)
{
	const struct slot *s;

	if (addr == NULL)
		return t->inflight;
	s = find(t, addr);
	return s != NULL ? s->inflight : 0;
}

unsigned
auth_throttle_recent(const struct auth_throttle *t, const char *addr, int64_t now_ms,
    const struct limits *l)
{
	const struct slot *s = find(t, addr);

	return s == NULL || expired(s, now_ms, l) ? 0 : s->failures;
}

void
auth_peer_address(const char *peer, char *addr, size_t len)
{
	const char *colon = strrchr(peer, ':');
	size_t n = colon != NULL ? (size_t)(colon - peer) : strlen(peer);

	if (n >= len)
		n = len - 1;
	memcpy(addr, peer, n);
	addr[n] = '\0';
}
