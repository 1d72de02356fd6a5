/*
 * corridorctl's shared pieces: the global options every subcommand sees, the
 * subcommands' entry points, and small helpers (TCP connect, progress line)
 * that the query side and the carrier side both use.
 */
#ifndef CORRIDORCTL_CTL_H
#define CORRIDORCTL_CTL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ctl_conn.h"

#define CTL_QUERY_PORT "7471"
#define CTL_INGEST_PORT "7470"
#define CTL_METRICS_PORT "7472"

/* --watch: seconds between refreshes without a value, and the bounds of one. */
#define CTL_WATCH_DEFAULT_S 2.0
#define CTL_WATCH_MIN_S 0.2
#define CTL_WATCH_MAX_S 86400.0

enum render_fmt { RENDER_TABLE, RENDER_JSON, RENDER_CSV };

struct ctl {
	const char *host;
	const char *port;	/* the subcommand's default port is filled in by main */
	enum render_fmt fmt;
	int verbose;
	struct ctl_tls tls;	/* --tls, --ca, --cert, --key */
	double watch_s;		/* --watch: seconds between refreshes; 0 shows once */
	const char *title;	/* the subcommand's words, for --watch's header */
	size_t width;		/* tables fit this many characters; 0 any (ctl_show sets it) */
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
int cmd_histogram(struct ctl *c, int argc, char **argv);
int cmd_ontime(struct ctl *c, int argc, char **argv);
int cmd_volumes(struct ctl *c, int argc, char **argv);
int cmd_journeys(struct ctl *c, int argc, char **argv);
int cmd_holds(struct ctl *c, int argc, char **argv);
int cmd_delays(struct ctl *c, int argc, char **argv);
int cmd_quality(struct ctl *c, int argc, char **argv);

/* What went wrong in one showing of a subcommand's answer. */
struct ctl_error {
	int exit;		/* the exit code it means */
	int transient;		/* worth trying again: --watch goes on */
	char msg[640];
};
void ctl_error_set(struct ctl_error *e, int exit, int transient, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Writes one answer of a subcommand to out (stdout, or a buffer under
 * --watch); 0, or -1 with e filled. */
typedef int (*ctl_show_fn)(struct ctl *c, const void *arg, FILE *out, struct ctl_error *e);

/* Runs fn once (errors on stderr), or with c->watch_s every that many
 * seconds until Ctrl-C, redrawing the screen on a terminal and separating
 * the refreshes with a time-stamped line otherwise. The exit code. */
int ctl_show(struct ctl *c, ctl_show_fn fn, const void *arg);

/* Shows the answer to one query-protocol line (through ctl_show). */
int ctl_query_show(struct ctl *c, const char *line);

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
