/*
 * A carrier's connection: frames in, Hello/Welcome, batches validated and
 * handed to the writers, Acks and Rejections out. One struct per
 * connection with an explicit state and one teardown path that logs why.
 */
#ifndef CORRIDOR_INGEST_CONN_H
#define CORRIDOR_INGEST_CONN_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>

#include <event2/util.h>

#include "conn_limits.h"
#include "corridor.pb-c.h"

struct server;
struct carrier;
struct update_rec;

enum ingest_state {
	INGEST_HELLO,		/* waiting for the carrier's Hello */
	INGEST_STREAMING,	/* batches flow */
	INGEST_DRAINING,	/* daemon stopping: no more reading, acks still go out */
	INGEST_CLOSING,		/* flushing a last frame, then freed */
};

struct ingest_conn {
	TAILQ_ENTRY(ingest_conn) entry;
	uint64_t id;
	struct server *srv;
	struct bufferevent *bev;
	enum ingest_state state;
	struct carrier *carrier;
	char peer[64];
	struct conn_addr addr;	/* counted against max_connections_per_ip */
	/* the handshake deadline (TLS and Hello, from accept), then the deadline
	 * of the frame being read (from its first byte) */
	struct event *deadline_ev;
	unsigned paused;	/* enum ingest_pause bits: why it is not read */
	size_t frame_reserved;	/* bytes of the shared large-frame budget held */
	bool ack_wanted;	/* a resend of acknowledged updates wants an Ack */
	uint64_t ack_sent;
	const char *close_reason;
};

void ingest_conn_accept(struct server *srv, evutil_socket_t fd, const struct sockaddr *sa,
    int salen);
/* Sends an Error frame (when code != 0), stops reading and frees the
 * connection once the frame is written. reason is a log word. */
void ingest_conn_close(struct ingest_conn *c, const char *reason, Corridor__ErrorCode code,
    const char *message);
/* Writers finished these updates: acknowledge, reject, resume readers. */
void ingest_on_stored(struct server *srv, struct update_rec *list);
/* Takes in the whole frames buffered, as far as flow control allows. */
void ingest_conn_take_input(struct ingest_conn *c);
/* Graceful stop: take in what was already read, then stop reading. */
void ingest_conn_drain(struct ingest_conn *c);
/* Sends an Ack if the carrier's mark moved past what this session was told. */
void ingest_conn_send_ack(struct ingest_conn *c);
/* The same for every carrier session. */
void ingest_ack_all(struct server *srv);
struct reject;
void ingest_conn_send_rejection(struct ingest_conn *c, uint64_t seq, const struct reject *rej);

#endif
