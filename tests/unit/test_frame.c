/*
 * Ingest framing (lib/frame.c) and whole-frame packing (lib/wire.c): a reader
 * that gets its bytes one at a time must see exactly the frames that were
 * written, whether they arrive split or coalesced, and the length limit is
 * decided from the header alone.
 */
#include "unit.h"

#include <stdlib.h>

#include "frame.h"
#include "wire.h"

#define MAX_BODY 64u

/* A reader as the daemon has one: bytes accumulate in buf; each complete
 * frame is taken off the front. */
struct reader {
	uint8_t buf[4 * (FRAME_HEADER_BYTES + MAX_BODY)];
	size_t avail;
	size_t frames;
	uint32_t lens[16];
	uint8_t first_byte[16];
	enum frame_status last;
};

static void
reader_feed(struct reader *r, const uint8_t *bytes, size_t n)
{
	uint32_t len = 0;

	memcpy(r->buf + r->avail, bytes, n);
	r->avail += n;
	while ((r->last = frame_parse_header(r->buf, r->avail, MAX_BODY, &len)) == FRAME_READY) {
		assert_true(r->frames < 16);
		r->lens[r->frames] = len;
		r->first_byte[r->frames] = r->buf[FRAME_HEADER_BYTES];
		r->frames++;
		memmove(r->buf, r->buf + FRAME_HEADER_BYTES + len,
		    r->avail - FRAME_HEADER_BYTES - len);
		r->avail -= FRAME_HEADER_BYTES + len;
	}
}

/* Appends one frame whose body is len bytes of the value fill. */
static size_t
put_frame(uint8_t *out, uint32_t len, uint8_t fill)
{
	frame_write_header(out, len);
	memset(out + FRAME_HEADER_BYTES, fill, len);
	return FRAME_HEADER_BYTES + len;
}

static void
test_header_big_endian(void **state)
{
	uint8_t h[FRAME_HEADER_BYTES];
	uint32_t len = 0;

	(void)state;
	frame_write_header(h, 0x01020304u);
	assert_int_equal(h[0], 0x01);
	assert_int_equal(h[1], 0x02);
	assert_int_equal(h[2], 0x03);
	assert_int_equal(h[3], 0x04);
	frame_write_header(h, 0xffffffffu);
	assert_int_equal(frame_parse_header(h, 4, UINT32_MAX, &len), FRAME_NEED_MORE);
	assert_int_equal(len, 0xffffffffu);
}

static void
test_need_more_until_header(void **state)
{
	uint8_t h[FRAME_HEADER_BYTES] = { 0, 0, 0, 5 };
	uint32_t len = 0;

	(void)state;
	for (size_t avail = 0; avail < FRAME_HEADER_BYTES; avail++) {
		assert_int_equal(frame_parse_header(h, avail, MAX_BODY, &len), FRAME_NEED_MORE);
	}
}

static void
test_header_only(void **state)
{
	uint8_t h[FRAME_HEADER_BYTES];
	uint32_t len = 0;

	(void)state;
	frame_write_header(h, 7);
	assert_int_equal(frame_parse_header(h, sizeof h, MAX_BODY, &len), FRAME_NEED_MORE);
	assert_int_equal(len, 7);
}

static void
test_zero_length(void **state)
{
	uint8_t h[FRAME_HEADER_BYTES] = { 0, 0, 0, 0 };
	uint32_t len = 99;

	(void)state;
	assert_int_equal(frame_parse_header(h, sizeof h, MAX_BODY, &len), FRAME_EMPTY);
	assert_int_equal(len, 0);
}

static void
test_limit_exactly(void **state)
{
	uint8_t buf[FRAME_HEADER_BYTES + MAX_BODY];
	uint32_t len = 0;

	(void)state;
	put_frame(buf, MAX_BODY, 0xab);
	/* Decided from the header alone: one byte short is still NEED_MORE. */
	assert_int_equal(frame_parse_header(buf, sizeof buf - 1, MAX_BODY, &len), FRAME_NEED_MORE);
	assert_int_equal(frame_parse_header(buf, sizeof buf, MAX_BODY, &len), FRAME_READY);
	assert_int_equal(len, MAX_BODY);
}

static void
test_limit_plus_one(void **state)
{
	uint8_t h[FRAME_HEADER_BYTES];
	uint32_t len = 0;

	(void)state;
	frame_write_header(h, MAX_BODY + 1);
	/* Refused from the four header bytes, before any body arrives. */
	assert_int_equal(frame_parse_header(h, sizeof h, MAX_BODY, &len), FRAME_TOO_LARGE);
	assert_int_equal(len, MAX_BODY + 1);
	frame_write_header(h, 0x7fffffffu);
	assert_int_equal(frame_parse_header(h, sizeof h, FRAME_DEFAULT_MAX_BYTES, &len),
	    FRAME_TOO_LARGE);
	assert_int_equal(len, 0x7fffffffu);
	frame_write_header(h, FRAME_DEFAULT_MAX_BYTES + 1);
	assert_int_equal(frame_parse_header(h, sizeof h, FRAME_DEFAULT_MAX_BYTES, &len),
	    FRAME_TOO_LARGE);
}

static void
test_one_byte_body(void **state)
{
	uint8_t buf[FRAME_HEADER_BYTES + 1];
	uint32_t len = 0;

	(void)state;
	put_frame(buf, 1, 0x42);
	assert_int_equal(frame_parse_header(buf, sizeof buf, MAX_BODY, &len), FRAME_READY);
	assert_int_equal(len, 1);
}

static void
test_split_byte_by_byte(void **state)
{
	uint8_t stream[3 * (FRAME_HEADER_BYTES + MAX_BODY)];
	size_t n = 0;
	struct reader r = { .avail = 0 };

	(void)state;
	n += put_frame(stream + n, 1, 0x11);
	n += put_frame(stream + n, MAX_BODY, 0x22);
	n += put_frame(stream + n, 10, 0x33);
	for (size_t i = 0; i < n; i++) {
		reader_feed(&r, stream + i, 1);
		if (i + 1 < n)
			assert_int_equal(r.last, FRAME_NEED_MORE);
	}
	assert_int_equal(r.frames, 3);
	assert_int_equal(r.lens[0], 1);
	assert_int_equal(r.lens[1], MAX_BODY);
	assert_int_equal(r.lens[2], 10);
	assert_int_equal(r.first_byte[0], 0x11);
	assert_int_equal(r.first_byte[1], 0x22);
	assert_int_equal(r.first_byte[2], 0x33);
	assert_int_equal(r.avail, 0);
}

static void
test_coalesced(void **state)
{
	uint8_t stream[3 * (FRAME_HEADER_BYTES + MAX_BODY)];
	size_t n = 0;
	struct reader r = { .avail = 0 };

	(void)state;
	n += put_frame(stream + n, 3, 0x01);
	n += put_frame(stream + n, 5, 0x02);
	n += put_frame(stream + n, 2, 0x03);
	/* Two whole frames and half of the third in one read, then the rest. */
	reader_feed(&r, stream, n - 1);
	assert_int_equal(r.frames, 2);
	assert_int_equal(r.last, FRAME_NEED_MORE);
	reader_feed(&r, stream + n - 1, 1);
	assert_int_equal(r.frames, 3);
	assert_int_equal(r.lens[2], 2);
	assert_int_equal(r.first_byte[2], 0x03);
}

static void
test_oversize_after_good_frame(void **state)
{
	uint8_t stream[2 * FRAME_HEADER_BYTES + 4];
	size_t n = 0;
	struct reader r = { .avail = 0 };

	(void)state;
	n += put_frame(stream, 4, 0x55);
	frame_write_header(stream + n, MAX_BODY + 1);
	n += FRAME_HEADER_BYTES;
	for (size_t i = 0; i < n; i++)
		reader_feed(&r, stream + i, 1);
	assert_int_equal(r.frames, 1);
	assert_int_equal(r.last, FRAME_TOO_LARGE);
}

static void
test_status_names(void **state)
{
	(void)state;
	assert_string_equal(frame_status_name(FRAME_NEED_MORE), "need_more");
	assert_string_equal(frame_status_name(FRAME_READY), "ready");
	assert_string_equal(frame_status_name(FRAME_EMPTY), "empty_frame");
	assert_string_equal(frame_status_name(FRAME_TOO_LARGE), "frame_too_large");
	assert_string_equal(frame_status_name((enum frame_status)42), "unknown");
}

static void
test_wire_pack_roundtrip(void **state)
{
	Corridor__ServerMessage msg = CORRIDOR__SERVER_MESSAGE__INIT;
	Corridor__Ack ack = CORRIDOR__ACK__INIT;
	Corridor__ServerMessage *back;
	uint8_t *frame = NULL, stack[64];
	size_t len = 0;
	uint32_t body = 0;

	(void)state;
	ack.has_acked_seq = 1;
	ack.acked_seq = 123456789012ull;
	msg.body_case = CORRIDOR__SERVER_MESSAGE__BODY_ACK;
	msg.ack = &ack;
	assert_int_equal(wire_pack(&msg.base, &frame, &len), 0);
	assert_int_equal(len, wire_frame_size(&msg.base));
	assert_int_equal(frame_parse_header(frame, len, MAX_BODY, &body), FRAME_READY);
	assert_int_equal(body + FRAME_HEADER_BYTES, len);
	back = corridor__server_message__unpack(NULL, body, frame + FRAME_HEADER_BYTES);
	assert_non_null(back);
	assert_int_equal(back->body_case, CORRIDOR__SERVER_MESSAGE__BODY_ACK);
	assert_int_equal(back->ack->acked_seq, 123456789012ull);
	corridor__server_message__free_unpacked(back, NULL);

	assert_true(len <= sizeof stack);
	assert_int_equal(wire_pack_into(&msg.base, stack), len);
	assert_memory_equal(stack, frame, len);
	free(frame);
}

static void
test_wire_empty_message(void **state)
{
	/* An empty message packs to zero body bytes: a frame the peer must refuse.
	 * Senders must never emit one; the size says so. */
	Corridor__Ack ack = CORRIDOR__ACK__INIT;

	(void)state;
	assert_int_equal(wire_frame_size(&ack.base), FRAME_HEADER_BYTES);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_big_endian),
		cmocka_unit_test(test_need_more_until_header),
		cmocka_unit_test(test_header_only),
		cmocka_unit_test(test_zero_length),
		cmocka_unit_test(test_limit_exactly),
		cmocka_unit_test(test_limit_plus_one),
		cmocka_unit_test(test_one_byte_body),
		cmocka_unit_test(test_split_byte_by_byte),
		cmocka_unit_test(test_coalesced),
		cmocka_unit_test(test_oversize_after_good_frame),
		cmocka_unit_test(test_status_names),
		cmocka_unit_test(test_wire_pack_roundtrip),
		cmocka_unit_test(test_wire_empty_message),
	};

	return UNIT_RUN(tests);
}
