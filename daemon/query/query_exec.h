/*
 * Answering one query line (docs/query-protocol.md) from the leg databases.
 * Runs on a query worker thread with that thread's own read-only SQLite
 * handles; writes the whole response (OK ... END, or ERR) into out.
 */
#ifndef CORRIDOR_QUERY_EXEC_H
#define CORRIDOR_QUERY_EXEC_H

#include <stdint.h>

#include "legs.h"
#include "limit_table.h"

struct evbuffer;
struct query_ctx;

struct config;

/* A worker thread's context. cfg (may be NULL until query_ctx_use) must
 * outlive its use. */
struct query_ctx *query_ctx_new(const struct config *cfg, const char *legs_dir);
/* The configuration snapshot the next queries read (after a reload, a newer
 * one: legs only ever gain indexes, so open leg handles stay valid). */
void query_ctx_use(struct query_ctx *ctx, const struct config *cfg);
void query_ctx_free(struct query_ctx *ctx);

/* Answers line (without its newline) into out. now_ms is "now" for ages. */
void query_execute(struct query_ctx *ctx, const char *line, int64_t now_ms, struct evbuffer *out);

#endif
