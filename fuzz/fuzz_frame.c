/*
 * Fuzz target: the bytes a carrier writes to the ingest port, taken in the
 * way ingest_conn_take_input() takes them. Frames are cut with
 * frame_parse_header() under the default max_frame_bytes; each body is
 * unpacked as a CarrierMessage into a decode arena (lib/arena.c) that lives
 * across inputs like the daemon's; wire_scan_carrier_message() (lib/wire_scan.c)
 * looks for strings holding a NUL, which protobuf-c would cut; a decoded
 * Hello gets the Hello's checks and every update of a Batch without a NUL is
 * validated and, when accepted, copied into an update_rec as the daemon
 * queues it. The input ends where the daemon
 * would close the connection (a bad length, an undecodable body, a batch
 * above max_batch_updates). The NUL scan must flag every update (and the
 * Hello) with a string protobuf-c cut short: the ground truth is the size
 * protobuf-c allocated for each string, recorded by the allocator; and a body
 * without any 0x00 byte has nothing to flag. A decoded message without unknown fields must
 * also pack (lib/wire.c) into a frame that decodes again and packs to the
 * same bytes. (Unknown fields are left out of that: protobuf-c 1.4 keeps a
 * tag of field number 0 written in two bytes, 0x80 0x00, as an unknown field
 * and packs it back as 0x00, which it then refuses. The daemon ignores
 * unknown fields and never re-encodes what a carrier sent.)
 */
#include <stdbool.h>
#include <string.h>

#include "arena.h"
#include "carrier.h"
#include "frame.h"
#include "legs.h"
#include "limit_table.h"
#include "update_rec.h"
#include "validate.h"
#include "wire.h"
#include "wire_scan.h"

#include "fuzz_check.h"

/* Far below the daemon's smallest max_decode_bytes (1 MiB), so that inputs of
 * a few KiB reach the "decodes to more than the limit" refusal too. */
#define FUZZ_DECODE_LIMIT (256u * 1024u)

/* Far more than a 4 KiB input can make protobuf-c allocate; past it the
 * ground truth is not kept and the NUL check is skipped. */
#define FUZZ_MAX_ALLOCS 65536

static struct arena decode_arena;
static struct leg_table legs;
static struct limits limits;

/* Every block protobuf-c took from the arena, to find what size a decoded
 * string was allocated with (its encoded length + 1). */
static struct alloc_rec {
	const char *p;
	size_t size;
} allocs[FUZZ_MAX_ALLOCS];
static size_t nallocs;
static bool allocs_overflow;

static void *
recording_alloc(void *ctx, size_t size)
{
	void *p = arena_alloc(ctx, size);

	if (p != NULL) {
		if (nallocs < FUZZ_MAX_ALLOCS)
			allocs[nallocs++] = (struct alloc_rec){ p, size };
		else
			allocs_overflow = true;
	}
	return p;
}

static void
recording_free(void *ctx, void *p)
{
	(void)ctx;
	(void)p;
}

static ProtobufCAllocator recording_allocator = { recording_alloc, recording_free, &decode_arena };

static int
alloc_cmp(const void *a, const void *b)
{
	const char *x = ((const struct alloc_rec *)a)->p, *y = ((const struct alloc_rec *)b)->p;

	return x < y ? -1 : x > y;
}

/* True when a string field of msg was cut by protobuf-c: it was allocated
 * for more bytes than it holds before its first NUL. allocs must be sorted. */
static bool
has_cut_string(const ProtobufCMessage *msg)
{
	const ProtobufCMessageDescriptor *d = msg->descriptor;

	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		const char *s;
		struct alloc_rec key, *found;

		if (f->type != PROTOBUF_C_TYPE_STRING || f->label == PROTOBUF_C_LABEL_REPEATED)
			continue;
		s = *(const char *const *)(const void *)((const char *)msg + f->offset);
		if (s == NULL)
			continue;
		key.p = s;
		found = bsearch(&key, allocs, nallocs, sizeof allocs[0], alloc_cmp);
		FUZZ_CHECK(found != NULL);	/* every decoded string came from the arena */
		if (strlen(s) + 1 != found->size)
			return true;
	}
	return false;
}

/* The NUL scan against the ground truth. */
static void
check_nul_scan(const Corridor__CarrierMessage *m, const uint8_t *body, size_t len,
    bool nul_hello, const bool *nul_updates)
{
	bool any_zero = memchr(body, 0, len) != NULL;

	if (m->body_case == CORRIDOR__CARRIER_MESSAGE__BODY_BATCH) {
		for (size_t i = 0; i < m->batch->n_updates; i++) {
			FUZZ_CHECK(any_zero || !nul_updates[i]);
			if (!allocs_overflow && has_cut_string(&m->batch->updates[i]->base))
				FUZZ_CHECK(nul_updates[i]);
		}
	}
	FUZZ_CHECK(any_zero || !nul_hello);
	if (!allocs_overflow && m->body_case == CORRIDOR__CARRIER_MESSAGE__BODY_HELLO &&
	    has_cut_string(&m->hello->base))
		FUZZ_CHECK(nul_hello);
}

static void
fuzz_setup(void)
{
	char err[200];

	arena_init(&decode_arena, FUZZ_DECODE_LIMIT);
	limits_set_defaults(&limits);
	FUZZ_CHECK(legs_load_default(&legs, err, sizeof err) == 0);
}

static bool
has_unknown_fields(const Corridor__CarrierMessage *m)
{
	if (m->base.n_unknown_fields > 0)
		return true;
	if (m->body_case == CORRIDOR__CARRIER_MESSAGE__BODY_HELLO)
		return m->hello->base.n_unknown_fields > 0;
	if (m->body_case == CORRIDOR__CARRIER_MESSAGE__BODY_BATCH) {
		if (m->batch->base.n_unknown_fields > 0)
			return true;
		for (size_t i = 0; i < m->batch->n_updates; i++)
			if (m->batch->updates[i]->base.n_unknown_fields > 0)
				return true;
	}
	return false;
}

/* Packing what was decoded gives a frame that decodes and packs to the same bytes. */
static void
check_repack(const Corridor__CarrierMessage *m)
{
	uint8_t *frame, *again;
	size_t n, n2;
	uint32_t len = 0;
	Corridor__CarrierMessage *back;

	FUZZ_CHECK(wire_pack(&m->base, &frame, &n) == 0);
	FUZZ_CHECK(n == wire_frame_size(&m->base));
	FUZZ_CHECK(frame_parse_header(frame, n, UINT32_MAX, &len) == FRAME_READY ||
	    (n == FRAME_HEADER_BYTES && len == 0));
	FUZZ_CHECK((size_t)len + FRAME_HEADER_BYTES == n);
	back = corridor__carrier_message__unpack(NULL, len, frame + FRAME_HEADER_BYTES);
	FUZZ_CHECK(back != NULL);
	FUZZ_CHECK(back->body_case == m->body_case);
	FUZZ_CHECK(wire_pack(&back->base, &again, &n2) == 0);
	FUZZ_CHECK(n2 == n && memcmp(again, frame, n) == 0);
	corridor__carrier_message__free_unpacked(back, NULL);
	free(again);
	free(frame);
}

static void
take_hello(const Corridor__Hello *h)
{
	/* ingest_handle_hello(): version, then a well-formed carrier code */
	if (!h->has_protocol_version || h->protocol_version != WIRE_PROTOCOL_VERSION)
		return;
	if (h->carrier == NULL || !carrier_code_valid(h->carrier))
		return;
	FUZZ_CHECK(strlen(h->carrier) < CARRIER_CODE_MAX);
	if (h->client_name != NULL)
		(void)text_is_identifier(h->client_name);
}

static void
take_update(const Corridor__ShipmentUpdate *u, bool nul)
{
	struct reject rej = { .retryable = false };
	struct update_rec *r;
	int leg;

	if (nul)
		return;		/* rejected: a string holds a NUL */
	if (update_validate(u, "KTZE", &legs, &limits, FUZZ_NOW_MS, &rej) == -1) {
		FUZZ_CHECK(strcmp(reject_reason_name(rej.reason), "UNKNOWN") != 0);
		FUZZ_CHECK(memchr(rej.message, '\0', sizeof rej.message) != NULL);
		return;
	}
	leg = legs_index(&legs, u->leg);
	FUZZ_CHECK(leg >= 0);
	r = update_rec_new(u, leg, FUZZ_NOW_MS);
	FUZZ_CHECK(r != NULL);
	FUZZ_CHECK(r->seq == u->seq && strcmp(r->leg, u->leg) == 0);
	update_rec_free_list(r);
}

/* One decoded message; false when the daemon would close the connection. */
static bool
take_message(const Corridor__CarrierMessage *m, bool *hello_done, bool nul_hello,
    const bool *nul_updates)
{
	if (!*hello_done) {
		if (m->body_case != CORRIDOR__CARRIER_MESSAGE__BODY_HELLO || nul_hello)
			return false;
		take_hello(m->hello);
		*hello_done = true;
		return true;
	}
	if (m->body_case != CORRIDOR__CARRIER_MESSAGE__BODY_BATCH)
		return false;
	if (m->batch->n_updates > (size_t)limits.max_batch_updates)
		return false;
	for (size_t i = 0; i < m->batch->n_updates; i++)
		take_update(m->batch->updates[i], nul_updates[i]);
	return true;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	size_t off = 0;
	bool hello_done = false;

	if (!ready) {
		fuzz_setup();
		ready = true;
	}
	/* A first byte of 0xff skips the Hello, so that batches are reached
	 * without one (the daemon's state after a good Hello). */
	if (size > 0 && data[0] == 0xff) {
		hello_done = true;
		off = 1;
	}
	for (;;) {
		uint32_t len = 0;
		enum frame_status st = frame_parse_header(data + off, size - off,
		    (uint32_t)limits.max_frame_bytes, &len);
		Corridor__CarrierMessage *m;
		bool *nul_updates = NULL, nul_hello = false, keep_going;

		FUZZ_CHECK(strcmp(frame_status_name(st), "unknown") != 0);
		if (st != FRAME_READY)
			break;
		FUZZ_CHECK(len >= 1 && len <= limits.max_frame_bytes &&
		    (size_t)len <= size - off - FRAME_HEADER_BYTES);
		off += FRAME_HEADER_BYTES;
		nallocs = 0;
		allocs_overflow = false;
		m = corridor__carrier_message__unpack(&recording_allocator, len, data + off);
		if (m != NULL) {
			/* as ingest_conn_take_input(): which strings protobuf-c cut at a NUL */
			size_t n = m->body_case == CORRIDOR__CARRIER_MESSAGE__BODY_BATCH ?
			    m->batch->n_updates : 0;

			nul_updates = arena_alloc(&decode_arena, n > 0 ? n : 1);
			nul_hello = nul_updates != NULL &&
			    wire_scan_carrier_message(data + off, len, nul_updates, n);
			if (nul_updates == NULL)
				m = NULL;	/* no room left under the decode limit */
		}
		FUZZ_CHECK(decode_arena.used <= decode_arena.limit);
		if (m == NULL) {
			arena_reset(&decode_arena);
			break;
		}
		qsort(allocs, nallocs, sizeof allocs[0], alloc_cmp);
		check_nul_scan(m, data + off, len, nul_hello, nul_updates);
		off += len;
		if (!has_unknown_fields(m))
			check_repack(m);
		keep_going = take_message(m, &hello_done, nul_hello, nul_updates);
		arena_reset(&decode_arena);	/* frees m */
		if (!keep_going)
			break;
	}
	return 0;
}
