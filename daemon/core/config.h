/*
 * corridord's configuration: defaults, then the INI file, then command-line
 * flags. struct config is in config_types.h. Every fixed option comes from a
 * table, which config.c parses with: [daemon] and [tls] from config_table.h,
 * [limits] from limit_table.h; the lists ([carriers], [credentials],
 * [operators]) have their own handlers in config.c.
 *
 * Once loaded, a configuration is an immutable, reference-counted snapshot:
 * the loop holds the current one (server.cfg) and every query job holds the
 * one it started with, so a reload (SIGHUP) swaps in a new snapshot without
 * racing a worker thread that still reads the old one.
 */
#ifndef CORRIDOR_CONFIG_H
#define CORRIDOR_CONFIG_H

#include <stddef.h>

#include "config_table.h"	/* the option table, config_split_addr */
#include "config_types.h"

/* A configuration with the defaults and one reference; NULL if out of memory. */
struct config *config_new(void);
struct config *config_hold(struct config *cfg);
/* Drops a reference; the last one frees the snapshot. */
void config_release(struct config *cfg);

/* Fills cfg with the defaults (cfg owns nothing yet). */
void config_defaults(struct config *cfg);
/* Frees what cfg owns (not cfg itself). */
void config_clear(struct config *cfg);
/* Reads an INI file over cfg. Every problem is appended to err as
 * "file:line: message" lines; returns the number of problems. */
int config_load_file(struct config *cfg, const char *path, char *err, size_t errlen);
/* Applies one setting as if it came from the file's [daemon] or [limits]. */
int config_set(struct config *cfg, const char *section, const char *key, const char *value,
    char *err, size_t errlen);
/* Loads the leg table: built-in defaults, then legs_file if set. */
int config_load_legs(struct config *cfg, char *err, size_t errlen);

#endif
