/*
 * The statistics subcommands of issue 4 that show one query's answer as it
 * comes (ontime, volumes, journeys, holds, delays, quality): each checks its
 * arguments, makes the request line (docs/query-protocol.md) and hands it to
 * ctl_query_show, which renders it as a table, JSON or CSV, once or --watch.
 */
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "ctl_query.h"
#include "query_cmds.h"
#include "query_filter.h"

/* Subcommands whose only positional argument is an optional leg ('*': all). */
static int
leg_report(struct ctl *c, int argc, char **argv, const char *request)
{
	struct qfilter f;
	char line[512];
	int i = qfilter_parse(argc, argv, QF_COMMON, &f);

	if (i == -1)
		return 64;
	if (argc - i > 1) {
		fprintf(stderr, "corridorctl: %s: give one leg, or none (or '*') for all\n",
		    argv[0]);
		return 64;
	}
	if (qfilter_line(line, sizeof line, argv[0], "%s %s %s %s %s %s", request,
	    i < argc ? argv[i] : "*", qfilter_word(f.from), qfilter_word(f.to),
	    qfilter_word(f.direction), qfilter_word(f.carrier)) == -1)
		return 64;
	return ctl_query_show(c, line);
}

int
cmd_ontime(struct ctl *c, int argc, char **argv)
{
	return leg_report(c, argc, argv, "ONTIME");
}

int
cmd_holds(struct ctl *c, int argc, char **argv)
{
	return leg_report(c, argc, argv, "HOLDS");
}

int
cmd_delays(struct ctl *c, int argc, char **argv)
{
	return leg_report(c, argc, argv, "DELAYS");
}

int
cmd_volumes(struct ctl *c, int argc, char **argv)
{
	struct qfilter f;
	char line[512];
	int i = qfilter_parse(argc, argv, QF_COMMON, &f);

	if (i == -1)
		return 64;
	if (argc - i != 2 || (strcmp(argv[i + 1], "day") != 0 &&
	    strcmp(argv[i + 1], "week") != 0 && strcmp(argv[i + 1], "month") != 0)) {
		fprintf(stderr, "corridorctl: volumes: give a leg (or '*') and day, week or "
		    "month\n");
		return 64;
	}
	if (qfilter_line(line, sizeof line, "volumes", "VOLUMES %s %s %s %s %s %s", argv[i],
	    argv[i + 1], qfilter_word(f.from), qfilter_word(f.to), qfilter_word(f.direction),
	    qfilter_word(f.carrier)) == -1)
		return 64;
	return ctl_query_show(c, line);
}

int
cmd_journeys(struct ctl *c, int argc, char **argv)
{
	struct qfilter f;
	char line[512];
	int i = qfilter_parse(argc, argv, QF_WINDOW | QF_DIRECTION | QF_TARGET_DAYS, &f);

	if (i == -1)
		return 64;
	if (argc - i != 2) {
		fprintf(stderr, "corridorctl: journeys: give the node of departure and the node "
		    "of arrival (see legs: from_node, to_node)\n");
		return 64;
	}
	if (qfilter_line(line, sizeof line, "journeys", "JOURNEYS %s %s %s %s %s %s", argv[i],
	    argv[i + 1], qfilter_word(f.from), qfilter_word(f.to), qfilter_word(f.direction),
	    qfilter_word(f.target_days)) == -1)
		return 64;
	return ctl_query_show(c, line);
}

int
cmd_quality(struct ctl *c, int argc, char **argv)
{
	struct qfilter f;
	char line[512];
	int i = qfilter_parse(argc, argv, QF_WINDOW, &f);

	if (i == -1)
		return 64;
	if (argc - i > 1) {
		fprintf(stderr, "corridorctl: quality: give one carrier, or none for all\n");
		return 64;
	}
	if (qfilter_line(line, sizeof line, "quality", "QUALITY %s %s %s",
	    i < argc ? argv[i] : "*", qfilter_word(f.from), qfilter_word(f.to)) == -1)
		return 64;
	return ctl_query_show(c, line);
}
