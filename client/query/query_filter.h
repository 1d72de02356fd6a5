/*
 * The options the statistics subcommands share (--from, --to, --direction,
 * --carrier, and --target-days, --bin for the ones that take them), checked
 * here so that a bad value is a usage error before anything is sent, and the
 * request line they make (docs/query-protocol.md: "-" leaves a word out).
 */
#ifndef CORRIDORCTL_QUERY_FILTER_H
#define CORRIDORCTL_QUERY_FILTER_H

#include <stddef.h>

enum {
	QF_FROM = 1 << 0,
	QF_TO = 1 << 1,
	QF_DIRECTION = 1 << 2,
	QF_CARRIER = 1 << 3,
	QF_TARGET_DAYS = 1 << 4,
	QF_BIN = 1 << 5,
	QF_WINDOW = QF_FROM | QF_TO,
	QF_COMMON = QF_FROM | QF_TO | QF_DIRECTION | QF_CARRIER,
};

struct qfilter {
	const char *from, *to, *direction, *carrier;	/* NULL: left out */
	const char *target_days;
	double bin_h;					/* 0: chosen */
};

/* Parses argv[0]'s options among allowed into f. Returns the index of the
 * first positional argument (all of them checked to be single words), or -1
 * after a message on stderr. */
int qfilter_parse(int argc, char **argv, unsigned allowed, struct qfilter *f);

/* v, or "-" when v is NULL: a request word. */
const char *qfilter_word(const char *v);

/* snprintf into buf that fails (-1, with a message on stderr) rather than cut
 * a request line short. */
int qfilter_line(char *buf, size_t len, const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
