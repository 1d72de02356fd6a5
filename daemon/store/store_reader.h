/*
 * The reader handle: one per query thread, owned by it. Typed-row
 * primitives that the query commands (query/) merge and format; a backend
 * answers them from its rollups and traversals. Also the online backup.
 */
#ifndef CORRIDOR_STORE_READER_H
#define CORRIDOR_STORE_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "legs.h"

struct store;
struct store_error;
struct store_reader;

struct store_reader *store_reader_open(struct store *st, struct store_error *err);
void store_reader_close(struct store_reader *r);

#endif
