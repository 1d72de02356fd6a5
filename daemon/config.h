/*
 * corridord's configuration: defaults, then the INI file, then command-line
 * flags. Every limit comes from the one table in limit_table.h.
 */
#ifndef CORRIDOR_CONFIG_H
#define CORRIDOR_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "carrier.h"
#include "db.h"
#include "legs.h"
#include "limit_table.h"
#include "log.h"
#include "tls_config.h"

#define CONFIG_PATH_MAX 1024
#define CONFIG_ADDR_MAX 128
#define CONFIG_DEFAULT_CARRIER_LISTEN "127.0.0.1:7470"
#define CONFIG_DEFAULT_QUERY_LISTEN "127.0.0.1:7471"
#define CONFIG_DEFAULT_METRICS_LISTEN "127.0.0.1:7472"
#define CONFIG_DEFAULT_STATE_DIR "/var/lib/corridor"

struct config {
	char path[CONFIG_PATH_MAX];		/* the file read, "" if none */
	char state_dir[CONFIG_PATH_MAX];
	char carrier_listen[CONFIG_ADDR_MAX];
	char query_listen[CONFIG_ADDR_MAX];
	char metrics_listen[CONFIG_ADDR_MAX];	/* "" disables the endpoint */
	char legs_file[CONFIG_PATH_MAX];
	char backup_dir[CONFIG_PATH_MAX];	/* "" = <state_dir>/backups */
	enum db_sync sync;
	enum log_level log_level;
	struct limits limits;
	struct leg_table legs;
	struct carrier_table carriers;
	bool carriers_from_file;
	struct tls_config tls;			/* [tls]: certificates per listener */
};

void config_defaults(struct config *cfg);
/* Reads an INI file over cfg. Every problem is appended to err as
 * "file:line: message" lines; returns the number of problems. */
int config_load_file(struct config *cfg, const char *path, char *err, size_t errlen);
/* Applies one setting as if it came from the file's [daemon] or [limits]. */
int config_set(struct config *cfg, const char *section, const char *key, const char *value,
    char *err, size_t errlen);
/* Loads the leg table: built-in defaults, then legs_file if set. */
int config_load_legs(struct config *cfg, char *err, size_t errlen);
/* Splits "host:port"; 0 or -1. */
int config_split_addr(const char *addr, char *host, size_t hostlen, int *port);

#endif
