/* Configuration loading with libinih; see config.h and docs/configuration.md. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>

static const struct { const char *code, *name; } default_carriers[] = {
	{ "KTZE", "KTZ Express (Kazakhstan rail)" },
	{ "KMTF", "Kazmortransflot (Caspian feeders)" },
	{ "PTCH", "PTC Holding (Kazakh terminals)" },
	{ "ADYC", "ADY Container (Azerbaijan rail and feeders)" },
	{ "ASCO", "ASCO / Caspian Shipping Co (ferries)" },
	{ "POB", "Port of Baku at Alat" },
	{ "MCML", "Middle Corridor Multimodal Ltd" },
};

void
config_defaults(struct config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	snprintf(cfg->state_dir, sizeof cfg->state_dir, "%s", CONFIG_DEFAULT_STATE_DIR);
	snprintf(cfg->carrier_listen, sizeof cfg->carrier_listen, "%s",
	    CONFIG_DEFAULT_CARRIER_LISTEN);
	snprintf(cfg->query_listen, sizeof cfg->query_listen, "%s", CONFIG_DEFAULT_QUERY_LISTEN);
	snprintf(cfg->metrics_listen, sizeof cfg->metrics_listen, "%s",
	    CONFIG_DEFAULT_METRICS_LISTEN);
	snprintf(cfg->store_backend, sizeof cfg->store_backend, "%s", CONFIG_DEFAULT_STORE);
	cfg->sync = STORE_SYNC_FULL;
	cfg->log_level = LOG_LEVEL_INFO;
	limits_set_defaults(&cfg->limits);
	tls_config_defaults(&cfg->tls);
	for (size_t i = 0; i < sizeof default_carriers / sizeof default_carriers[0]; i++)
		carrier_list_add(&cfg->carriers, default_carriers[i].code, default_carriers[i].name);
}

void
config_clear(struct config *cfg)
{
	access_free(&cfg->access);
}

struct config *
config_new(void)
{
	struct config *cfg = malloc(sizeof *cfg);

	if (cfg == NULL)
		return NULL;
	config_defaults(cfg);
	atomic_init(&cfg->refs, 1);
	return cfg;
}

struct config *
config_hold(struct config *cfg)
{
	atomic_fetch_add_explicit(&cfg->refs, 1, memory_order_relaxed);
	return cfg;
}

void
config_release(struct config *cfg)
{
	if (cfg == NULL)
		return;
	/* the last reader's writes happen before the free */
	if (atomic_fetch_sub_explicit(&cfg->refs, 1,
	    memory_order_acq_rel) != 1)
		return;
	config_clear(cfg);
	free(cfg);
}

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

static int
set_string(char *dst, size_t len, const char *key, const char *value, char *err, size_t errlen)
{
	if (strlen(value) >= len) {
		snprintf(err, errlen, "%s is longer than %zu bytes", key, len - 1);
		return -1;
	}
	snprintf(dst, len, "%s", value);
	return 0;
}

static int
set_daemon(struct config *cfg, const char *key, const char *value, char *err, size_t errlen)
{
	char host[CONFIG_ADDR_MAX];
	int port;

	if (strcmp(key, "state_dir") == 0)
		return set_string(cfg->state_dir, sizeof cfg->state_dir, key, value, err, errlen);
	if (strcmp(key, "legs_file") == 0)
		return set_string(cfg->legs_file, sizeof cfg->legs_file, key, value, err, errlen);
	if (strcmp(key, "backup_dir") == 0)
		return set_string(cfg->backup_dir, sizeof cfg->backup_dir, key, value, err, errlen);
	if (strcmp(key, "carrier_listen") == 0 || strcmp(key, "query_listen") == 0) {
		if (config_split_addr(value, host, sizeof host, &port) == -1) {
			snprintf(err, errlen, "%s: \"%s\" is not host:port", key, value);
			return -1;
		}
		return set_string(key[0] == 'c' ? cfg->carrier_listen : cfg->query_listen,
		    CONFIG_ADDR_MAX, key, value, err, errlen);
	}
	if (strcmp(key, "metrics_listen") == 0) {
		if (value[0] != '\0' && config_split_addr(value, host, sizeof host, &port) == -1) {
			snprintf(err, errlen, "%s: \"%s\" is not host:port (or empty)", key, value);
			return -1;
		}
		return set_string(cfg->metrics_listen, sizeof cfg->metrics_listen, key, value, err,
		    errlen);
	}
	if (strcmp(key, "store") == 0) {
		/* which backends exist is the store's business (store_open) */
		if (value[0] == '\0' || strspn(value, "abcdefghijklmnopqrstuvwxyz0123456789") !=
		    strlen(value)) {
			snprintf(err, errlen, "store must name a storage backend (sqlite)");
			return -1;
		}
		return set_string(cfg->store_backend, sizeof cfg->store_backend, key, value, err,
		    errlen);
	}
	if (strcmp(key, "synchronous") == 0) {
		if (strcmp(value, "full") == 0)
			cfg->sync = STORE_SYNC_FULL;
		else if (strcmp(value, "normal") == 0)
			cfg->sync = STORE_SYNC_NORMAL;
		else {
			snprintf(err, errlen, "synchronous must be full or normal");
			return -1;
		}
		return 0;
	}
	if (strcmp(key, "log_level") == 0) {
		if (strcmp(value, "warn") == 0)
			cfg->log_level = LOG_LEVEL_WARN;
		else if (strcmp(value, "info") == 0)
			cfg->log_level = LOG_LEVEL_INFO;
		else if (strcmp(value, "debug") == 0)
			cfg->log_level = LOG_LEVEL_DEBUG;
		else {
			snprintf(err, errlen, "log_level must be warn, info or debug");
			return -1;
		}
		return 0;
	}
	snprintf(err, errlen, "unknown setting \"%s\" in [daemon]", key);
	return -1;
}

int
config_set(struct config *cfg, const char *section, const char *key, const char *value,
    char *err, size_t errlen)
{
	if (strcmp(section, "daemon") == 0)
		return set_daemon(cfg, key, value, err, errlen);
	if (strcmp(section, "limits") == 0)
		return limits_set(&cfg->limits, key, value, err, errlen);
	if (strcmp(section, "tls") == 0)
		return tls_config_set(&cfg->tls, key, value, err, errlen);
	if (strcmp(section, "carriers") == 0) {
		if (!cfg->carriers_from_file) {
			/* a [carriers] section replaces the built-in list */
			cfg->carriers.count = 0;
			cfg->carriers_from_file = true;
		}
		if (carrier_list_add(&cfg->carriers, key, value) == -1) {
			snprintf(err, errlen, "carrier code \"%s\" must be 2-31 capital letters or "
			    "digits (and at most %d carriers)", key, CARRIERS_MAX);
			return -1;
		}
		return 0;
	}
	if (strcmp(section, "credentials") == 0)
		return access_add_credential(&cfg->access, key, value, cfg->line, err, errlen);
	if (strcmp(section, "operators") == 0)
		return access_add_operator(&cfg->access, key, value, cfg->line, err, errlen);
	snprintf(err, errlen, "unknown section [%s]", section);
	return -1;
}

struct load_state {
	struct config *cfg;
	const char *path;
	char *err;
	size_t errlen, used;
	int problems;
	FILE *file;
	int lineno;		/* lines handed to inih so far */
};

/* Debian's inih does not pass line numbers to handlers, so the reader
 * counts the lines it hands over; inih handles a line right after reading it. */
static char *
config_read_line(char *buf, int size, void *stream)
{
	struct load_state *ls = stream;
	char *line = fgets(buf, size, ls->file);
	size_t n;

	if (line == NULL)
		return NULL;
	ls->lineno++;
	n = strlen(buf);
	if (n + 1 == (size_t)size && buf[n - 1] != '\n' && !feof(ls->file)) {
		/* inih would read the rest as another line: report it, skip it whole */
		int ch, k;

		while ((ch = fgetc(ls->file)) != EOF && ch != '\n')
			;
		k = snprintf(ls->err + ls->used, ls->errlen - ls->used,
		    "%s:%d: the line is longer than %d characters\n", ls->path, ls->lineno,
		    size - 2);
		if (k > 0 && (size_t)k < ls->errlen - ls->used)
			ls->used += (size_t)k;
		ls->problems++;
		snprintf(buf, (size_t)size, ";\n");	/* a comment to inih */
	}
	return line;
}

static int
config_handle(void *user, const char *section, const char *name, const char *value)
{
	struct load_state *ls = user;
	int lineno = ls->lineno;
	char msg[256];

	ls->cfg->line = lineno;
	if (config_set(ls->cfg, section, name, value, msg, sizeof msg) == -1) {
		int n = snprintf(ls->err + ls->used, ls->errlen - ls->used, "%s:%d: %s\n",
		    ls->path, lineno, msg);

		if (n > 0 && (size_t)n < ls->errlen - ls->used)
			ls->used += (size_t)n;
		ls->problems++;
	}
	return 1;	/* keep going: report every problem at once */
}

int
config_load_file(struct config *cfg, const char *path, char *err, size_t errlen)
{
	struct load_state ls = { cfg, path, err, errlen, 0, 0, NULL, 0 };
	int rc;

	err[0] = '\0';
	snprintf(cfg->path, sizeof cfg->path, "%s", path);
	if ((ls.file = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "%s: cannot open: %s\n", path, strerror(errno));
		return 1;
	}
	rc = ini_parse_stream(config_read_line, &ls, config_handle, &ls);
	fclose(ls.file);
	if (rc > 0 && ls.problems == 0) {
		snprintf(err, errlen, "%s:%d: syntax error\n", path, rc);
		return 1;
	}
	/* credentials may come before the [carriers] they name */
	ls.problems += access_check(&cfg->access, &cfg->carriers, path, err, errlen, &ls.used);
	return ls.problems;
}

int
config_load_legs(struct config *cfg, char *err, size_t errlen)
{
	FILE *f;
	char *text;
	long size;
	int rc;

	cfg->legs.count = 0;
	if (legs_load_default(&cfg->legs, err, errlen) == -1)
		return -1;
	if (cfg->legs_file[0] == '\0')
		return 0;
	if ((f = fopen(cfg->legs_file, "r")) == NULL) {
		snprintf(err, errlen, "%s: %s", cfg->legs_file, strerror(errno));
		return -1;
	}
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	rewind(f);
	if (size < 0 || size > 1024 * 1024 || (text = calloc(1, (size_t)size + 1)) == NULL) {
		fclose(f);
		snprintf(err, errlen, "%s: unreadable or larger than 1 MiB", cfg->legs_file);
		return -1;
	}
	if (fread(text, 1, (size_t)size, f) != (size_t)size) {
		snprintf(err, errlen, "%s: read error", cfg->legs_file);
		free(text);
		fclose(f);
		return -1;
	}
	fclose(f);
	{
		char inner[200];

		rc = legs_parse_tsv(&cfg->legs, text, inner, sizeof inner);
		if (rc == -1)
			snprintf(err, errlen, "%s: %s", cfg->legs_file, inner);
	}
	free(text);
	return rc;
}
