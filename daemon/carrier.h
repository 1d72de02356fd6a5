/*
 * What the daemon knows about each configured carrier while it runs: the
 * acknowledged high-water mark, which sequence numbers above it are already
 * done (a bitmap window), how many updates are in flight, and its current
 * session. Lives for the whole run; sessions come and go.
 */
#ifndef CORRIDOR_CARRIER_H
#define CORRIDOR_CARRIER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CARRIER_CODE_MAX 32
#define CARRIERS_MAX 1024

struct ingest_conn;

struct carrier {
	char code[CARRIER_CODE_MAX];
	char name[64];
	uint64_t acked_seq;	/* every seq <= this is stored or finally rejected */
	uint64_t saved_seq;	/* what the catalog has */
	uint64_t window;	/* bits in done */
	uint8_t *done;		/* seq s in (acked, acked + window] done: bit s % window */
	uint64_t inflight;	/* queued to writers, not yet completed */
	struct ingest_conn *session;

	uint64_t received, stored, duplicates, rejected;
	/* resends answered from the acknowledged mark, never reaching a leg
	 * store; the catalog counts them per hour for QUALITY */
	uint64_t mark_duplicates, saved_mark_duplicates;
};

struct carrier_table {
	struct carrier items[CARRIERS_MAX];
	size_t count;
};

/* Adds a carrier (or renames it); -1 if the code is malformed or the table is full. */
int carrier_add(struct carrier_table *t, const char *code, const char *name);
struct carrier *carrier_find(struct carrier_table *t, const char *code);
int carrier_code_valid(const char *code);
/* Allocates the done-window of every carrier. */
int carrier_table_init_windows(struct carrier_table *t, uint64_t window);
void carrier_table_free(struct carrier_table *t);

/* True when seq may be accepted now (at most window above the mark). */
bool carrier_seq_in_window(const struct carrier *c, uint64_t seq);
/* Records seq as stored or finally rejected; true if acked_seq advanced. */
bool carrier_mark_done(struct carrier *c, uint64_t seq);

#endif
