/*
 * Showing a subcommand's answer once or, under --watch, again and again
 * (watch.c), and the error one showing ends with.
 */
#ifndef CORRIDORCTL_WATCH_H
#define CORRIDORCTL_WATCH_H

#include <stdio.h>

#include "ctl.h"

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

#endif
