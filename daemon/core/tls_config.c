/* The [tls] section; see tls_config.h and corridord.conf(5). */
#include "tls_config.h"

#include <stdio.h>
#include <string.h>

#include <openssl/ssl.h>

void
tls_config_defaults(struct tls_config *t)
{
	memset(t, 0, sizeof *t);
	t->min_version = TLS1_2_VERSION;
}

bool
tls_listener_enabled(const struct tls_listener_config *l)
{
	return l->cert[0] != '\0';
}

static int
set_path(char *dst, const char *key, const char *value, char *err, size_t errlen)
{
	if (strlen(value) >= TLS_PATH_MAX) {
		snprintf(err, errlen, "%s is longer than %d bytes", key, TLS_PATH_MAX - 1);
		return -1;
	}
	snprintf(dst, TLS_PATH_MAX, "%s", value);
	return 0;
}

static int
set_client_cert(struct tls_listener_config *l, const char *value, char *err, size_t errlen)
{
	if (strcmp(value, "none") == 0)
		l->client_cert = TLS_CLIENT_CERT_NONE;
	else if (strcmp(value, "optional") == 0)
		l->client_cert = TLS_CLIENT_CERT_OPTIONAL;
	else if (strcmp(value, "required") == 0)
		l->client_cert = TLS_CLIENT_CERT_REQUIRED;
	else {
		snprintf(err, errlen, "carrier_client_cert must be none, optional or required");
		return -1;
	}
	l->client_cert_set = true;
	return 0;
}

int
tls_config_set(struct tls_config *t, const char *key, const char *value, char *err,
    size_t errlen)
{
	if (strcmp(key, "carrier_cert") == 0)
		return set_path(t->carrier.cert, key, value, err, errlen);
	if (strcmp(key, "carrier_key") == 0)
		return set_path(t->carrier.key, key, value, err, errlen);
	if (strcmp(key, "carrier_ca") == 0) {
		if (set_path(t->carrier.ca, key, value, err, errlen) == -1)
			return -1;
		if (!t->carrier.client_cert_set)
			t->carrier.client_cert = value[0] != '\0' ? TLS_CLIENT_CERT_OPTIONAL :
			    TLS_CLIENT_CERT_NONE;
		return 0;
	}
	if (strcmp(key, "carrier_client_cert") == 0)
		return set_client_cert(&t->carrier, value, err, errlen);
	if (strcmp(key, "query_cert") == 0)
		return set_path(t->query.cert, key, value, err, errlen);
	if (strcmp(key, "query_key") == 0)
		return set_path(t->query.key, key, value, err, errlen);
	if (strcmp(key, "min_version") == 0) {
		if (strcmp(value, "1.2") == 0)
			t->min_version = TLS1_2_VERSION;
		else if (strcmp(value, "1.3") == 0)
			t->min_version = TLS1_3_VERSION;
		else {
			snprintf(err, errlen, "min_version must be 1.2 or 1.3 (older versions are "
			    "never accepted)");
			return -1;
		}
		return 0;
	}
	snprintf(err, errlen, "unknown setting \"%s\" in [tls]", key);
	return -1;
}

static int
check_listener(const struct tls_listener_config *l, const char *name, char *err,
    size_t errlen)
{
	if ((l->cert[0] != '\0') != (l->key[0] != '\0')) {
		snprintf(err, errlen, "[tls] %s_cert and %s_key go together", name, name);
		return -1;
	}
	if (l->ca[0] != '\0' && l->cert[0] == '\0') {
		snprintf(err, errlen, "[tls] %s_ca needs %s_cert and %s_key (client "
		    "certificates only travel over TLS)", name, name, name);
		return -1;
	}
	if (l->client_cert != TLS_CLIENT_CERT_NONE && l->ca[0] == '\0') {
		snprintf(err, errlen, "[tls] %s_client_cert = %s needs %s_ca to check them against",
		    name, l->client_cert == TLS_CLIENT_CERT_REQUIRED ? "required" : "optional",
		    name);
		return -1;
	}
	if (l->client_cert == TLS_CLIENT_CERT_NONE && l->ca[0] != '\0') {
		snprintf(err, errlen, "[tls] %s_ca is set but %s_client_cert = none", name, name);
		return -1;
	}
	return 0;
}

int
tls_config_check(const struct tls_config *t, char *err, size_t errlen)
{
	if (check_listener(&t->carrier, "carrier", err, errlen) == -1 ||
	    check_listener(&t->query, "query", err, errlen) == -1)
		return -1;
	return 0;
}
