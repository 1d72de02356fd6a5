/*
 * Answering one query line (docs/query-protocol.md) from the leg databases.
 * Runs on a query worker thread with that thread's own read-only SQLite
 * handles; writes the whole response (OK ... END, or ERR) into out.
 */
#ifndef CORRIDOR_QUERY_EXEC_H
#define CORRIDOR_QUERY_EXEC_H

#include <stddef.h>
#include <stdint.h>

#include "legs.h"
#include "limit_table.h"

struct evbuffer;
struct query_ctx;

struct config;
struct store;

/* A worker thread's context; its own reader handle on st is opened by its
 * first query (on the thread that uses it), and again by the next while
 * that fails. cfg (may be NULL until query_ctx_use) must outlive its use.
 * NULL when out of memory. */
struct query_ctx *query_ctx_new(const struct config *cfg, struct store *st);
/* The configuration snapshot the next queries read (after a reload, a newer
 * one: legs only ever gain indexes, so the reader's handles stay valid). */
void query_ctx_use(struct query_ctx *ctx, const struct config *cfg);
void query_ctx_free(struct query_ctx *ctx);

/* The right an entry of the command table needs. UNSET is what an entry
 * that forgets its right gets (zero); it is never valid. */
enum command_right {
	COMMAND_RIGHT_UNSET = 0,
	COMMAND_PUBLIC,		/* no right: before AUTH too */
	COMMAND_READ,		/* an operator token with read or admin */
	COMMAND_ADMIN		/* an operator token with admin */
};

/* The right the command name (any case) needs: 0, or -1 if the table has no
 * such command. */
int query_command_right(const char *name, enum command_right *right);
/* The i-th entry of the table (its name, right into *right), NULL past the
 * end: for listings and the table test. */
const char *query_command_at(size_t i, enum command_right *right);

/* Answers line (without its newline) into out. now_ms is "now" for ages. */
void query_execute(struct query_ctx *ctx, const char *line, int64_t now_ms, struct evbuffer *out);

#endif
