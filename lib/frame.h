/*
 * Framing for the ingest protocol: a 4-byte big-endian length N, then N bytes
 * of one protobuf message. frame_parse_header() decides from the first four
 * bytes alone whether a frame is acceptable, so nothing is allocated for a
 * frame that breaks the limit.
 */
#ifndef CORRIDOR_FRAME_H
#define CORRIDOR_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define FRAME_HEADER_BYTES 4
#define FRAME_DEFAULT_MAX_BYTES (1024u * 1024u)

enum frame_status {
	FRAME_NEED_MORE,	/* not enough bytes yet for the header or the body */
	FRAME_READY,		/* a whole frame is available */
	FRAME_EMPTY,		/* length 0: a protocol error */
	FRAME_TOO_LARGE,	/* length above the limit: a protocol error */
};

/* Looks at buffered bytes; on FRAME_READY, *body_len is the payload size.
 * On FRAME_TOO_LARGE, *body_len is the announced length (for the log). */
enum frame_status frame_parse_header(const uint8_t *buf, size_t avail,
    uint32_t max_body, uint32_t *body_len);

void frame_write_header(uint8_t out[FRAME_HEADER_BYTES], uint32_t body_len);

const char *frame_status_name(enum frame_status st);

#endif
