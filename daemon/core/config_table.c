/* The table of corridord.conf's fixed options; see config_table.h. */
#include "config_table.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/ssl.h>

/* enum settings are stored as an int: these enums must be one */
_Static_assert(sizeof(enum store_sync) == sizeof(int), "enum store_sync is an int");
_Static_assert(sizeof(enum log_level) == sizeof(int), "enum log_level is an int");
_Static_assert(sizeof(enum tls_client_cert) == sizeof(int), "enum tls_client_cert is an int");

static const struct config_enum_value sync_values[] = {
	{ "full", STORE_SYNC_FULL }, { "normal", STORE_SYNC_NORMAL }, { NULL, 0 },
};
static const struct config_enum_value log_level_values[] = {
	{ "warn", LOG_LEVEL_WARN }, { "info", LOG_LEVEL_INFO }, { "debug", LOG_LEVEL_DEBUG },
	{ NULL, 0 },
};
static const struct config_enum_value client_cert_values[] = {
	{ "none", TLS_CLIENT_CERT_NONE }, { "optional", TLS_CLIENT_CERT_OPTIONAL },
	{ "required", TLS_CLIENT_CERT_REQUIRED }, { NULL, 0 },
};
static const struct config_enum_value tls_version_values[] = {
	{ "1.2", TLS1_2_VERSION }, { "1.3", TLS1_3_VERSION }, { NULL, 0 },
};

/* A CA asks for client certificates unless carrier_client_cert says otherwise. */
static void
after_carrier_ca(struct config *cfg, const char *value)
{
	if (!cfg->tls.carrier.client_cert_set)
		cfg->tls.carrier.client_cert = value[0] != '\0' ? TLS_CLIENT_CERT_OPTIONAL :
		    TLS_CLIENT_CERT_NONE;
}

static void
after_client_cert(struct config *cfg, const char *value)
{
	(void)value;
	cfg->tls.carrier.client_cert_set = true;
}

#define FIELD(f) offsetof(struct config, f), sizeof(((struct config *)0)->f)
#define S(sec, name, type, f, def, restart, doc) \
	{ sec, name, type, FIELD(f), NULL, def, restart, NULL, NULL, doc }
#define E(sec, name, f, values, def, restart, invalid, doc) \
	{ sec, name, CONFIG_ENUM, FIELD(f), values, def, restart, NULL, invalid, doc }

const struct config_option config_options[] = {
	S("daemon", "state_dir", CONFIG_PATH, state_dir, CONFIG_DEFAULT_STATE_DIR, true,
	    "directory of the catalog and the leg files"),
	S("daemon", "carrier_listen", CONFIG_ADDRESS, carrier_listen,
	    CONFIG_DEFAULT_CARRIER_LISTEN, true, "host:port carriers connect to"),
	S("daemon", "query_listen", CONFIG_ADDRESS, query_listen, CONFIG_DEFAULT_QUERY_LISTEN,
	    true, "host:port operators connect to"),
	S("daemon", "metrics_listen", CONFIG_ADDRESS_OR_EMPTY, metrics_listen,
	    CONFIG_DEFAULT_METRICS_LISTEN, true,
	    "host:port of the HTTP metrics endpoint; empty turns it off"),
	S("daemon", "legs_file", CONFIG_PATH, legs_file, "", false,
	    "TSV of corridor legs added to the built-in ones; a reload adds new legs"),
	S("daemon", "backup_dir", CONFIG_PATH, backup_dir, "", false,
	    "where BACKUP writes; empty means <state_dir>/backups"),
	{ "daemon", "store", CONFIG_NAME, FIELD(store_backend), NULL, CONFIG_DEFAULT_STORE, true,
	    NULL, "store must name a storage backend (sqlite or postgresql)",
	    "the storage backend: sqlite (files in state_dir) or postgresql ([postgresql])" },
	E("daemon", "synchronous", sync, sync_values, "full", true,
	    "synchronous must be full or normal",
	    "full: an ack survives a power cut (postgresql: synchronous_commit as the server"
	    " says, on a synchronous standby too); normal: it survives a crash of corridord only"
	    " (postgresql: synchronous_commit = off)"),
	E("daemon", "log_level", log_level, log_level_values, "info", false,
	    "log_level must be warn, info or debug", "how much corridord logs"),
	S("postgresql", "conninfo", CONFIG_TEXT, pg_conninfo, "", true,
	    "libpq connection string of the writers and the catalog (store = postgresql); a"
	    " multi-host one wants target_session_attrs=read-write; no password: use passfile,"
	    " service or the systemd credential pgpass"),
	S("postgresql", "reader_conninfo", CONFIG_TEXT, pg_reader_conninfo, "", true,
	    "libpq connection string of the query threads, e.g. with"
	    " target_session_attrs=prefer-standby; empty: conninfo"),
	S("tls", "carrier_cert", CONFIG_PATH, tls.carrier.cert, "", true,
	    "PEM certificate chain of the carrier port; with carrier_key, TLS on that port"),
	S("tls", "carrier_key", CONFIG_PATH, tls.carrier.key, "", true,
	    "PEM private key of the carrier port"),
	{ "tls", "carrier_ca", CONFIG_PATH, FIELD(tls.carrier.ca), NULL, "", true,
	    after_carrier_ca, NULL,
	    "PEM CAs that sign carriers' client certificates (which must name the carrier)" },
	{ "tls", "carrier_client_cert", CONFIG_ENUM, FIELD(tls.carrier.client_cert),
	    client_cert_values, "none", true, after_client_cert,
	    "carrier_client_cert must be none, optional or required",
	    "whether a carrier must show a client certificate (optional when carrier_ca is set)" },
	S("tls", "query_cert", CONFIG_PATH, tls.query.cert, "", true,
	    "PEM certificate chain of the query port; with query_key, TLS on that port"),
	S("tls", "query_key", CONFIG_PATH, tls.query.key, "", true,
	    "PEM private key of the query port"),
	E("tls", "min_version", tls.min_version, tls_version_values, "1.2", true,
	    "min_version must be 1.2 or 1.3 (older versions are never accepted)",
	    "oldest TLS version accepted"),
};
const size_t config_options_count = sizeof config_options / sizeof config_options[0];

int
config_split_addr(const char *addr, char *host, size_t hostlen, int *port)
{
	const char *colon = strrchr(addr, ':');
	char *end;
	long p;

	if (colon == NULL || colon == addr || (size_t)(colon - addr) >= hostlen)
		return -1;
	errno = 0;
	p = strtol(colon + 1, &end, 10);
	if (errno != 0 || *end != '\0' || end == colon + 1 || p < 0 || p > 65535)
		return -1;
	memcpy(host, addr, (size_t)(colon - addr));
	host[colon - addr] = '\0';
	*port = (int)p;
	return 0;
}

const struct config_option *
config_option_find(const char *section, const char *name)
{
	for (size_t i = 0; i < config_options_count; i++)
		if (strcmp(config_options[i].section, section) == 0 &&
		    strcmp(config_options[i].name, name) == 0)
			return &config_options[i];
	return NULL;
}

static int
is_name(const char *value)
{
	return value[0] != '\0' &&
	    strspn(value, "abcdefghijklmnopqrstuvwxyz0123456789") == strlen(value);
}

static int
is_address(const char *value)
{
	char host[CONFIG_ADDR_MAX];
	int port;

	return config_split_addr(value, host, sizeof host, &port) == 0;
}

/* Checks and stores value, without what it implies (o->after). */
static int
store_value(struct config *cfg, const struct config_option *o, const char *value, char *err,
    size_t errlen)
{
	char *slot = (char *)cfg + o->offset;

	switch (o->type) {
	case CONFIG_ENUM:
		for (const struct config_enum_value *v = o->values; v->name != NULL; v++)
			if (strcmp(v->name, value) == 0) {
				memcpy(slot, &v->value, sizeof v->value);
				return 0;
			}
		snprintf(err, errlen, "%s", o->invalid);
		return -1;
	case CONFIG_ADDRESS:
		if (!is_address(value)) {
			snprintf(err, errlen, "%s: \"%s\" is not host:port", o->name, value);
			return -1;
		}
		break;
	case CONFIG_ADDRESS_OR_EMPTY:
		if (value[0] != '\0' && !is_address(value)) {
			snprintf(err, errlen, "%s: \"%s\" is not host:port (or empty)", o->name,
			    value);
			return -1;
		}
		break;
	case CONFIG_NAME:
		/* which backends exist is the store's business (store_open) */
		if (!is_name(value)) {
			snprintf(err, errlen, "%s", o->invalid);
			return -1;
		}
		break;
	case CONFIG_PATH:
		break;
	case CONFIG_TEXT:
		for (const char *c = value; *c != '\0'; c++)
			if ((unsigned char)*c < 0x20 || *c == 0x7f) {
				snprintf(err, errlen, "%s: a control character at byte %zu", o->name,
				    (size_t)(c - value));
				return -1;
			}
		break;
	}
	if (strlen(value) >= o->size) {
		snprintf(err, errlen, "%s is longer than %zu bytes", o->name, o->size - 1);
		return -1;
	}
	snprintf(slot, o->size, "%s", value);
	return 0;
}

int
config_option_set(struct config *cfg, const struct config_option *o, const char *value,
    char *err, size_t errlen)
{
	if (store_value(cfg, o, value, err, errlen) == -1)
		return -1;
	if (o->after != NULL)
		o->after(cfg, value);
	return 0;
}

void
config_options_defaults(struct config *cfg)
{
	char err[128];

	/* a default implies nothing: carrier_client_cert was not given */
	for (size_t i = 0; i < config_options_count; i++)
		if (store_value(cfg, &config_options[i], config_options[i].def, err,
		    sizeof err) == -1)
			abort();	/* a broken table; test_config checks every default */
}

void
config_option_format(const struct config *cfg, const struct config_option *o, char *buf,
    size_t len)
{
	const char *slot = (const char *)cfg + o->offset;
	int v;

	if (o->type != CONFIG_ENUM) {
		snprintf(buf, len, "%s", slot);
		return;
	}
	memcpy(&v, slot, sizeof v);
	for (const struct config_enum_value *e = o->values; e->name != NULL; e++)
		if (e->value == v) {
			snprintf(buf, len, "%s", e->name);
			return;
		}
	snprintf(buf, len, "%d", v);
}

const char *
config_option_type_name(const struct config_option *o, char *buf, size_t len)
{
	size_t used = 0;

	switch (o->type) {
	case CONFIG_PATH:
		snprintf(buf, len, "path, at most %zu bytes", o->size - 1);
		break;
	case CONFIG_ADDRESS:
		snprintf(buf, len, "host:port");
		break;
	case CONFIG_ADDRESS_OR_EMPTY:
		snprintf(buf, len, "host:port or empty");
		break;
	case CONFIG_NAME:
		snprintf(buf, len, "name, at most %zu bytes", o->size - 1);
		break;
	case CONFIG_TEXT:
		snprintf(buf, len, "text on one line, at most %zu bytes", o->size - 1);
		break;
	case CONFIG_ENUM:
		buf[0] = '\0';
		for (const struct config_enum_value *v = o->values; v->name != NULL; v++) {
			int n = snprintf(buf + used, len - used, "%s%s", used ? ", " : "one of ",
			    v->name);

			if (n < 0 || (size_t)n >= len - used)
				break;
			used += (size_t)n;
		}
		break;
	}
	return buf;
}

void
config_print(FILE *f, const struct config *cfg)
{
	const char *section = "";
	char value[CONFIG_CONNINFO_MAX];

	for (size_t i = 0; i < config_options_count; i++) {
		const struct config_option *o = &config_options[i];

		if (strcmp(o->section, section) != 0) {
			fprintf(f, "%s[%s]\n", section[0] ? "\n" : "", o->section);
			section = o->section;
		}
		config_option_format(cfg, o, value, sizeof value);
		fprintf(f, "%s = %s\n", o->name, value);
	}
	fprintf(f, "\n[limits]\n");
	for (size_t i = 0; i < limit_defs_count; i++)
		fprintf(f, "%s = %lld\n", limit_defs[i].name,
		    (long long)limits_get(&cfg->limits, &limit_defs[i]));
}

void
config_print_docs(FILE *f)
{
	const char *section = "";
	char type[128];

	fprintf(f, "# corridord.conf: every option\n\n"
	    "Generated by `corridord --print-config-docs` from the tables in\n"
	    "`daemon/core/config_table.c` and `lib/limit_table.c`; a test fails when this file\n"
	    "differs from them. corridord.conf(5) explains the options at length. *restart*\n"
	    "means a reload (SIGHUP) keeps the running value and logs that it did.\n"
	    "`[carriers]`, `[credentials]` and `[operators]` are lists (one entry a line),\n"
	    "described in corridord.conf(5).\n");
	for (size_t i = 0; i < config_options_count; i++) {
		const struct config_option *o = &config_options[i];

		if (strcmp(o->section, section) != 0) {
			fprintf(f, "\n## [%s]\n\n| option | type | default | reload | what |\n"
			    "|---|---|---|---|---|\n", o->section);
			section = o->section;
		}
		fprintf(f, "| `%s` | %s | %s%s%s | %s | %s |\n", o->name,
		    config_option_type_name(o, type, sizeof type), o->def[0] ? "`" : "",
		    o->def[0] ? o->def : "empty", o->def[0] ? "`" : "", o->restart ? "restart" : "applied",
		    o->doc);
	}
	fprintf(f, "\n## [limits]\n\n| option | default | min..max | reload | what |\n"
	    "|---|---|---|---|---|\n");
	for (size_t i = 0; i < limit_defs_count; i++) {
		const struct limit_def *d = &limit_defs[i];

		fprintf(f, "| `%s` | %lld | %lld..%lld | %s | %s |\n", d->name, (long long)d->def,
		    (long long)d->min, (long long)d->max, d->restart ? "restart" : "applied",
		    d->help);
	}
}
