/*
 * What the daemon knows about each configured carrier while it runs: the
 * acknowledged high-water mark, which sequence numbers above it are already
 * done (a bitmap window), how many updates are in flight, and its current
 * session. Lives for the whole run; sessions come and go. A reload adds
 * carriers and may stop configuring some, but never removes an entry, so
 * pointers to it (sessions, updates in flight) stay valid.
 *
 * The configuration's own list (struct carrier_list) is only codes and names.
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
	uint8_t *queued;	/* the same window: s taken as a fresh update, not settled */
	uint64_t inflight;	/* queued to writers, not yet completed */
	struct ingest_conn *session;
	bool configured;	/* false once a reload dropped it: no new sessions */

	uint64_t received, stored, duplicates, rejected;
	/* resends answered from the acknowledged mark, never reaching a leg
	 * store; the catalog counts them per hour for QUALITY. Since resends
	 * are compared in their leg store (and counted there), nothing adds to
	 * it: rows older versions saved still count. */
	uint64_t mark_duplicates, saved_mark_duplicates;
};

struct carrier_table {
	struct carrier items[CARRIERS_MAX];
	size_t count;
};

struct carrier_conf {
	char code[CARRIER_CODE_MAX];
	char name[64];
};

struct carrier_list {
	struct carrier_conf items[CARRIERS_MAX];
	size_t count;
};

/* Adds a carrier to a configured list (or renames it); -1 if the code is
 * malformed or the list is full. */
int carrier_list_add(struct carrier_list *l, const char *code, const char *name);
const struct carrier_conf *carrier_list_find(const struct carrier_list *l, const char *code);

/* Adds a carrier (or renames it); -1 if the code is malformed or the table is full. */
int carrier_add(struct carrier_table *t, const char *code, const char *name);
struct carrier *carrier_find(struct carrier_table *t, const char *code);
int carrier_code_valid(const char *code);
/* Allocates (afresh) one carrier's done-window. */
int carrier_init_window(struct carrier *c, uint64_t window);
/* Allocates the done-window of every carrier. */
int carrier_table_init_windows(struct carrier_table *t, uint64_t window);
void carrier_table_free(struct carrier_table *t);

/* True when seq may be accepted now (at most window above the mark). */
bool carrier_seq_in_window(const struct carrier *c, uint64_t seq);
/* True when seq (in the window) already names an update: at or below the
 * mark, done above it, or queued. Such an update is checked against what
 * its leg stored under seq (a resend) instead of being stored. */
bool carrier_seq_used(const struct carrier *c, uint64_t seq);
/* Marks seq (above the mark, in the window) as taken by a fresh update in
 * flight, or settled (on = false) once it is stored, rejected or failed. */
void carrier_seq_queued(struct carrier *c, uint64_t seq, bool on);
/* Records seq as stored or finally rejected; true if acked_seq advanced. */
bool carrier_mark_done(struct carrier *c, uint64_t seq);
/* Raises the mark to seq, known from the store to be acknowledged (another
 * daemon on a shared store acknowledged it); what was queued or done below
 * it is forgotten (a completion there is then a no-op). True if it moved. */
bool carrier_mark_raise(struct carrier *c, uint64_t seq);

#endif
