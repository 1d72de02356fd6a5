/*
 * struct config: what one configuration snapshot holds, field by field. The
 * option table (config_table.h) describes the fixed options over it and
 * config.h loads, holds and releases it; this header depends on neither.
 */
#ifndef CORRIDOR_CONFIG_TYPES_H
#define CORRIDOR_CONFIG_TYPES_H

#include <stdatomic.h>
#include <stdbool.h>

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
/* [postgresql] conninfo and reader_conninfo: libpq connection strings */
#define CONFIG_CONNINFO_MAX 4096

struct config {
	atomic_uint refs;			/* config_hold / config_release */
	char path[CONFIG_PATH_MAX];		/* the file read, "" if none */
	char state_dir[CONFIG_PATH_MAX];
	char carrier_listen[CONFIG_ADDR_MAX];
	char query_listen[CONFIG_ADDR_MAX];
	char metrics_listen[CONFIG_ADDR_MAX];	/* "" disables the endpoint */
	char legs_file[CONFIG_PATH_MAX];
	char backup_dir[CONFIG_PATH_MAX];	/* "" = <state_dir>/backups */
	char store_backend[16];			/* [daemon] store: "sqlite", "postgresql" */
	char pg_conninfo[CONFIG_CONNINFO_MAX];	/* [postgresql] conninfo: writers, catalog */
	char pg_reader_conninfo[CONFIG_CONNINFO_MAX];	/* "" = conninfo: queries */
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

#endif
