/*
 * corridorctl's shared pieces: the global options every subcommand sees and
 * small helpers (TCP connect, progress line, secrets) that the query side and
 * the carrier side both use. The subcommands' entry points are declared by
 * their own folders (query/query_cmds.h, carrier/carrier_cmds.h).
 */
#ifndef CORRIDORCTL_CTL_H
#define CORRIDORCTL_CTL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ctl_conn.h"
#include "ctl_util.h"

#define CTL_QUERY_PORT "7471"
#define CTL_INGEST_PORT "7470"
#define CTL_METRICS_PORT "7472"

/* --watch: seconds between refreshes without a value, and the bounds of one. */
#define CTL_WATCH_DEFAULT_S 2.0
#define CTL_WATCH_MIN_S 0.2
#define CTL_WATCH_MAX_S 86400.0

/* --timeout: how long a query waits for its answer to go on arriving (the
 * read timeout), by default, for BACKUP (which copies every database before
 * it answers), and the bounds of a given one. */
#define CTL_TIMEOUT_DEFAULT_S 10.0
#define CTL_TIMEOUT_BACKUP_S 3600.0
#define CTL_TIMEOUT_MIN_S 0.1
#define CTL_TIMEOUT_MAX_S 86400.0

enum render_fmt { RENDER_TABLE, RENDER_JSON, RENDER_CSV };

struct ctl {
	const char *host;
	const char *port;	/* the subcommand's default port is filled in by main */
	enum render_fmt fmt;
	int verbose;
	struct ctl_tls tls;	/* --tls, --ca, --cert, --key */
	double watch_s;		/* --watch: seconds between refreshes; 0 shows once */
	double timeout_s;	/* --timeout: seconds an answer may stall; 0: the command's */
	const char *title;	/* the subcommand's words, for --watch's header */
	size_t width;		/* tables fit this many characters; 0 any (ctl_show sets it) */
	/* the operator token for the query port (ctl_token_resolve) */
	const char *token, *token_file;	/* --token NAME:SECRET, --token-file FILE */
	const char *token_name, *token_secret;	/* NULL: no AUTH is sent */
	char token_buf[4200];
	/* Prints a subcommand's --help text; main sets it (the subcommands sit
	 * below the command table that holds the texts). */
	void (*usage)(const char *name);
};


/* The hash-credential subcommand (ctl_secret.c). */
int cmd_hash_credential(struct ctl *c, int argc, char **argv);

/* The operator token: --token, --token-file, CORRIDOR_TOKEN or
 * CORRIDOR_TOKEN_FILE, as NAME:SECRET; 0 (token_name NULL when there is
 * none), or -1 with err. */
int ctl_token_resolve(struct ctl *c, char *err, size_t errlen);
/* The carrier credential a session presents: given (--credential), else the
 * file's line for code (or its bare secret line), else CORRIDOR_CREDENTIAL,
 * else CORRIDOR_CREDENTIAL_FILE. NULL when there is none, or when err is set. */
const char *ctl_carrier_credential(const char *given, const char *file, const char *code,
    char *buf, size_t len, char *err, size_t errlen);

#endif
