/* Frame packing; see wire.h. */
#include "wire.h"

#include <stdlib.h>

#include "frame.h"

size_t
wire_frame_size(const ProtobufCMessage *msg)
{
	return FRAME_HEADER_BYTES + protobuf_c_message_get_packed_size(msg);
}

size_t
wire_pack_into(const ProtobufCMessage *msg, uint8_t *buf)
{
	size_t body = protobuf_c_message_pack(msg, buf + FRAME_HEADER_BYTES);

	frame_write_header(buf, (uint32_t)body);
	return FRAME_HEADER_BYTES + body;
}

int
wire_pack(const ProtobufCMessage *msg, uint8_t **out, size_t *len)
{
	size_t n = wire_frame_size(msg);
	uint8_t *buf = malloc(n);

	if (buf == NULL)
		return -1;
	*len = wire_pack_into(msg, buf);
	*out = buf;
	return 0;
}
