/*
 * What leg_store.c (transactions, events, retractions), leg_repair.c
 * (re-pairing a unit's traversals and the rollup changes that follow) and
 * leg_rederive.c (deriving every traversal and rollup again) share. Only
 * the writer thread that owns the leg touches a leg_store.
 */
#ifndef CORRIDOR_LEG_STORE_INTERNAL_H
#define CORRIDOR_LEG_STORE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sqlite3.h>

#include "legs.h"
#include "rollup_batch.h"
#include "rollup_store.h"
#include "traversal.h"

enum stmt_id {
	ST_INSERT_EVENT,
	ST_RETRACT,
	ST_IS_RETRACTED,
	ST_MARK_RETRACTED,
	ST_UNIT_EVENTS,
	ST_UNIT_TRAVERSALS,
	ST_DELETE_TRAVERSAL,
	ST_UPSERT_TRAVERSAL,
	ST_MAX_ID,
	ST_ORPHAN_RETRACTIONS,
	ST_SAME_EVENT,
	ST_COUNT
};

/* Strings of the unit being re-paired live in one growing pool and are
 * referred to by offset until it stops moving. */
#define POOL_NONE ((size_t)-1)

struct unit_event {
	struct trav_event ev;
	size_t carrier, train, vessel;	/* pool offsets */
	int64_t record_ms;
};

struct stored_traversal {
	struct traversal t;
	size_t carrier, train, vessel;
};

struct leg_store {
	sqlite3 *db;
	enum leg_kind kind;
	char code[LEG_CODE_MAX];
	char path[4096];
	sqlite3_stmt *st[ST_COUNT];
	/* Events with an id below this were stored before the current batch. */
	int64_t first_new_id;
	/* Retractions waiting for their target: while 0, a new event need not
	 * be checked against them. */
	int64_t orphan_retractions;
	/* rollup changes of the open transaction */
	struct rollup_batch rollups;
	struct rollup_store *rollup_store;
	/* scratch for re-pairing, reused from unit to unit */
	struct unit_event *uev;
	struct trav_event *ev, *ev_before;
	struct traversal *tr, *tr_before;
	size_t cap;
	struct stored_traversal *stored;
	size_t stored_cap;
	char *pool;
	size_t pool_len, pool_cap;
	/* retention: the (unit, direction) its scan stopped after, NULL: none */
	char *retain_after;
	char retain_after_dir[2];
};

/* A (unit, direction) whose traversals must be re-paired after the batch;
 * the set may hold duplicates until it is sorted. unit points into an
 * update of the batch, or is owned when it came from a retraction. */
struct unit_key {
	const char *unit;
	char direction[2];
	bool owned;	/* its stored pairing is not what the older events give: read it */
};

struct unit_set {
	struct unit_key *keys;
	size_t count, cap;
};

int unit_set_add(struct unit_set *set, const char *unit, const char *direction, bool copy);
void unit_set_free(struct unit_set *set);
/* Re-pairs every (unit, direction) of the set once; SQLite code. */
int leg_repair_units(struct leg_store *s, struct unit_set *units);

void leg_bind_text(sqlite3_stmt *st, int i, const char *v);
void leg_bind_opt_int(sqlite3_stmt *st, int i, int64_t v, int present);

/* The way traversals and rollups are derived from events; a leg file
 * derived another way is derived again at open. */
#define LEG_DERIVATION 3

/* Derives traversals and rollups again from the events, in one
 * transaction; used when the schema's derivation or the leg's typical
 * time changed. SQLite code. */
int leg_rederive(struct leg_store *s, int64_t typical_ms);

#endif
