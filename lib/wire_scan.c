/* NUL bytes in decoded strings; see wire_scan.h. */
#include "wire_scan.h"

#include <string.h>

#include "corridor.pb-c.h"

#define WIRE_SCAN_DEPTH 8	/* the contract nests three deep */

enum { WT_VARINT = 0, WT_I64 = 1, WT_LEN = 2, WT_I32 = 5 };

struct wire_field {
	uint32_t number;
	int type;
	const uint8_t *data;	/* WT_LEN: the bytes */
	size_t len;
};

static bool
read_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	*v = 0;
	for (int shift = 0; shift < 64 && *p < end; shift += 7) {
		uint8_t b = *(*p)++;

		*v |= (uint64_t)(b & 0x7f) << shift;
		if ((b & 0x80) == 0)
			return true;
	}
	return false;
}

/* The next field at *p; false at the end or on an encoding it cannot walk. */
static bool
next_field(const uint8_t **p, const uint8_t *end, struct wire_field *f)
{
	uint64_t tag, n;

	if (*p >= end || !read_varint(p, end, &tag) || tag >> 3 == 0 || tag >> 3 > UINT32_MAX)
		return false;
	f->number = (uint32_t)(tag >> 3);
	f->type = (int)(tag & 7);
	f->data = NULL;
	f->len = 0;
	switch (f->type) {
	case WT_VARINT:
		return read_varint(p, end, &n);
	case WT_I64:
	case WT_I32:
		n = f->type == WT_I64 ? 8 : 4;
		if ((uint64_t)(end - *p) < n)
			return false;
		*p += n;
		return true;
	case WT_LEN:
		if (!read_varint(p, end, &n) || n > (uint64_t)(end - *p))
			return false;
		f->data = *p;
		f->len = (size_t)n;
		*p += n;
		return true;
	default:
		return false;	/* groups: protobuf-c would not have decoded them */
	}
}

static bool
has_nul(const ProtobufCMessageDescriptor *desc, const uint8_t *buf, size_t len, int depth)
{
	const uint8_t *p = buf, *end = buf + len;
	struct wire_field f;

	if (depth > WIRE_SCAN_DEPTH)
		return true;
	while (p < end) {
		const ProtobufCFieldDescriptor *fd;

		if (!next_field(&p, end, &f))
			return true;
		if (f.type != WT_LEN ||
		    (fd = protobuf_c_message_descriptor_get_field(desc, f.number)) == NULL)
			continue;
		if (fd->type == PROTOBUF_C_TYPE_STRING && memchr(f.data, 0, f.len) != NULL)
			return true;
		if (fd->type == PROTOBUF_C_TYPE_MESSAGE &&
		    has_nul(fd->descriptor, f.data, f.len, depth + 1))
			return true;
	}
	return false;
}

bool
wire_has_nul_string(const ProtobufCMessageDescriptor *desc, const uint8_t *buf, size_t len)
{
	return has_nul(desc, buf, len, 0);
}

bool
wire_scan_carrier_message(const uint8_t *buf, size_t len, bool *update_nul, size_t n_updates)
{
	const uint8_t *p = buf, *end = buf + len;
	struct wire_field f, u;
	bool other = false, any = false, walked = true;
	size_t n = 0;

	while (walked && p < end) {
		const uint8_t *q, *qend;

		if (!next_field(&p, end, &f)) {
			walked = false;
			break;
		}
		if (f.type != WT_LEN || f.number != CORRIDOR__CARRIER_MESSAGE__BODY_BATCH) {
			if (f.type == WT_LEN && f.number == CORRIDOR__CARRIER_MESSAGE__BODY_HELLO &&
			    wire_has_nul_string(&corridor__hello__descriptor, f.data, f.len))
				other = true;
			continue;
		}
		/* a batch: its updates (field 1) in order; every occurrence of the
		 * batch adds to the same list when decoded */
		for (q = f.data, qend = f.data + f.len; q < qend;) {
			bool nul;

			if (!next_field(&q, qend, &u)) {
				walked = false;
				break;
			}
			if (u.type != WT_LEN || u.number != 1)
				continue;
			nul = wire_has_nul_string(&corridor__shipment_update__descriptor, u.data,
			    u.len);
			any = any || nul;
			if (n < n_updates)
				update_nul[n] = nul;
			n++;
		}
	}
	if (!walked || n != n_updates) {
		/* cannot say which: all or none, as the frame as a whole */
		any = any || other || !walked;
		for (size_t i = 0; i < n_updates; i++)
			update_nul[i] = any;
		return any;
	}
	return other;
}
