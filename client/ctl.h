/*
 * corridorctl's shared pieces: the global options every subcommand sees, the
 * subcommands' entry points, and small helpers (TCP connect, progress line)
 * that the query side and the carrier side both use.
 */
#ifndef CORRIDORCTL_CTL_H
#define CORRIDORCTL_CTL_H

#include <stddef.h>
#include <stdint.h>

#include "ctl_conn.h"

#define CTL_QUERY_PORT "7471"
#define CTL_INGEST_PORT "7470"
#define CTL_METRICS_PORT "7472"

enum render_fmt { RENDER_TABLE, RENDER_JSON, RENDER_CSV };

struct ctl {
	const char *host;
	const char *port;	/* the subcommand's default port is filled in by main */
	enum render_fmt fmt;
	int verbose;
	struct ctl_tls tls;	/* --tls, --ca, --cert, --key */
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
