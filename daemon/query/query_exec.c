/* The query commands; see query_exec.h and docs/query-protocol.md. */
#include "query_exec.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>

#include "config.h"
#include "log.h"
#include "qproto.h"
#include "stats.h"
#include "timeutil.h"
#include "query_internal.h"

/* One entry of the command table (read-only, shared by every thread). The
 * right is a required field: COMMAND_RIGHT_UNSET (an entry that omits it) is
 * no valid value, and test_commands fails on it. */
struct command {
	const char *name;
	enum command_right right;
	int min_args, max_args;	/* words after the command */
	void (*run)(struct query_ctx *ctx, struct qrequest *req, int64_t now, struct answer *a);
	const char *usage;
};

struct query_ctx *
query_ctx_new(const struct config *cfg, struct store *st)
{
	struct query_ctx *ctx = calloc(1, sizeof *ctx);

	if (ctx == NULL)
		return NULL;
	ctx->store = st;	/* the reader is opened by the first query */
	if (cfg != NULL)
		query_ctx_use(ctx, cfg);
	return ctx;
}

void
query_ctx_use(struct query_ctx *ctx, const struct config *cfg)
{
	/* a leg keeps its index across reloads, so the reader's handles stay right */
	ctx->cfg = cfg;
	ctx->legs = &cfg->legs;
	ctx->lim = &cfg->limits;
}

void
query_ctx_free(struct query_ctx *ctx)
{
	if (ctx == NULL)
		return;
	store_reader_close(ctx->reader);
	free(ctx);
}

void
answer_err(struct answer *a, const char *code, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	if (a->failed)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	a->failed = 1;
	evbuffer_add_printf(a->out, "ERR %s %s\n", code, msg);
}

void
answer_header(struct answer *a, const char *columns)
{
	evbuffer_add_printf(a->rows, "# %s\n", columns);
}

void
answer_row(struct answer *a, const char *fmt, ...)
{
	va_list ap;

	if (a->failed)
		return;
	if (++a->nrows > a->max_rows) {
		answer_err(a, "TOO_MANY_ROWS", "the answer has more than %zu rows (max_query_rows)",
		    a->max_rows);
		return;
	}
	va_start(ap, fmt);
	evbuffer_add_vprintf(a->rows, fmt, ap);
	va_end(ap);
	evbuffer_add(a->rows, "\n", 1);
}

int
grow_array(void **arr, size_t *cap, size_t n, size_t elem)
{
	void *grown;
	size_t c;

	if (n < *cap)
		return 0;
	c = *cap ? *cap * 2 : 64;
	if ((grown = realloc(*arr, c * elem)) == NULL)
		return -1;
	*arr = grown;
	*cap = c;
	return 0;
}

int
read_ok(const char *what, int rc, const struct store_error *err, struct answer *a)
{
	if (rc == -1) {
		log_warnx("query failed db=%s kind=%s error=\"%s\"", what,
		    store_error_kind_name(err->kind), err->message);
		/* busy, or a database server not reachable now: the client may
		 * ask again; anything else would fail the same way again */
		if (err->kind == STORE_RETRYABLE)
			answer_err(a, "UNAVAILABLE", "%s is unavailable, try again", what);
		else
			answer_err(a, "INTERNAL", "reading %s failed", what);
	}
	return rc != 0 || a->failed ? -1 : 0;
}

static void
cmd_ping(struct query_ctx *ctx, struct qrequest *req, int64_t now, struct answer *a)
{
	(void)ctx;
	(void)req;
	(void)now;
	answer_header(a, "reply\tversion\tprotocol");
	answer_row(a, "PONG\t%s\t%d", CORRIDOR_VERSION, QPROTO_VERSION);
}

static void
cmd_legs(struct query_ctx *ctx, struct qrequest *req, int64_t now, struct answer *a)
{
	(void)req;
	(void)now;
	answer_header(a, "leg\tfrom\tto\tcountry\tkind\tmode\tdistance_km\tmin_h\ttypical_h\tbad_h"
	    "\tfrom_node\tto_node");
	for (size_t i = 0; i < ctx->legs->count; i++) {
		const struct leg *l = &ctx->legs->legs[i];

		answer_row(a, "%s\t%s\t%s\t%s\t%s\t%s\t%g\t%g\t%g\t%g\t%s\t%s", l->code, l->from,
		    l->to, l->country, leg_kind_name(l->kind), l->mode, l->distance_km, l->min_h,
		    l->typical_h, l->bad_h, l->from_node, l->to_node);
	}
}

static void
cmd_backup(struct query_ctx *ctx, struct qrequest *req, int64_t now, struct answer *a)
{
	const struct config *cfg = ctx->cfg;
	struct store_backup_file files[LEGS_MAX + 1];
	char dir[CONFIG_PATH_MAX + 16], dest[CONFIG_PATH_MAX + STORE_BACKUP_NAME_MAX + 16];
	struct store_error err;
	size_t n;

	(void)now;
	if (!store_backup_name_valid(req->argv[1])) {
		answer_err(a, "BAD_ARGUMENT", "a backup name is 1-%d letters, digits, '.', '_' or "
		    "'-', not starting with '.'", STORE_BACKUP_NAME_MAX);
		return;
	}
	if (cfg->backup_dir[0] != '\0')
		snprintf(dir, sizeof dir, "%s", cfg->backup_dir);
	else
		snprintf(dir, sizeof dir, "%s/backups", cfg->state_dir);
	/* the backend makes it if it writes files (a database server's store
	 * has its own backups and leaves the directory alone) */
	snprintf(dest, sizeof dest, "%s/%s", dir, req->argv[1]);
	if (store_reader_backup(ctx->reader, ctx->legs, dest, files, &n, &err) == -1) {
		log_warnx("backup failed dest=%s kind=%s error=\"%s\"", dest,
		    store_error_kind_name(err.kind), err.message);
		/* a backend without an online backup says how to back it up */
		if (err.kind == STORE_UNSUPPORTED)
			answer_err(a, "UNSUPPORTED", "%s", err.message);
		else
			answer_err(a, err.kind == STORE_CONFLICT ? "BAD_ARGUMENT" : "INTERNAL",
			    "backup %s: %s", req->argv[1], err.message);
		return;
	}
	log_info("backup done dest=%s files=%zu", dest, n);
	answer_header(a, "file\tbytes\tms\tpath");
	for (size_t i = 0; i < n; i++)
		answer_row(a, "%s\t%lld\t%lld\t%s/%s", files[i].name, (long long)files[i].bytes,
		    (long long)files[i].ms, dest, files[i].name);
}

static void cmd_help(struct query_ctx *ctx, struct qrequest *req, int64_t now, struct answer *a);

static const struct command commands[] = {
	{ .name = "PING", .right = COMMAND_PUBLIC, .min_args = 0, .max_args = 0, .run = cmd_ping,
	    .usage = "PING" },
	{ .name = "HELP", .right = COMMAND_PUBLIC, .min_args = 0, .max_args = 0, .run = cmd_help,
	    .usage = "HELP" },
	{ .name = "LEGS", .right = COMMAND_READ, .min_args = 0, .max_args = 0, .run = cmd_legs,
	    .usage = "LEGS" },
	{ .name = "STATS", .right = COMMAND_READ, .min_args = 1, .max_args = 5, .run = cmd_stats,
	    .usage = "STATS <leg|*> [from] [to] [W|E] [carrier]" },
	{ .name = "HISTOGRAM", .right = COMMAND_READ, .min_args = 1, .max_args = 5, .run = cmd_histogram,
	    .usage = "HISTOGRAM <leg> [from] [to] [W|E] [carrier]" },
	{ .name = "ONTIME", .right = COMMAND_READ, .min_args = 1, .max_args = 5, .run = cmd_ontime,
	    .usage = "ONTIME <leg|*> [from] [to] [W|E] [carrier]" },
	{ .name = "VOLUMES", .right = COMMAND_READ, .min_args = 2, .max_args = 6, .run = cmd_volumes,
	    .usage = "VOLUMES <leg|*> <day|week|month> [from] [to] [W|E] [carrier]" },
	{ .name = "JOURNEYS", .right = COMMAND_READ, .min_args = 2, .max_args = 6, .run = cmd_journeys,
	    .usage = "JOURNEYS <from_node> <to_node> [from] [to] [W|E] [target_days]" },
	{ .name = "HOLDS", .right = COMMAND_READ, .min_args = 1, .max_args = 5, .run = cmd_holds,
	    .usage = "HOLDS <leg|*> [from] [to] [W|E] [carrier]" },
	{ .name = "DELAYS", .right = COMMAND_READ, .min_args = 1, .max_args = 5, .run = cmd_delays,
	    .usage = "DELAYS <leg|*> [from] [to] [W|E] [carrier]" },
	{ .name = "QUALITY", .right = COMMAND_READ, .min_args = 0, .max_args = 3, .run = cmd_quality,
	    .usage = "QUALITY [carrier|*] [from] [to]" },
	{ .name = "INTRANSIT", .right = COMMAND_READ, .min_args = 0, .max_args = 1, .run = cmd_intransit,
	    .usage = "INTRANSIT [leg|*]" },
	{ .name = "SHIPMENT", .right = COMMAND_READ, .min_args = 1, .max_args = 1, .run = cmd_shipment,
	    .usage = "SHIPMENT <container|unit>" },
	{ .name = "BACKUP", .right = COMMAND_ADMIN, .min_args = 1, .max_args = 1, .run = cmd_backup,
	    .usage = "BACKUP <name>" },
	{ .name = "QUIT", .right = COMMAND_PUBLIC, .min_args = 0, .max_args = 0, .run = NULL,
	    .usage = "QUIT" },
};

int
query_command_right(const char *name, enum command_right *right)
{
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (strcasecmp(commands[i].name, name) == 0) {
			*right = commands[i].right;
			return 0;
		}
	return -1;
}

const char *
query_command_at(size_t i, enum command_right *right)
{
	if (i >= sizeof commands / sizeof commands[0])
		return NULL;
	*right = commands[i].right;
	return commands[i].name;
}

static void
cmd_help(struct query_ctx *ctx, struct qrequest *req, int64_t now, struct answer *a)
{
	(void)ctx;
	(void)req;
	(void)now;
	answer_header(a, "command\tusage");
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		answer_row(a, "%s\t%s", commands[i].name, commands[i].usage);
}

void
query_execute(struct query_ctx *ctx, const char *line, int64_t now_ms, struct evbuffer *out)
{
	struct answer a = { out, evbuffer_new(), 0, (size_t)ctx->lim->max_query_rows, 0 };
	struct qrequest req;
	char *copy = strdup(line);
	const struct command *cmd = NULL;
	struct store_error serr;
	char msg[160];

	if (copy == NULL || a.rows == NULL) {
		answer_err(&a, "INTERNAL", "out of memory");
		goto done;
	}
	if (qproto_check_line(copy, strlen(copy), NULL, msg, sizeof msg) == -1) {
		answer_err(&a, "BAD_ARGUMENT", "%s", msg);
		goto done;
	}
	if (qproto_split(copy, &req) == -1) {
		answer_err(&a, "BAD_ARGUMENT", "too many words (a request has at most %d)",
		    QPROTO_MAX_ARGS);
		goto done;
	}
	if (req.argc == 0) {
		answer_err(&a, "UNKNOWN_COMMAND", "empty line; HELP lists the commands");
		goto done;
	}
	for (char *p = req.argv[0]; *p; p++)
		*p = (char)toupper((unsigned char)*p);
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (strcmp(commands[i].name, req.argv[0]) == 0 && commands[i].run != NULL)
			cmd = &commands[i];
	if (cmd == NULL) {
		answer_err(&a, "UNKNOWN_COMMAND", "%.40s is not a command; HELP lists them",
		    req.argv[0]);
		goto done;
	}
	if (req.argc - 1 < cmd->min_args || req.argc - 1 > cmd->max_args) {
		answer_err(&a, "BAD_ARGUMENT", "usage: %s", cmd->usage);
		goto done;
	}
	/* opened here, not at the thread's start, so that a store that could
	 * not be read then (a database not up yet) is tried again by the next
	 * query instead of failing this thread's share of them for good */
	if (ctx->reader == NULL && (ctx->reader = store_reader_open(ctx->store, &serr)) == NULL) {
		read_ok("the store", -1, &serr, &a);
		goto done;
	}
	if (store_reader_begin(ctx->reader, &serr) == -1) {
		read_ok("the store", -1, &serr, &a);
		goto done;
	}
	cmd->run(ctx, &req, now_ms, &a);
	store_reader_end(ctx->reader);
	if (!a.failed) {
		evbuffer_add(out, "OK\n", 3);
		evbuffer_add_buffer(out, a.rows);
		evbuffer_add_printf(out, "END %zu\n", a.nrows);
	}
done:
	if (a.rows != NULL)
		evbuffer_free(a.rows);
	free(copy);
}
