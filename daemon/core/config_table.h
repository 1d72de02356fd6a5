/*
 * Every fixed option of corridord.conf outside [limits] in one table: section,
 * name, type, bounds, default, whether a reload applies it, its doc line and
 * where it lives in struct config (config_types.h). config.c parses with it,
 * reload.c keeps the running value of each restart-only entry, main.c lists
 * it in --help and --check-config, man/gen_conf_man.c writes corridord.conf(5)
 * from it. [limits] have their own table (limit_table.h).
 */
#ifndef CORRIDOR_CONFIG_TABLE_H
#define CORRIDOR_CONFIG_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "config_types.h"

enum config_type {
	CONFIG_PATH,		/* a file or directory, at most size - 1 bytes */
	CONFIG_ADDRESS,		/* host:port */
	CONFIG_ADDRESS_OR_EMPTY,	/* host:port, or "" for off */
	CONFIG_NAME,		/* lower-case letters and digits, not empty */
	CONFIG_ENUM,		/* one of values[], stored as an int */
	CONFIG_TEXT,		/* any text on one line without control characters */
};

struct config_enum_value {
	const char *name;
	int value;
};

struct config_option {
	const char *section;
	const char *name;
	enum config_type type;
	size_t offset;			/* in struct config */
	size_t size;			/* bytes at offset (strings: the buffer) */
	const struct config_enum_value *values;	/* CONFIG_ENUM, ends with a NULL name */
	const char *def;		/* as it would be written in the file */
	bool restart;			/* a reload keeps the running value */
	/* after the value is stored, for settings that imply another */
	void (*after)(struct config *cfg, const char *value);
	const char *invalid;		/* the message for a value of the wrong form */
	const char *doc;
};

extern const struct config_option config_options[];
extern const size_t config_options_count;

/* Splits "host:port" (a CONFIG_ADDRESS value); 0 or -1. */
int config_split_addr(const char *addr, char *host, size_t hostlen, int *port);

const struct config_option *config_option_find(const char *section, const char *name);
/* Parses value into cfg; 0, or -1 with the reason in err. */
int config_option_set(struct config *cfg, const struct config_option *o, const char *value,
    char *err, size_t errlen);
/* Every option's default into cfg. */
void config_options_defaults(struct config *cfg);
/* The option's current value in cfg, as it would be written in the file. */
void config_option_format(const struct config *cfg, const struct config_option *o,
    char *buf, size_t len);
/* What values the option takes ("host:port", "one of full, normal", ...),
 * as the docs say it; returns buf. */
const char *config_option_type_name(const struct config_option *o, char *buf, size_t len);

/* The effective configuration, as an INI file (--check-config). */
void config_print(FILE *f, const struct config *cfg);
/* docs/configuration.md (--print-config-docs). */
void config_print_docs(FILE *f);

#endif
