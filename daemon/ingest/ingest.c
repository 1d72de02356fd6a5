/* The carrier port's life cycle; see ingest.h. */
#include "ingest.h"

#include <stdlib.h>

#include <event2/event.h>

#include "config.h"
#include "ingest_auth.h"
#include "ingest_flow.h"
#include "ingest_internal.h"

static void
on_flow(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	ingest_flow_run(arg);
}

struct ingest *
ingest_new(const struct ingest_env *env)
{
	struct ingest *ing = calloc(1, sizeof *ing);

	if (ing == NULL)
		return NULL;
	ing->base = env->base;
	ing->cfg = env->cfg;
	ing->counters = env->counters;
	ing->admission = env->admission;
	ing->checker = env->checker;
	ing->carriers = env->carriers;
	ing->writers = env->writers;
	ing->catalog = env->catalog;
	ing->checkpoints = env->checkpoints;
	ing->tls = env->tls;
	ing->shared_store = env->shared_store;
	if ((ing->flow_ev = event_new(ing->base, -1, 0, on_flow, ing)) == NULL) {
		free(ing);
		return NULL;
	}
	TAILQ_INIT(&ing->conns);
	arena_init(&ing->decode_arena, (size_t)ingest_cfg(ing)->limits.max_decode_bytes);
	return ing;
}

void
ingest_free(struct ingest *ing)
{
	struct ingest_conn *c;

	if (ing == NULL)
		return;
	while ((c = TAILQ_FIRST(&ing->conns)) != NULL)
		ingest_conn_discard(c);
	event_free(ing->flow_ev);
	arena_free_all(&ing->decode_arena);
	free(ing);
}

void
ingest_drain(struct ingest *ing)
{
	struct ingest_conn *c;

	TAILQ_FOREACH(c, &ing->conns, entry)
		ingest_conn_drain(c);
}

void
ingest_goodbye(struct ingest *ing)
{
	struct ingest_conn *c;

	/* Closing frees later, from the loop, so walking the list here is safe. */
	TAILQ_FOREACH(c, &ing->conns, entry) {
		ingest_conn_send_ack(c);
		ingest_conn_close(c, "shutdown", CORRIDOR__ERROR_CODE__SHUTTING_DOWN,
		    "the daemon is stopping; reconnect later");
	}
}

bool
ingest_idle(const struct ingest *ing)
{
	return TAILQ_EMPTY(&ing->conns);
}

size_t
ingest_reconfigured(struct ingest *ing)
{
	ing->decode_arena.limit = (size_t)ingest_cfg(ing)->limits.max_decode_bytes;
	return ingest_auth_recheck(ing);
}
