/*
 * What leg_store.c (transactions, events, retractions), leg_derive.c (the
 * ops of store/derive.h over the leg's statements, and deriving every
 * traversal and rollup again) and leg_retention.c share. Only the writer
 * thread that owns the leg touches a leg_store.
 */
#ifndef CORRIDOR_LEG_STORE_INTERNAL_H
#define CORRIDOR_LEG_STORE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sqlite3.h>

#include "derive.h"
#include "legs.h"
#include "rollup_store.h"

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
	/* traversals and rollups (store/derive.h), over the ops below */
	struct derive *derive;
	struct rollup_store *rollup_store;
	/* retention: the (unit, direction) its scan stopped after, NULL: none */
	char *retain_after;
	char retain_after_dir[2];
};

void leg_bind_text(sqlite3_stmt *st, int i, const char *v);
void leg_bind_opt_int(sqlite3_stmt *st, int i, int64_t v, int present);

/* The ops of store/derive.h over a leg_store (the context) and its open
 * transaction; the transaction's table and context. */
extern const struct derive_ops leg_derive_ops;
struct derive_tx leg_derive_tx(struct leg_store *s);
/* A result of derive.h's functions as an SQLite code. */
int leg_derive_rc(int rc);

/* Derives traversals and rollups again from the events, in one
 * transaction; used when the schema's derivation (DERIVE_VERSION) or the
 * leg's typical time changed. SQLITE_OK or the failing code. */
int leg_rederive(struct leg_store *s, int64_t typical_ms);

#endif
