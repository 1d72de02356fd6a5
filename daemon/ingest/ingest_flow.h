/*
 * Flow control for carrier connections: why a connection is not being read
 * (its carrier has too much unacknowledged, the writers' backlog is full, or
 * a large frame waits for the shared frame budget) and when it may resume.
 * Reading stops by disabling the socket's read event, so a flooding carrier
 * meets TCP backpressure instead of growing the daemon's memory.
 */
#ifndef CORRIDOR_INGEST_FLOW_H
#define CORRIDOR_INGEST_FLOW_H

#include <stdbool.h>
#include <stddef.h>

struct ingest_conn;
struct ingest;

enum ingest_pause {
	PAUSE_INFLIGHT = 1,	/* its carrier has max_inflight_updates unacknowledged */
	PAUSE_BACKLOG = 2,	/* the writers' backlog reached max_queued_updates */
	PAUSE_FRAME_BUDGET = 4,	/* a large frame waits for large_frame_budget_bytes */
};

void ingest_pause(struct ingest_conn *c, enum ingest_pause reason);
/* Clears reason; once nothing holds the connection, reading resumes and the
 * frames already buffered are taken in. */
void ingest_resume(struct ingest_conn *c, enum ingest_pause reason);

/* True when n more updates fit under max_queued_updates. */
bool ingest_backlog_has_room(struct ingest *ing, size_t n);

/* A frame of frame_bytes does not fit conn_read_buffer_bytes: reserve it
 * from the shared budget and read on (true), or pause until there is room. */
bool ingest_frame_reserve(struct ingest_conn *c, size_t frame_bytes);
/* The large frame was taken in (or the connection is going): give it back. */
void ingest_frame_release(struct ingest_conn *c);

/* Resumes, from the top of the loop, the connections that may read again. */
void ingest_flow_kick(struct ingest *ing);
void ingest_flow_run(struct ingest *ing);

#endif
