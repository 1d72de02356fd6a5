/*
 * A second look at a frame protobuf-c has decoded: protobuf-c cuts a string
 * field at its first NUL byte, so "ALAT\0x" would be stored as "ALAT" and a
 * credential "s\0x" would compare as "s". Walking the encoding finds the
 * strings that hold a NUL, per update of a batch, so each can be rejected.
 */
#ifndef CORRIDOR_WIRE_SCAN_H
#define CORRIDOR_WIRE_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

/* True when a string field of the message desc encoded in buf (or of a
 * message inside it) holds a NUL byte, or when the encoding cannot be
 * walked. */
bool wire_has_nul_string(const ProtobufCMessageDescriptor *desc, const uint8_t *buf,
    size_t len);

/* For a CarrierMessage frame: update_nul[i] (n_updates entries) says whether
 * the i-th update of its batch holds a NUL in a string; the result says
 * whether anything else (a Hello) does. When the updates cannot be told
 * apart in the encoding, every entry says whether the frame holds one. */
bool wire_scan_carrier_message(const uint8_t *buf, size_t len, bool *update_nul,
    size_t n_updates);

#endif
