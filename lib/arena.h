/*
 * A bump allocator for decoding one frame: protobuf-c allocates the message
 * from it, everything is released at once with arena_reset(), and a limit
 * bounds what a hostile frame (tiny encodings that unpack into large
 * structs) can make the daemon allocate.
 */
#ifndef CORRIDOR_ARENA_H
#define CORRIDOR_ARENA_H

#include <stddef.h>

#include <protobuf-c/protobuf-c.h>

struct arena_chunk;

struct arena {
	struct arena_chunk *chunks;	/* newest first; the last one is kept */
	size_t used;			/* bytes handed out since the reset */
	size_t limit;			/* most bytes between resets */
	ProtobufCAllocator allocator;	/* pass &arena.allocator to unpack */
};

void arena_init(struct arena *a, size_t limit);
/* NULL when the limit would be passed or memory is short. */
void *arena_alloc(struct arena *a, size_t size);
/* Forgets everything allocated; keeps one chunk for the next frame. */
void arena_reset(struct arena *a);
void arena_free_all(struct arena *a);

#endif
