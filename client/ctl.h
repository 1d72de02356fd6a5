/*
 * corridorctl's shared pieces: the global options every subcommand sees, the
 * subcommands' entry points, and small helpers (TCP connect, progress line)
 * that the query side and the carrier side both use.
 */
#ifndef CORRIDORCTL_CTL_H
#define CORRIDORCTL_CTL_H

#include <stddef.h>
#include <stdint.h>

#define CTL_QUERY_PORT "7471"
#define CTL_INGEST_PORT "7470"
#define CTL_METRICS_PORT "7472"

enum render_fmt { RENDER_TABLE, RENDER_JSON, RENDER_CSV };

struct ctl {
	const char *host;
	const char *port;	/* the subcommand's default port is filled in by main */
	enum render_fmt fmt;
	int verbose;
	/* the operator token for the query port (ctl_token_resolve) */
	const char *token, *token_file;	/* --token NAME:SECRET, --token-file FILE */
	const char *token_name, *token_secret;	/* NULL: no AUTH is sent */
	char token_buf[4200];
};

/* Subcommands: argv[0] is the subcommand's name; they return the exit code. */
int cmd_ping(struct ctl *c, int argc, char **argv);
int cmd_legs(struct ctl *c, int argc, char **argv);
int cmd_stats(struct ctl *c, int argc, char **argv);
int cmd_intransit(struct ctl *c, int argc, char **argv);
int cmd_shipment(struct ctl *c, int argc, char **argv);
int cmd_backup(struct ctl *c, int argc, char **argv);
int cmd_query(struct ctl *c, int argc, char **argv);
int cmd_push(struct ctl *c, int argc, char **argv);
int cmd_simulate(struct ctl *c, int argc, char **argv);
int cmd_info(struct ctl *c, int argc, char **argv);
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
/* A secrets file: "CODE SECRET" lines, a bare "SECRET" line for any other
 * code (or a token "NAME:SECRET"), # comments. 0 or -1 with err. */
int ctl_read_secret_file(const char *path, const char *code, char *out, size_t outlen,
    char *err, size_t errlen);

/* Prints the subcommand's --help text to stdout. */
void ctl_usage_command(const char *name);

/* Makes room for one more element in the array *arrp of *cap elements
 * holding n. 0, or -1 when out of memory (the array is left as it was). */
int ctl_grow(void *arrp, size_t *cap, size_t n, size_t elem);

/* A connected blocking TCP socket, or -1 with a message in err. */
int net_connect(const char *host, const char *port, int timeout_ms, char *err, size_t errlen);

/* A status line on stderr: redrawn with \r on a terminal, otherwise printed
 * at most every few seconds. progress_done() ends the line. */
struct progress {
	int tty;
	int64_t last_ms;
	int shown;
};
void progress_init(struct progress *p);
void progress_show(struct progress *p, int force, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void progress_done(struct progress *p);

#endif
