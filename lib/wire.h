/*
 * Packing and unpacking whole ingest frames (header + protobuf), shared by the
 * daemon and corridorctl. Unpacking uses a caller-supplied protobuf-c
 * allocator so the daemon can bound what a hostile frame makes it allocate.
 */
#ifndef CORRIDOR_WIRE_H
#define CORRIDOR_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "corridor.pb-c.h"

#define WIRE_PROTOCOL_VERSION 1

/* Packs msg into a freshly malloc'd frame (*out, *len). 0 or -1 (ENOMEM). */
int wire_pack(const ProtobufCMessage *msg, uint8_t **out, size_t *len);

/* Packed size of msg including the frame header. */
size_t wire_frame_size(const ProtobufCMessage *msg);

/* Packs msg's frame into buf (at least wire_frame_size(msg) bytes). */
size_t wire_pack_into(const ProtobufCMessage *msg, uint8_t *buf);

#endif
