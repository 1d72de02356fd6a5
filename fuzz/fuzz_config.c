/*
 * Fuzz target: the configuration file (daemon/core/config.c over libinih) and the
 * legs TSV a configuration can name (lib/legs.c). The input is written to a
 * temporary file and read by config_load_file() over the defaults, as
 * `corridord --config FILE` does, and its [tls] section is checked with
 * tls_config_check() as corridord does next; the same bytes are then parsed
 * as a legs file over the built-in legs, as config_load_legs() does.
 * Properties: a load with problems says what they are and one without says
 * nothing; whatever the file held, every limit stays inside its range in the
 * limit table, strings stay terminated, the listen addresses stay host:port,
 * the carrier codes stay well-formed and distinct; every credential of
 * [credentials] has a valid name, a parsed hash and 1-8 well-formed carrier
 * codes (all configured ones when the load had no problem), every operator
 * of [operators] a right; a [tls] section that
 * passes its check pairs every certificate with its key and a client
 * certificate demand with its CA; every leg the TSV parser keeps is
 * well-formed.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "carrier.h"
#include "config.h"
#include "legs.h"
#include "limit_table.h"
#include "tls_config.h"

#include "fuzz_check.h"

static int file_fd = -1;	/* a memfd: no disk, nothing to clean up */
static char path[64];		/* /proc/self/fd/N opens it afresh */
static struct config cfg;
static struct leg_table legs;

static void
fuzz_setup(void)
{
	file_fd = memfd_create("corridord.conf", MFD_CLOEXEC);
	FUZZ_CHECK(file_fd != -1);
	snprintf(path, sizeof path, "/proc/self/fd/%d", file_fd);
}

static bool
terminated(const char *s, size_t size)
{
	return memchr(s, '\0', size) != NULL;
}

static bool
addr_ok(const char *addr)
{
	char host[CONFIG_ADDR_MAX];
	int port;

	return config_split_addr(addr, host, sizeof host, &port) == 0;
}

static bool
hash_ok(const struct cred_hash *h, const char *text)
{
	return terminated(text, CRED_TEXT_MAX) && strncmp(text, CRED_SCHEME "$", 14) == 0 &&
	    h->iterations >= CRED_ITER_MIN && h->iterations <= CRED_ITER_MAX &&
	    h->salt_len >= CRED_SALT_MIN && h->salt_len <= CRED_SALT_MAX &&
	    h->dk_len >= CRED_DK_MIN && h->dk_len <= CRED_DK_MAX;
}

static void
check_access(int problems)
{
	const struct access *a = &cfg.access;

	FUZZ_CHECK(a->ncreds <= CREDENTIALS_MAX && a->nops <= OPERATORS_MAX);
	for (size_t i = 0; i < a->ncreds; i++) {
		const struct credential *c = &a->creds[i];

		FUZZ_CHECK(terminated(c->name, sizeof c->name) && c->name[0] != '\0');
		FUZZ_CHECK(hash_ok(&c->hash, c->hash_text));
		FUZZ_CHECK(c->ncodes >= 1 && c->ncodes <= CRED_CODES_MAX);
		for (size_t k = 0; k < c->ncodes; k++) {
			FUZZ_CHECK(carrier_code_valid(c->codes[k]));
			FUZZ_CHECK(problems > 0 || carrier_list_find(&cfg.carriers, c->codes[k]));
		}
		for (size_t j = 0; j < i; j++)
			FUZZ_CHECK(strcmp(a->creds[j].name, c->name) != 0);
	}
	for (size_t i = 0; i < a->nops; i++) {
		const struct operator_token *o = &a->ops[i];

		FUZZ_CHECK(terminated(o->name, sizeof o->name) && o->name[0] != '\0');
		FUZZ_CHECK(hash_ok(&o->hash, o->hash_text));
		FUZZ_CHECK(o->right == RIGHT_READ || o->right == RIGHT_ADMIN);
		FUZZ_CHECK(access_operator_find(a, o->name) == o);
	}
}

static void
check_config(int problems, const char *err, size_t errlen)
{
	FUZZ_CHECK(problems >= 0);
	FUZZ_CHECK(terminated(err, errlen));
	FUZZ_CHECK((problems == 0) == (err[0] == '\0'));
	for (size_t i = 0; i < limit_defs_count; i++) {
		int64_t v = limits_get(&cfg.limits, &limit_defs[i]);

		FUZZ_CHECK(v >= limit_defs[i].min && v <= limit_defs[i].max);
	}
	FUZZ_CHECK(terminated(cfg.state_dir, sizeof cfg.state_dir) &&
	    terminated(cfg.legs_file, sizeof cfg.legs_file) &&
	    terminated(cfg.backup_dir, sizeof cfg.backup_dir) &&
	    terminated(cfg.carrier_listen, sizeof cfg.carrier_listen) &&
	    terminated(cfg.query_listen, sizeof cfg.query_listen) &&
	    terminated(cfg.metrics_listen, sizeof cfg.metrics_listen));
	FUZZ_CHECK(addr_ok(cfg.carrier_listen) && addr_ok(cfg.query_listen));
	FUZZ_CHECK(cfg.metrics_listen[0] == '\0' || addr_ok(cfg.metrics_listen));
	FUZZ_CHECK(cfg.sync == STORE_SYNC_FULL || cfg.sync == STORE_SYNC_NORMAL);
	FUZZ_CHECK(cfg.log_level >= LOG_LEVEL_WARN && cfg.log_level <= LOG_LEVEL_DEBUG);
	FUZZ_CHECK(cfg.carriers.count <= CARRIERS_MAX);
	for (size_t i = 0; i < cfg.carriers.count; i++) {
		const struct carrier_conf *c = &cfg.carriers.items[i];

		FUZZ_CHECK(terminated(c->code, sizeof c->code) && terminated(c->name, sizeof c->name));
		FUZZ_CHECK(carrier_code_valid(c->code));
		FUZZ_CHECK(carrier_list_find(&cfg.carriers, c->code) == c);
	}
	check_access(problems);
}

static void
check_tls_listener(const struct tls_listener_config *l, bool checked)
{
	FUZZ_CHECK(terminated(l->cert, sizeof l->cert) && terminated(l->key, sizeof l->key) &&
	    terminated(l->ca, sizeof l->ca));
	FUZZ_CHECK(l->client_cert == TLS_CLIENT_CERT_NONE ||
	    l->client_cert == TLS_CLIENT_CERT_OPTIONAL || l->client_cert == TLS_CLIENT_CERT_REQUIRED);
	if (!checked)
		return;
	FUZZ_CHECK((l->cert[0] != '\0') == (l->key[0] != '\0'));
	FUZZ_CHECK(l->ca[0] == '\0' || l->cert[0] != '\0');
	FUZZ_CHECK((l->client_cert != TLS_CLIENT_CERT_NONE) == (l->ca[0] != '\0'));
	FUZZ_CHECK(tls_listener_enabled(l) == (l->cert[0] != '\0'));
}

static void
check_tls(void)
{
	char err[512] = "";
	int rc = tls_config_check(&cfg.tls, err, sizeof err);

	FUZZ_CHECK(rc == 0 || (rc == -1 && err[0] != '\0'));
	FUZZ_CHECK(cfg.tls.min_version == TLS1_2_VERSION || cfg.tls.min_version == TLS1_3_VERSION);
	check_tls_listener(&cfg.tls.carrier, rc == 0);
	check_tls_listener(&cfg.tls.query, rc == 0);
}

static void
check_legs(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	char err[200] = "";
	int rc;

	FUZZ_CHECK(text != NULL);
	memcpy(text, data, size);
	text[size] = '\0';
	legs.count = 0;
	FUZZ_CHECK(legs_load_default(&legs, err, sizeof err) == 0);
	rc = legs_parse_tsv(&legs, text, err, sizeof err);
	FUZZ_CHECK(rc == 0 || rc == -1);
	FUZZ_CHECK(rc == 0 || err[0] != '\0');
	FUZZ_CHECK(legs.count >= 1 && legs.count <= LEGS_MAX);
	for (size_t i = 0; i < legs.count; i++) {
		const struct leg *l = &legs.legs[i];

		FUZZ_CHECK(leg_code_valid(l->code));
		FUZZ_CHECK(legs_index(&legs, l->code) == (int)i);
		FUZZ_CHECK(l->from[0] != '\0' && l->to[0] != '\0');
		FUZZ_CHECK(l->distance_km >= 0 && l->min_h >= 0);
		FUZZ_CHECK(l->min_h <= l->typical_h && l->typical_h <= l->bad_h);
		FUZZ_CHECK(l->kind == LEG_MOVEMENT || l->kind == LEG_PORT || l->kind == LEG_BORDER);
	}
	free(text);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	char err[4096];
	int problems;

	if (!ready) {
		fuzz_setup();
		ready = true;
	}
	FUZZ_CHECK(ftruncate(file_fd, 0) == 0);
	FUZZ_CHECK(size == 0 || pwrite(file_fd, data, size, 0) == (ssize_t)size);
	config_clear(&cfg);	/* the last input's credentials and operators */
	config_defaults(&cfg);
	problems = config_load_file(&cfg, path, err, sizeof err);
	check_config(problems, err, sizeof err);
	check_tls();
	check_legs(data, size);
	return 0;
}
