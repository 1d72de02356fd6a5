/*
 * The query benchmark's requests: templates read from a file (name, request
 * with {leg} {from} {to} {day} {unit} placeholders), expanded against what
 * the daemon offers (HELP's commands, LEGS, units from INTRANSIT) and the
 * data set's time window.
 */
#ifndef CORRIDOR_BENCH_QSET_H
#define CORRIDOR_BENCH_QSET_H

#include <stddef.h>

#include "bench_conn.h"

#define QSET_TEXT_MAX 512
#define QSET_LINE_MAX 1024

struct qtmpl {
	char name[48];
	char text[QSET_TEXT_MAX];
	char command[32];	/* the request's first word */
	int selected;		/* by --only (all without it) */
	size_t first, nreq;	/* its requests in qset.req */
};

struct qreq {
	size_t tmpl;
	char line[QSET_LINE_MAX];
};

struct qset {
	struct qtmpl *tmpl;
	size_t ntmpl;
	struct qreq *req;
	size_t nreq, cap;
	char from[40], to[40], day[40];
};

/* Reads the templates; only, when not NULL, is a comma-separated list of
 * the names to select (each must exist). 0, or -1 with the reason in err. */
int qset_load(struct qset *qs, const char *path, const char *only, char *err, size_t errlen);
/* The window: from and to as the query protocol takes them. */
int qset_window(struct qset *qs, const char *from, const char *to, char *err, size_t errlen);
/* The window of a bench_gen data set (DIR/manifest). */
int qset_window_from_data(struct qset *qs, const char *dir, char *err, size_t errlen);
/* Asks the daemon for its commands, legs and some units in transit, and
 * makes the selected templates' requests; a template whose command the
 * daemon lacks is skipped with a note on stderr. 0 or -1. */
int qset_expand(struct qset *qs, const struct bench_endpoint *ep, char *err, size_t errlen);
void qset_free(struct qset *qs);

#endif
