/*
 * One answer of the operator query protocol (docs/query-protocol.md) as the
 * client holds it: OK with columns and rows, or ERR with a code and message;
 * and its rendering as a table, JSON or CSV.
 */
#ifndef CORRIDORCTL_QRESULT_H
#define CORRIDORCTL_QRESULT_H

#include <stdio.h>

#include "ctl.h"

struct qresult {
	int ok;
	char err_code[32];
	char err_msg[512];
	size_t ncols;
	char **cols;
	size_t nrows;
	char ***rows;		/* nrows rows of ncols fields each */
	size_t rows_cap;
};

/* Sends one request line and reads its answer. 0 when an answer (OK or ERR)
 * arrived; -1 with err filled when the connection or the answer failed. */
struct ctl_tls;
int qclient_run(const struct ctl_tls *tls, const char *host, const char *port,
    const char *line, struct qresult *r, char *err, size_t errlen);
void qresult_free(struct qresult *r);

/* Writes r (an OK answer) to out. 0 or -1. */
int render_result(const struct qresult *r, enum render_fmt fmt, FILE *out);
/* The same with a table fitted into width characters (0: any) in the drop
 * order of the query command that answered (NULL: from the right). */
int render_result_fit(const struct qresult *r, enum render_fmt fmt, size_t width,
    const char *command, FILE *out);

/* Sends line to the daemon c names and reads the answer into r: 0 when it is
 * OK; -1 with e filled when there is no answer (exit 1, transient) or it is
 * ERR (exit 2; transient unless the same request would fail again). */
int ctl_query_fetch(struct ctl *c, const char *line, struct qresult *r, struct ctl_error *e);

/* True when field s is a whole number (*is_int) or a decimal number. */
int qfield_number(const char *s, int *is_int);

#endif
