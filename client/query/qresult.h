/*
 * One answer of the operator query protocol (docs/query-protocol.md) as the
 * client holds it: OK with columns and rows, or ERR with a code and message;
 * and the query client (qclient.c) that fetches one.
 */
#ifndef CORRIDORCTL_QRESULT_H
#define CORRIDORCTL_QRESULT_H

#include <stdio.h>


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

/* Sends one request line and reads its answer. With token_name, an
 * "AUTH <name> <secret>" goes first, and its ERR, if any, is the answer.
 * 0 when an answer (OK or ERR) arrived; -1 with err filled when the
 * connection or the answer failed, or nothing arrived for timeout_ms. */
struct ctl_tls;
int qclient_run(const struct ctl_tls *tls, const char *host, const char *port,
    const char *token_name, const char *token_secret, const char *line, int timeout_ms,
    struct qresult *r, char *err, size_t errlen);
void qresult_free(struct qresult *r);


#endif
