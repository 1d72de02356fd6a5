/*
 * NUL bytes in strings (lib/wire_scan.c): found per update of a batch, in a
 * Hello, not in bytes fields or unknown fields, and a frame whose updates
 * cannot be told apart is judged as a whole.
 */
#include "unit.h"

#include <stdlib.h>

#include "corridor.pb-c.h"
#include "wire_scan.h"

struct buf {
	uint8_t b[4096];
	size_t n;
};

static void
put(struct buf *o, const void *p, size_t n)
{
	assert_true(o->n + n <= sizeof o->b);
	if (n > 0)
		memcpy(o->b + o->n, p, n);
	o->n += n;
}

static void
put_varint(struct buf *o, uint64_t v)
{
	do {
		uint8_t c = (uint8_t)(v & 0x7f);

		v >>= 7;
		if (v)
			c |= 0x80;
		put(o, &c, 1);
	} while (v);
}

static void
put_len(struct buf *o, uint32_t field, const void *p, size_t n)
{
	put_varint(o, (uint64_t)field << 3 | 2);
	put_varint(o, n);
	put(o, p, n);
}

/* A packed update; extra (n bytes) appended to its encoding. */
static void
update(struct buf *o, const void *extra, size_t n)
{
	Corridor__ShipmentUpdate u = CORRIDOR__SHIPMENT_UPDATE__INIT;

	u.carrier = "KTZE";
	u.has_seq = 1;
	u.seq = 7;
	u.node = "ALTYNKOL";
	u.remark = "ok";
	o->n = protobuf_c_message_pack(&u.base, o->b);
	put(o, extra, n);
}

/* CarrierMessage{batch{updates...}} from encoded updates. */
static void
batch(struct buf *o, struct buf *updates, size_t n)
{
	struct buf inner = { .n = 0 };

	for (size_t i = 0; i < n; i++)
		put_len(&inner, 1, updates[i].b, updates[i].n);
	o->n = 0;
	put_len(o, 2, inner.b, inner.n);
}

static void
test_batch(void **state)
{
	static const uint8_t node_nul[] = { 0x42, 5, 'A', 'L', 0, 'A', 'T' };	/* node (8) */
	static const uint8_t remark_nul[] = { 0xca, 0x01, 3, 'o', 0, 'k' };	/* remark (25) */
	static const uint8_t unknown_nul[] = { 0xa2, 0x06, 2, 'x', 0 };	/* field 100 */
	struct buf u[5], frame;
	bool nul[5];

	(void)state;
	update(&u[0], NULL, 0);
	update(&u[1], node_nul, sizeof node_nul);
	update(&u[2], NULL, 0);
	update(&u[3], remark_nul, sizeof remark_nul);
	update(&u[4], unknown_nul, sizeof unknown_nul);
	batch(&frame, u, 5);
	assert_false(wire_scan_carrier_message(frame.b, frame.n, nul, 5));
	assert_false(nul[0]);
	assert_true(nul[1]);
	assert_false(nul[2]);
	assert_true(nul[3]);
	assert_false(nul[4]);	/* not a string the daemon reads */
	assert_true(wire_has_nul_string(&corridor__shipment_update__descriptor, u[1].b, u[1].n));
	assert_false(wire_has_nul_string(&corridor__shipment_update__descriptor, u[0].b, u[0].n));

	/* the decoder saw another count: every update judged as the frame */
	assert_true(wire_scan_carrier_message(frame.b, frame.n, nul, 4));
	for (int i = 0; i < 4; i++)
		assert_true(nul[i]);
	batch(&frame, u, 1);
	assert_false(wire_scan_carrier_message(frame.b, frame.n, nul, 2));
	assert_false(nul[0] || nul[1]);

	/* cut short: cannot be walked */
	batch(&frame, u, 3);
	assert_true(wire_scan_carrier_message(frame.b, frame.n - 2, nul, 3));
	assert_true(nul[0] && nul[1] && nul[2]);
}

static void
test_hello(void **state)
{
	static const uint8_t carrier_nul[] = { 0x12, 6, 'K', 'T', 'Z', 'E', 0, 'X' };
	static const uint8_t clean[] = { 0x08, 1, 0x12, 4, 'K', 'T', 'Z', 'E' };
	struct buf frame = { .n = 0 };
	bool none[1];

	(void)state;
	put_len(&frame, 1, clean, sizeof clean);
	assert_false(wire_scan_carrier_message(frame.b, frame.n, none, 0));
	frame.n = 0;
	put_len(&frame, 1, carrier_nul, sizeof carrier_nul);
	assert_true(wire_scan_carrier_message(frame.b, frame.n, none, 0));
	/* a group (wire type 3) protobuf-c would not decode: cannot be walked */
	frame.n = 0;
	put_varint(&frame, 3 << 3 | 3);
	assert_true(wire_scan_carrier_message(frame.b, frame.n, none, 0));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_batch),
		cmocka_unit_test(test_hello),
	};

	return UNIT_RUN(tests);
}
