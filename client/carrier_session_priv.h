/*
 * The inside of a carrier session, shared by carrier_session.c (the
 * streaming state machine) and carrier_hello.c (connect, hello, welcome).
 * Nothing outside those two files includes it.
 */
#ifndef CORRIDORCTL_CARRIER_SESSION_PRIV_H
#define CORRIDORCTL_CARRIER_SESSION_PRIV_H

#include <stdbool.h>

#include "carrier_session.h"
#include "ctl_conn.h"

#define CS_HANDSHAKE_MS 10000
#define CS_SILENCE_MS 60000	/* unacknowledged updates and no word from the daemon */
#define CS_RETRY_MS 500
#define CS_RETRY_MAX_MS 10000
#define CS_REPORT_MAX 20	/* rejections reported one by one, the rest counted */
#define CS_TRIES_MAX 30	/* retryable rejections of one update before giving up */
#define CS_BACKOFF_MAX_MS 5000

enum pstate { P_WAIT, P_INFLIGHT, P_RETRY, P_REJECTED };

struct pending {
	Corridor__ShipmentUpdate *u;
	int64_t retry_at;
	uint8_t st;
	uint8_t expect_reject;
	uint8_t sent_once;
	uint8_t tries;		/* retryable rejections so far */
};

struct csession {
	struct cs_opts o;
	enum cs_state state;
	struct ctl_conn conn;	/* fd -1 between sessions */
	uint64_t acked;
	struct pending *q;
	size_t n, cap, base, next, nretry;
	uint8_t *out;
	size_t outlen, outoff, outcap;
	uint8_t *in;
	size_t inlen, incap;
	uint32_t max_frame, max_batch, window;
	int attempts;
	int64_t backoff_until, last_rx;
	struct cs_stats st;
	char err[256];
};

/* Counts and frees what is at or below acked; the mark only grows. */
void cs_advance_mark(struct csession *cs, uint64_t acked);
void cs_release_fd(struct csession *cs);
/* Connect, hello, welcome; *final when trying again cannot help. */
int cs_open_session(struct csession *cs, char *err, size_t errlen, bool *final);
const char *cs_error_code_name(int code);
bool cs_error_is_final(Corridor__ErrorCode code);

#endif
