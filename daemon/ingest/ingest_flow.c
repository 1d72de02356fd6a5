/* Carrier connection flow control; see ingest_flow.h. */
#include "ingest_flow.h"

#include <event2/bufferevent.h>
#include <event2/event.h>

#include "carrier.h"
#include "config.h"
#include "counters.h"
#include "frame.h"
#include "ingest_internal.h"
#include "log.h"
#include "writer.h"

static const char *
pause_name(enum ingest_pause reason)
{
	switch (reason) {
	case PAUSE_INFLIGHT:
		return "inflight";
	case PAUSE_BACKLOG:
		return "backlog";
	case PAUSE_FRAME_BUDGET:
		return "frame_budget";
	}
	return "?";
}

void
ingest_pause(struct ingest_conn *c, enum ingest_pause reason)
{
	if (c->paused & reason)
		return;
	c->paused |= reason;
	bufferevent_disable(c->bev, EV_READ);
	counters_paused(c->ing->counters);
	log_debug("conn=%llu carrier=%s paused reason=%s", (unsigned long long)c->id,
	    c->carrier != NULL ? c->carrier->code : "-", pause_name(reason));
}

void
ingest_resume(struct ingest_conn *c, enum ingest_pause reason)
{
	if (!(c->paused & reason))
		return;
	c->paused &= ~(unsigned)reason;
	log_debug("conn=%llu resumed reason=%s still=%u", (unsigned long long)c->id,
	    pause_name(reason), c->paused);
	if (c->paused != 0 || (c->state != INGEST_STREAMING && c->state != INGEST_HELLO))
		return;
	bufferevent_enable(c->bev, EV_READ);
	ingest_conn_take_input(c);
}

bool
ingest_backlog_has_room(struct ingest *ing, size_t n)
{
	return writer_pool_backlog(ing->writers) + n <=
	    (size_t)ingest_cfg(ing)->limits.max_queued_updates;
}

bool
ingest_frame_reserve(struct ingest_conn *c, size_t frame_bytes)
{
	struct ingest *ing = c->ing;

	if (c->frame_reserved != 0)
		return true;
	if (ing->frame_budget_used + frame_bytes >
	    (size_t)ingest_cfg(ing)->limits.large_frame_budget_bytes) {
		ingest_pause(c, PAUSE_FRAME_BUDGET);
		return false;
	}
	ing->frame_budget_used += frame_bytes;
	c->frame_reserved = frame_bytes;
	bufferevent_setwatermark(c->bev, EV_READ, 0, frame_bytes);
	return true;
}

void
ingest_frame_release(struct ingest_conn *c)
{
	if (c->frame_reserved == 0)
		return;
	c->ing->frame_budget_used -= c->frame_reserved;
	c->frame_reserved = 0;
	bufferevent_setwatermark(c->bev, EV_READ, 0,
	    (size_t)ingest_cfg(c->ing)->limits.conn_read_buffer_bytes);
	ingest_flow_kick(c->ing);
}

void
ingest_flow_kick(struct ingest *ing)
{
	event_active(ing->flow_ev, EV_TIMEOUT, 0);
}

void
ingest_flow_run(struct ingest *ing)
{
	const struct limits *l = &ingest_cfg(ing)->limits;
	bool backlog_low = writer_pool_backlog(ing->writers) <=
	    (size_t)l->max_queued_updates / 2;
	struct ingest_conn *c;

	TAILQ_FOREACH(c, &ing->conns, entry) {
		if (c->paused == 0 || c->state == INGEST_CLOSING)
			continue;
		if ((c->paused & PAUSE_INFLIGHT) && c->carrier != NULL &&
		    c->carrier->inflight < (uint64_t)l->max_inflight_updates / 2)
			ingest_resume(c, PAUSE_INFLIGHT);
		if ((c->paused & PAUSE_BACKLOG) && backlog_low)
			ingest_resume(c, PAUSE_BACKLOG);
		/* it asks for the budget again as it reads */
		if ((c->paused & PAUSE_FRAME_BUDGET) && ing->frame_budget_used <
		    (size_t)l->large_frame_budget_bytes)
			ingest_resume(c, PAUSE_FRAME_BUDGET);
	}
}
