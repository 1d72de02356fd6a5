/*
 * The query side's subcommands, which corridorctl.c's command table calls;
 * each returns the exit code.
 */
#ifndef CORRIDORCTL_QUERY_CMDS_H
#define CORRIDORCTL_QUERY_CMDS_H

#include "ctl.h"

/* argv[0] is the subcommand's name. */
int cmd_ping(struct ctl *c, int argc, char **argv);
int cmd_legs(struct ctl *c, int argc, char **argv);
int cmd_stats(struct ctl *c, int argc, char **argv);
int cmd_intransit(struct ctl *c, int argc, char **argv);
int cmd_shipment(struct ctl *c, int argc, char **argv);
int cmd_backup(struct ctl *c, int argc, char **argv);
int cmd_query(struct ctl *c, int argc, char **argv);
int cmd_info(struct ctl *c, int argc, char **argv);
int cmd_histogram(struct ctl *c, int argc, char **argv);
int cmd_ontime(struct ctl *c, int argc, char **argv);
int cmd_volumes(struct ctl *c, int argc, char **argv);
int cmd_journeys(struct ctl *c, int argc, char **argv);
int cmd_holds(struct ctl *c, int argc, char **argv);
int cmd_delays(struct ctl *c, int argc, char **argv);
int cmd_quality(struct ctl *c, int argc, char **argv);

#endif
