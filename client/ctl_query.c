/*
 * The operator subcommands: each builds one query-protocol line, sends it to
 * the daemon's query listener and renders the answer. ERR answers go to
 * stderr as "corridorctl: CODE: message" with exit 2; no connection is exit 1.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "log.h"
#include "qresult.h"
#include "timeutil.h"

static int
query_render(struct ctl *c, const char *line)
{
	struct qresult r;
	char err[512];
	int rc = 0;

	log_debug("query host=%s port=%s line=\"%s\"", c->host, c->port, line);
	if (qclient_run(&c->tls, c->host, c->port, line, &r, err, sizeof err) == -1) {
		fprintf(stderr, "corridorctl: %s\n", err);
		qresult_free(&r);
		return 1;
	}
	if (!r.ok) {
		fprintf(stderr, "corridorctl: %s: %s\n", r.err_code, r.err_msg);
		rc = 2;
	} else if (render_result(&r, c->fmt, stdout) == -1 || fflush(stdout) != 0) {
		fprintf(stderr, "corridorctl: cannot write the output\n");
		rc = 1;
	}
	qresult_free(&r);
	return rc;
}

/* Subcommands without options other than --help: exactly nargs words. */
static int
plain_args(int argc, char **argv, int min, int max)
{
	if (argc - 1 < min || argc - 1 > max) {
		fprintf(stderr, "corridorctl: %s: wrong number of arguments (see --help)\n",
		    argv[0]);
		return -1;
	}
	for (int i = 1; i < argc; i++)
		if (argv[i][0] == '-' && argv[i][1] != '\0') {
			fprintf(stderr, "corridorctl: %s: unknown option %s\n", argv[0], argv[i]);
			return -1;
		}
	return 0;
}

int
cmd_ping(struct ctl *c, int argc, char **argv)
{
	if (plain_args(argc, argv, 0, 0) == -1)
		return 64;
	return query_render(c, "PING");
}

int
cmd_legs(struct ctl *c, int argc, char **argv)
{
	if (plain_args(argc, argv, 0, 0) == -1)
		return 64;
	return query_render(c, "LEGS");
}

int
cmd_intransit(struct ctl *c, int argc, char **argv)
{
	char line[256];

	if (plain_args(argc, argv, 0, 1) == -1)
		return 64;
	snprintf(line, sizeof line, "INTRANSIT %s", argc > 1 ? argv[1] : "*");
	return query_render(c, line);
}

int
cmd_shipment(struct ctl *c, int argc, char **argv)
{
	char line[256];

	if (plain_args(argc, argv, 1, 1) == -1)
		return 64;
	snprintf(line, sizeof line, "SHIPMENT %s", argv[1]);
	return query_render(c, line);
}

int
cmd_backup(struct ctl *c, int argc, char **argv)
{
	char line[256];

	if (plain_args(argc, argv, 1, 1) == -1)
		return 64;
	snprintf(line, sizeof line, "BACKUP %s", argv[1]);
	if (isatty(2))
		fprintf(stderr, "corridorctl: backing up every database (ingest goes on)...\n");
	return query_render(c, line);
}

int
cmd_query(struct ctl *c, int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "corridorctl: query: give the request as one argument\n");
		return 64;
	}
	if (strchr(argv[1], '\n') != NULL) {
		fprintf(stderr, "corridorctl: query: one line only\n");
		return 64;
	}
	return query_render(c, argv[1]);
}

static int
check_time(const char *what, const char *v)
{
	int64_t ms;

	if (v != NULL && time_parse_iso(v, &ms) == -1) {
		fprintf(stderr, "corridorctl: stats: %s %s: use YYYY-MM-DD, "
		    "YYYY-MM-DDTHH:MM[:SS]Z or Unix milliseconds\n", what, v);
		return -1;
	}
	return 0;
}

int
cmd_stats(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 't' },
		{ "direction", required_argument, NULL, 'd' },
		{ "carrier", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	const char *from = NULL, *to = NULL, *dir = NULL, *carrier = NULL;
	char line[512];
	int ch;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'f': from = optarg; break;
		case 't': to = optarg; break;
		case 'd': dir = optarg; break;
		case 'c': carrier = optarg; break;
		default: return 64;
		}
	}
	if (argc - optind != 1) {
		fprintf(stderr, "corridorctl: stats: give one leg, or '*' for all\n");
		return 64;
	}
	if (dir != NULL && strcmp(dir, "W") != 0 && strcmp(dir, "E") != 0) {
		fprintf(stderr, "corridorctl: stats: --direction is W or E\n");
		return 64;
	}
	if (check_time("--from", from) == -1 || check_time("--to", to) == -1)
		return 64;
	snprintf(line, sizeof line, "STATS %s %s %s %s %s", argv[optind],
	    from ? from : "-", to ? to : "-", dir ? dir : "-", carrier ? carrier : "-");
	return query_render(c, line);
}
