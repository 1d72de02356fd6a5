/* Frame-decoding arena; see arena.h. */
#include "arena.h"

#include <stdint.h>
#include <stdlib.h>

#define ARENA_CHUNK_BYTES (64u * 1024u)
#define ARENA_ALIGN 16u

struct arena_chunk {
	struct arena_chunk *next;
	size_t size, off;
	_Alignas(16) unsigned char data[];
};

static void *
arena_pb_alloc(void *ctx, size_t size)
{
	return arena_alloc(ctx, size);
}

static void
arena_pb_free(void *ctx, void *p)
{
	/* freed all at once by arena_reset() */
	(void)ctx;
	(void)p;
}

void
arena_init(struct arena *a, size_t limit)
{
	a->chunks = NULL;
	a->used = 0;
	a->limit = limit;
	a->allocator.alloc = arena_pb_alloc;
	a->allocator.free = arena_pb_free;
	a->allocator.allocator_data = a;
}

void *
arena_alloc(struct arena *a, size_t size)
{
	struct arena_chunk *c = a->chunks;
	size_t need = (size + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
	void *p;

	if (need < size || need > a->limit - a->used || a->used > a->limit)
		return NULL;
	if (c == NULL || c->size - c->off < need) {
		size_t csize = need > ARENA_CHUNK_BYTES ? need : ARENA_CHUNK_BYTES;

		c = malloc(sizeof *c + csize);
		if (c == NULL)
			return NULL;
		c->size = csize;
		c->off = 0;
		c->next = a->chunks;
		a->chunks = c;
	}
	p = c->data + c->off;
	c->off += need;
	a->used += need;
	return p;
}

void
arena_reset(struct arena *a)
{
	struct arena_chunk *keep = NULL;

	while (a->chunks != NULL) {
		struct arena_chunk *next = a->chunks->next;

		/* keep one ordinary-sized chunk warm for the next frame */
		if (keep == NULL && a->chunks->size == ARENA_CHUNK_BYTES) {
			keep = a->chunks;
			keep->next = NULL;
			keep->off = 0;
		} else
			free(a->chunks);
		a->chunks = next;
	}
	a->chunks = keep;
	a->used = 0;
}

void
arena_free_all(struct arena *a)
{
	arena_reset(a);
	free(a->chunks);
	a->chunks = NULL;
}
