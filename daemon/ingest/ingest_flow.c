/* Carrier connection flow control; see ingest_flow.h. */
#include "ingest_flow.h"

#include <event2/bufferevent.h>
#include <event2/event.h>

#include "carrier.h"
#include "counters.h"
#include "frame.h"
#include "ingest_conn.h"
#include "log.h"
#include "server.h"
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
	counters_paused(&c->srv->counters);
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
ingest_backlog_has_room(struct server *srv, size_t n)
{
	return writer_pool_backlog(srv->writers) + n <=
	    (size_t)srv->cfg->limits.max_queued_updates;
}

bool
ingest_frame_reserve(struct ingest_conn *c, size_t frame_bytes)
{
	struct server *srv = c->srv;

	if (c->frame_reserved != 0)
		return true;
	if (srv->frame_budget_used + frame_bytes >
	    (size_t)srv->cfg->limits.large_frame_budget_bytes) {
		ingest_pause(c, PAUSE_FRAME_BUDGET);
		return false;
	}
	srv->frame_budget_used += frame_bytes;
	c->frame_reserved = frame_bytes;
	bufferevent_setwatermark(c->bev, EV_READ, 0, frame_bytes);
	return true;
}

void
ingest_frame_release(struct ingest_conn *c)
{
	if (c->frame_reserved == 0)
		return;
	c->srv->frame_budget_used -= c->frame_reserved;
	c->frame_reserved = 0;
	bufferevent_setwatermark(c->bev, EV_READ, 0,
	    (size_t)c->srv->cfg->limits.conn_read_buffer_bytes);
	ingest_flow_kick(c->srv);
}

void
ingest_flow_kick(struct server *srv)
{
	event_active(srv->flow_ev, EV_TIMEOUT, 0);
}

void
ingest_flow_run(struct server *srv)
{
	const struct limits *l = &srv->cfg->limits;
	bool backlog_low = writer_pool_backlog(srv->writers) <=
	    (size_t)l->max_queued_updates / 2;
	struct ingest_conn *c;

	TAILQ_FOREACH(c, &srv->ingest_conns, entry) {
		if (c->paused == 0 || c->state == INGEST_CLOSING)
			continue;
		if ((c->paused & PAUSE_INFLIGHT) && c->carrier != NULL &&
		    c->carrier->inflight < (uint64_t)l->max_inflight_updates / 2)
			ingest_resume(c, PAUSE_INFLIGHT);
		if ((c->paused & PAUSE_BACKLOG) && backlog_low)
			ingest_resume(c, PAUSE_BACKLOG);
		/* it asks for the budget again as it reads */
		if ((c->paused & PAUSE_FRAME_BUDGET) && srv->frame_budget_used <
		    (size_t)l->large_frame_budget_bytes)
			ingest_resume(c, PAUSE_FRAME_BUDGET);
	}
}
