/*
 * Options of the statistics subcommands: parsed with getopt_long, checked
 * (times, direction, numbers, single words), and turned into request words.
 */
#include <ctype.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "query_filter.h"
#include "timeutil.h"

/* Request words must not break the line: no spaces, tabs or control bytes. */
static int
one_word(const char *cmd, const char *what, const char *v)
{
	if (v[0] == '\0') {
		fprintf(stderr, "corridorctl: %s: %s is empty\n", cmd, what);
		return -1;
	}
	for (const char *p = v; *p; p++)
		if (isspace((unsigned char)*p) || iscntrl((unsigned char)*p)) {
			fprintf(stderr, "corridorctl: %s: %s \"%s\" is not one word\n", cmd, what, v);
			return -1;
		}
	return 0;
}

static int
check_time(const char *cmd, const char *what, const char *v)
{
	int64_t ms;

	switch (time_parse(v, &ms)) {
	case TIME_PARSED:
		return 0;
	case TIME_OUT_OF_RANGE:
		fprintf(stderr, "corridorctl: %s: %s %s: out of range (Unix milliseconds within "
		    "64 bits, years up to 9999)\n", cmd, what, v);
		return -1;
	case TIME_MALFORMED:
		break;
	}
	fprintf(stderr, "corridorctl: %s: %s %s: use YYYY-MM-DD, "
	    "YYYY-MM-DDTHH:MM[:SS]Z or Unix milliseconds\n", cmd, what, v);
	return -1;
}

static int
check_positive(const char *cmd, const char *what, const char *v, double *out)
{
	char *end;
	double d = strtod(v, &end);

	if (*end != '\0' || end == v || !isfinite(d) || d <= 0) {
		fprintf(stderr, "corridorctl: %s: %s %s: give a positive number\n", cmd, what, v);
		return -1;
	}
	if (out != NULL)
		*out = d;
	return 0;
}

int
qfilter_parse(int argc, char **argv, unsigned allowed, struct qfilter *f)
{
	static const struct option opts[] = {
		{ "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 't' },
		{ "direction", required_argument, NULL, 'd' },
		{ "carrier", required_argument, NULL, 'c' },
		{ "target-days", required_argument, NULL, 'T' },
		{ "bin", required_argument, NULL, 'b' },
		{ NULL, 0, NULL, 0 },
	};
	static const unsigned flag_of[] = { QF_FROM, QF_TO, QF_DIRECTION, QF_CARRIER,
	    QF_TARGET_DAYS, QF_BIN };
	const char *cmd = argv[0];
	int ch, idx;

	memset(f, 0, sizeof *f);
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":", opts, &idx)) != -1) {
		if (ch == '?' || ch == ':') {
			fprintf(stderr, "corridorctl: %s: %s %s (see --help)\n", cmd,
			    ch == ':' ? "a value is missing after" : "unknown option",
			    argv[optind - 1]);
			return -1;
		}
		if (!(allowed & flag_of[idx])) {
			fprintf(stderr, "corridorctl: %s: no option --%s (see --help)\n", cmd,
			    opts[idx].name);
			return -1;
		}
		if (one_word(cmd, opts[idx].name, optarg) == -1)
			return -1;
		switch (ch) {
		case 'f':
			f->from = optarg;
			if (check_time(cmd, "--from", optarg) == -1)
				return -1;
			break;
		case 't':
			f->to = optarg;
			if (check_time(cmd, "--to", optarg) == -1)
				return -1;
			break;
		case 'd':
			if (strcmp(optarg, "W") != 0 && strcmp(optarg, "E") != 0) {
				fprintf(stderr, "corridorctl: %s: --direction is W or E\n", cmd);
				return -1;
			}
			f->direction = optarg;
			break;
		case 'c':
			f->carrier = optarg;
			break;
		case 'T':
			f->target_days = optarg;
			if (check_positive(cmd, "--target-days", optarg, NULL) == -1)
				return -1;
			break;
		case 'b':
			if (check_positive(cmd, "--bin", optarg, &f->bin_h) == -1)
				return -1;
			break;
		}
	}
	for (int i = optind; i < argc; i++)
		if (one_word(cmd, "an argument", argv[i]) == -1)
			return -1;
	return optind;
}

const char *
qfilter_word(const char *v)
{
	return v != NULL ? v : "-";
}

int
qfilter_line(char *buf, size_t len, const char *cmd, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= len) {
		fprintf(stderr, "corridorctl: %s: the arguments are too long for one request\n",
		    cmd);
		return -1;
	}
	return 0;
}
