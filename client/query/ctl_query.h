/*
 * One query-protocol line to the daemon and its answer (ctl_query.c), for the
 * subcommands that ask the query port.
 */
#ifndef CORRIDORCTL_CTL_QUERY_H
#define CORRIDORCTL_CTL_QUERY_H

#include "ctl.h"
#include "qresult.h"
#include "watch.h"

/* Sends line to the daemon c names and reads the answer into r: 0 when it is
 * OK; -1 with e filled when there is no answer (exit 1, transient) or it is
 * ERR (exit 2; transient unless the same request would fail again). */
int ctl_query_fetch(struct ctl *c, const char *line, struct qresult *r, struct ctl_error *e);

/* Shows the answer to one query-protocol line (through ctl_show). */
int ctl_query_show(struct ctl *c, const char *line);

#endif
