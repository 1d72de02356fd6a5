/* The daemon's shared counters; see counters.h. Loop thread only. */
#include <stdbool.h>
#include <stddef.h>

#include "counters.h"

void
counters_received(struct counters *k)
{
	k->updates_received++;
}

void
counters_stored(struct counters *k, size_t leg_index)
{
	k->updates_stored++;
	if (leg_index < LEGS_MAX)
		k->leg_stored[leg_index]++;
}

void
counters_duplicate(struct counters *k)
{
	k->updates_duplicate++;
}

void
counters_store_failed(struct counters *k)
{
	k->store_failures++;
}

void
counters_rejected(struct counters *k, int reason)
{
	if ((unsigned)reason < COUNTERS_REJECT_REASONS)
		k->updates_rejected[reason]++;
}

void
counters_refused(struct counters *k, enum refuse_reason why)
{
	if ((unsigned)why < REFUSE_REASONS)
		k->refused[why]++;
}

void
counters_session_error(struct counters *k, int code)
{
	if ((unsigned)code < COUNTERS_ERROR_CODES)
		k->session_errors[code]++;
}

uint64_t
counters_accept_paused(struct counters *k)
{
	return ++k->accept_pauses;
}

void
counters_busy_batch(struct counters *k)
{
	k->busy_batches++;
}

void
counters_paused(struct counters *k)
{
	k->pauses++;
}

void
counters_query(struct counters *k)
{
	k->queries++;
}

void
counters_auth_failed(struct counters *k, enum auth_failure why)
{
	if ((unsigned)why < AUTH_FAIL_COUNT)
		k->auth_failures[why]++;
}

void
counters_reload(struct counters *k, bool ok)
{
	if (ok)
		k->reloads_ok++;
	else
		k->reloads_failed++;
}
