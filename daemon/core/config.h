/*
 * corridord's configuration: defaults, then the INI file, then command-line
 * flags. Every fixed option comes from a table: [daemon] and [tls] from
 * config_table.h, [limits] from limit_table.h; the lists ([carriers],
 * [credentials], [operators]) have their own handlers in config.c.
 *
 * Once loaded, a configuration is an immutable, reference-counted snapshot:
 * the loop holds the current one (server.cfg) and every query job holds the
 * one it started with, so a reload (SIGHUP) swaps in a new snapshot without
 * racing a worker thread that still reads the old one.
 */
#ifndef CORRIDOR_CONFIG_H
#define CORRIDOR_CONFIG_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "access.h"
#include "carrier.h"
#include "legs.h"
#include "limit_table.h"
#include "log.h"
#include "tls_config.h"

/* How hard a commit waits for the disk (synchronous = full | normal). */
enum store_sync { STORE_SYNC_FULL, STORE_SYNC_NORMAL };

#define CONFIG_PATH_MAX 1024
#define CONFIG_ADDR_MAX 128
#define CONFIG_DEFAULT_CARRIER_LISTEN "127.0.0.1:7470"
#define CONFIG_DEFAULT_QUERY_LISTEN "127.0.0.1:7471"
#define CONFIG_DEFAULT_METRICS_LISTEN "127.0.0.1:7472"
#define CONFIG_DEFAULT_STATE_DIR "/var/lib/corridor"
#define CONFIG_DEFAULT_STORE "sqlite"

struct config {
	atomic_uint refs;			/* config_hold / config_release */
	char path[CONFIG_PATH_MAX];		/* the file read, "" if none */
	char state_dir[CONFIG_PATH_MAX];
	char carrier_listen[CONFIG_ADDR_MAX];
	char query_listen[CONFIG_ADDR_MAX];
	char metrics_listen[CONFIG_ADDR_MAX];	/* "" disables the endpoint */
	char legs_file[CONFIG_PATH_MAX];
	char backup_dir[CONFIG_PATH_MAX];	/* "" = <state_dir>/backups */
	char store_backend[16];			/* [daemon] store: "sqlite" (store.c) */
	enum store_sync sync;
	enum log_level log_level;
	struct limits limits;
	struct leg_table legs;
	struct carrier_list carriers;
	bool carriers_from_file;
	struct tls_config tls;			/* [tls]: certificates per listener */
	struct access access;			/* [credentials] and [operators] */
	int line;				/* of the file, while it is read */
};

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
/* Splits "host:port"; 0 or -1. */
int config_split_addr(const char *addr, char *host, size_t hostlen, int *port);

#endif
