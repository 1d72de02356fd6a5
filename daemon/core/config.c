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
	config_options_defaults(cfg);
	limits_set_defaults(&cfg->limits);
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

/* [daemon] and [tls]: fixed options from config_table.c. */
static int
set_option(struct config *cfg, const char *section, const char *key, const char *value,
    char *err, size_t errlen)
{
	const struct config_option *o = config_option_find(section, key);

	if (o == NULL) {
		snprintf(err, errlen, "unknown setting \"%s\" in [%s]", key, section);
		return -1;
	}
	return config_option_set(cfg, o, value, err, errlen);
}

static int
set_limit(struct config *cfg, const char *section, const char *key, const char *value,
    char *err, size_t errlen)
{
	(void)section;
	return limits_set(&cfg->limits, key, value, err, errlen);
}

/* [carriers]: code = name, one a line; the section replaces the built-in list. */
static int
set_carrier(struct config *cfg, const char *section, const char *key, const char *value,
    char *err, size_t errlen)
{
	(void)section;
	if (!cfg->carriers_from_file) {
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

static int
set_credential(struct config *cfg, const char *section, const char *key, const char *value,
    char *err, size_t errlen)
{
	(void)section;
	return access_add_credential(&cfg->access, key, value, cfg->line, err, errlen);
}

static int
set_operator(struct config *cfg, const char *section, const char *key, const char *value,
    char *err, size_t errlen)
{
	(void)section;
	return access_add_operator(&cfg->access, key, value, cfg->line, err, errlen);
}

/* Each section of the file and who reads its keys: the fixed options, the
 * limits, and the three lists whose keys are entries, not options. */
static const struct {
	const char *name;
	int (*set)(struct config *, const char *, const char *, const char *, char *, size_t);
} sections[] = {
	{ "daemon", set_option },
	{ "limits", set_limit },
	{ "tls", set_option },
	{ "postgresql", set_option },
	{ "carriers", set_carrier },
	{ "credentials", set_credential },
	{ "operators", set_operator },
};

int
config_set(struct config *cfg, const char *section, const char *key, const char *value,
    char *err, size_t errlen)
{
	for (size_t i = 0; i < sizeof sections / sizeof sections[0]; i++)
		if (strcmp(sections[i].name, section) == 0)
			return sections[i].set(cfg, section, key, value, err, errlen);
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
