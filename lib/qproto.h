/*
 * The operator query protocol (docs/query-protocol.md), shared by the daemon
 * and corridorctl. A request is one text line of space-separated words. A
 * response is "OK" or "ERR <CODE> <message>"; after OK come a header line
 * "# col<TAB>col...", rows of tab-separated fields and "END <rows>".
 */
#ifndef CORRIDOR_QPROTO_H
#define CORRIDOR_QPROTO_H

#include <stddef.h>

#define QPROTO_VERSION 1
#define QPROTO_MAX_ARGS 8

struct qrequest {
	char *argv[QPROTO_MAX_ARGS];
	int argc;
};

/* Checks the len bytes of a line (its LF, and a CR before it, removed): only
 * printable ASCII and tabs. 0; or -1, with *pos the 1-based position of the
 * first other byte (a NUL too) and msg the text for the peer. pos and msg may
 * be NULL. */
int qproto_check_line(const char *line, size_t len, size_t *pos, char *msg, size_t msglen);

/* Splits a line (modified in place) into words. -1 if there are too many
 * words or a byte that is not printable ASCII. */
int qproto_split(char *line, struct qrequest *req);

/* "-" or "*" mean "not given". */
int qproto_arg_given(const struct qrequest *req, int i);

#endif
