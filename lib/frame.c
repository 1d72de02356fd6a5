/* Ingest framing; see frame.h. Pure functions, so the tests drive them byte by byte. */
#include "frame.h"

enum frame_status
frame_parse_header(const uint8_t *buf, size_t avail, uint32_t max_body,
    uint32_t *body_len)
{
	uint32_t n;

	if (avail < FRAME_HEADER_BYTES)
		return FRAME_NEED_MORE;
	n = (uint32_t)buf[0] << 24 | (uint32_t)buf[1] << 16 |
	    (uint32_t)buf[2] << 8 | (uint32_t)buf[3];
	*body_len = n;
	if (n == 0)
		return FRAME_EMPTY;
	if (n > max_body)
		return FRAME_TOO_LARGE;
	if (avail - FRAME_HEADER_BYTES < n)
		return FRAME_NEED_MORE;
	return FRAME_READY;
}

void
frame_write_header(uint8_t out[FRAME_HEADER_BYTES], uint32_t body_len)
{
	out[0] = (uint8_t)(body_len >> 24);
	out[1] = (uint8_t)(body_len >> 16);
	out[2] = (uint8_t)(body_len >> 8);
	out[3] = (uint8_t)body_len;
}

const char *
frame_status_name(enum frame_status st)
{
	switch (st) {
	case FRAME_NEED_MORE:
		return "need_more";
	case FRAME_READY:
		return "ready";
	case FRAME_EMPTY:
		return "empty_frame";
	case FRAME_TOO_LARGE:
		return "frame_too_large";
	}
	return "unknown";
}
