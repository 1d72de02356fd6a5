/*
 * The insides of the carrier port, shared by daemon/ingest/'s files and
 * seen by nothing above it (the service has ingest.h): the module's state,
 * a carrier's connection and what the files call of each other.
 *
 * A carrier's connection: frames in, Hello/Welcome, batches validated and
 * handed to the writers, Acks and Rejections out. One struct per
 * connection with an explicit state and one teardown path that logs why.
 */
#ifndef CORRIDOR_INGEST_INTERNAL_H
#define CORRIDOR_INGEST_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

#include <event2/util.h>

#include "access.h"
#include "arena.h"
#include "conn_limits.h"
#include "corridor.pb-c.h"

struct admission;
struct auth_checker;
struct carrier;
struct carrier_table;
struct config;
struct counters;
struct event;
struct event_base;
struct ingest_auth_job;
struct ingest_refusal;
struct pending_reject;
struct ssl_ctx_st;
struct store_catalog;
struct update_rec;
struct workq;
struct writer_pool;

/*
 * The carrier port (ingest.h). The pieces from below are the service's,
 * wired at ingest_new() and outliving it; the rest is the module's own and
 * written only here. Everything is the loop thread's, except that the
 * checkpoint thread uses catalog (marks.c's jobs), which is set once.
 */
struct ingest {
	struct event_base *base;
	struct config *const *cfg;	/* the owner's current snapshot */
	struct counters *counters;	/* the shared counters (counters.h) */
	struct admission *admission;	/* who may connect; connection ids */
	const struct auth_checker *checker;	/* credentials on the auth threads */
	struct carrier_table *carriers;	/* every carrier's live state, for the whole run */
	struct writer_pool *writers;
	struct store_catalog *catalog;	/* the checkpoint thread's (marks.c) */
	struct workq *checkpoints;	/* runs every catalog write */
	struct ssl_ctx_st *tls;		/* NULL: plain TCP on the carrier port */
	bool shared_store;		/* marks_refresh at each Hello */

	/* loop thread: the module's own */
	TAILQ_HEAD(, ingest_conn) conns;	/* every carrier connection */
	struct event *flow_ev;		/* resumes paused carriers (ingest_flow.c) */
	size_t frame_budget_used;	/* of large_frame_budget_bytes */
	struct pending_reject *pending_rejects;	/* gathered for the catalog (marks.c) */
	bool checkpoint_running;	/* one marks checkpoint at a time (marks.c) */
	struct arena decode_arena;	/* one frame at a time, reset after each */
};

static inline struct config *
ingest_cfg(const struct ingest *ing)
{
	return *ing->cfg;
}

enum ingest_state {
	INGEST_HELLO,		/* waiting for the carrier's Hello */
	INGEST_AUTH,		/* its credential is being checked; frames wait */
	INGEST_REFUSING,	/* authentication failed: the refusal waits out its delay */
	INGEST_STREAMING,	/* batches flow */
	INGEST_DRAINING,	/* daemon stopping: no more reading, acks still go out */
	INGEST_CLOSING,		/* flushing a last frame, then freed */
};

struct ingest_conn {
	TAILQ_ENTRY(ingest_conn) entry;
	uint64_t id;
	struct ingest *ing;
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

	/* authentication (ingest_auth.c) */
	struct ingest_auth_job *auth_job;	/* while INGEST_AUTH */
	struct ingest_refusal *refusal;		/* while INGEST_REFUSING */
	char cred_name[ACCESS_NAME_MAX];	/* the credential the session opened with, */
	char cred_hash[CRED_TEXT_MAX];		/* found again after a reload by both */
	char client_name[48];			/* the Hello's, for the log; "" if none */
	/* what the Welcome promised, kept for the session across reloads */
	uint32_t max_frame_bytes, max_batch_updates;
};

/* Sends an Error frame (when code != 0), stops reading and frees the
 * connection once the frame is written. reason is a log word. */
void ingest_conn_close(struct ingest_conn *c, const char *reason, Corridor__ErrorCode code,
    const char *message);
/* With mutual TLS: the client certificate names carrier (as the [tls]
 * settings ask); otherwise the session is refused and false returned. */
struct carrier;
bool ingest_client_cert_ok(struct ingest_conn *c, const struct carrier *carrier);
/* Frees at once, without a word to the peer (the daemon is exiting). */
void ingest_conn_discard(struct ingest_conn *c);
/* The credential checked out: the session starts (Welcome) and the frames
 * that came after the Hello are taken in. */
void ingest_conn_welcome(struct ingest_conn *c, struct carrier *carrier,
    const struct credential *cred);
/* Takes a Batch's updates (ingest_batch.c); nul[i]: update i holds a NUL byte. */
void ingest_batch_take(struct ingest_conn *c, const Corridor__Batch *b, const bool *nul);
/* Takes in the whole frames buffered, as far as flow control allows. */
void ingest_conn_take_input(struct ingest_conn *c);
/* Graceful stop: take in what was already read, then stop reading. */
void ingest_conn_drain(struct ingest_conn *c);
/* Sends an Ack if the carrier's mark moved past what this session was told. */
void ingest_conn_send_ack(struct ingest_conn *c);
/* The same for every carrier session. */
void ingest_ack_all(struct ingest *ing);
struct reject;
void ingest_conn_send_rejection(struct ingest_conn *c, uint64_t seq, const struct reject *rej);

#endif
