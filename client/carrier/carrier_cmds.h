/*
 * The carrier side's subcommands (push from a file, the simulator), which
 * corridorctl.c's command table calls; each returns the exit code.
 */
#ifndef CORRIDORCTL_CARRIER_CMDS_H
#define CORRIDORCTL_CARRIER_CMDS_H

#include "ctl.h"

/* argv[0] is the subcommand's name. */
int cmd_push(struct ctl *c, int argc, char **argv);
int cmd_simulate(struct ctl *c, int argc, char **argv);

#endif
