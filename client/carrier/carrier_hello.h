/*
 * Opening a carrier session (carrier_hello.c): connect, Hello, Welcome. The
 * session (carrier_session.c) calls it and takes the result; the hello never
 * calls back into the session.
 */
#ifndef CORRIDORCTL_CARRIER_HELLO_H
#define CORRIDORCTL_CARRIER_HELLO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "corridor.pb-c.h"
#include "ctl_conn.h"

#define CS_HANDSHAKE_MS 10000

/* One hello, filled by the session's thread on its stack: what it asks for,
 * then what the welcome granted. */
struct cs_hello {
	const struct ctl_tls *tls;	/* NULL: plain TCP */
	const char *host, *port;
	const char *carrier;
	const char *credential;	/* may be NULL */
	size_t batch;		/* updates per Batch wanted */
	size_t window;		/* most unacknowledged wanted; 0 = the daemon's */
	uint64_t acked;		/* the mark the session holds; the welcome's may not be lower */
	/* the welcome's, capped by what was asked */
	uint64_t acked_seq;
	uint32_t max_frame, max_batch, max_window;
};

/* Connects cn, says hello and reads the welcome (blocking, time-limited),
 * then makes cn non-blocking. 0 with h's results filled, or -1 with err and
 * cn closed; *final when trying again cannot help. */
int cs_hello_open(struct ctl_conn *cn, struct cs_hello *h, char *err, size_t errlen,
    bool *final);
/* The name of a daemon's error code, "UNKNOWN" if it has none. */
const char *cs_error_code_name(int code);
/* Session-ending errors that another attempt cannot fix. */
bool cs_error_is_final(Corridor__ErrorCode code);

#endif
