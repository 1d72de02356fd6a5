/*
 * The operator subcommands: each builds one query-protocol line, sends it to
 * the daemon's query listener and renders the answer (once, or under --watch
 * again and again). ERR answers go to stderr as "corridorctl: CODE: message"
 * with exit 2; no connection is exit 1.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "ctl_query.h"
#include "log.h"
#include "qresult.h"
#include "query_cmds.h"
#include "query_filter.h"
#include "render.h"
#include "watch.h"

/* ERR codes that the same request would get again: --watch stops on them.
 * NOT_FOUND is not one: the unit asked for may be reported later; nor is
 * UNAVAILABLE (the store is busy or its server unreachable for now). */
static int
err_lasting(const char *code)
{
	static const char *const lasting[] = { "UNKNOWN_COMMAND", "BAD_ARGUMENT", "UNKNOWN_LEG",
	    "LINE_TOO_LONG", "UNAUTHORIZED", "FORBIDDEN", "UNSUPPORTED" };

	for (size_t i = 0; i < sizeof lasting / sizeof lasting[0]; i++)
		if (strcmp(code, lasting[i]) == 0)
			return 1;
	return 0;
}

int
ctl_query_fetch(struct ctl *c, const char *line, struct qresult *r, struct ctl_error *e)
{
	char err[512];

	log_debug("query host=%s port=%s line=\"%s\"", c->host, c->port, line);
	double timeout_s = c->timeout_s > 0 ? c->timeout_s :
	    strncmp(line, "BACKUP ", 7) == 0 ? CTL_TIMEOUT_BACKUP_S : CTL_TIMEOUT_DEFAULT_S;

	if (qclient_run(&c->tls, c->host, c->port, c->token_name, c->token_secret, line,
	    (int)(timeout_s * 1000), r, err,
	    sizeof err) == -1) {
		ctl_error_set(e, 1, 1, "%s", err);
		qresult_free(r);
		return -1;
	}
	if (!r->ok) {
		ctl_error_set(e, 2, !err_lasting(r->err_code), "%s: %s", r->err_code, r->err_msg);
		qresult_free(r);
		return -1;
	}
	return 0;
}

static int
show_line(struct ctl *c, const void *arg, FILE *out, struct ctl_error *e)
{
	const char *line = arg;
	struct qresult r;
	char command[32];
	int rc = 0;

	if (ctl_query_fetch(c, line, &r, e) == -1)
		return -1;
	snprintf(command, sizeof command, "%.*s", (int)strcspn(line, " "), line);
	if (render_result_fit(&r, c->fmt, c->width, command, out) == -1) {
		ctl_error_set(e, 1, 0, "cannot write the output");
		rc = -1;
	}
	qresult_free(&r);
	return rc;
}

int
ctl_query_show(struct ctl *c, const char *line)
{
	return ctl_show(c, show_line, line);
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
	return ctl_query_show(c, "PING");
}

int
cmd_legs(struct ctl *c, int argc, char **argv)
{
	if (plain_args(argc, argv, 0, 0) == -1)
		return 64;
	return ctl_query_show(c, "LEGS");
}

int
cmd_intransit(struct ctl *c, int argc, char **argv)
{
	char line[256];

	if (plain_args(argc, argv, 0, 1) == -1)
		return 64;
	snprintf(line, sizeof line, "INTRANSIT %s", argc > 1 ? argv[1] : "*");
	return ctl_query_show(c, line);
}

int
cmd_shipment(struct ctl *c, int argc, char **argv)
{
	char line[256];

	if (plain_args(argc, argv, 1, 1) == -1)
		return 64;
	snprintf(line, sizeof line, "SHIPMENT %s", argv[1]);
	return ctl_query_show(c, line);
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
	return ctl_query_show(c, line);
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
	return ctl_query_show(c, argv[1]);
}

int
cmd_stats(struct ctl *c, int argc, char **argv)
{
	struct qfilter f;
	char line[512];
	int i = qfilter_parse(argc, argv, QF_COMMON, &f);

	if (i == -1)
		return 64;
	if (argc - i != 1) {
		fprintf(stderr, "corridorctl: stats: give one leg, or '*' for all\n");
		return 64;
	}
	if (qfilter_line(line, sizeof line, "stats", "STATS %s %s %s %s %s", argv[i],
	    qfilter_word(f.from), qfilter_word(f.to), qfilter_word(f.direction),
	    qfilter_word(f.carrier)) == -1)
		return 64;
	return ctl_query_show(c, line);
}
