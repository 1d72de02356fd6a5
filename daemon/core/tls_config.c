/* Checks of the [tls] section (config_table.c parses it); see tls_config.h. */
#include "tls_config.h"

#include <stdio.h>
#include <string.h>

bool
tls_listener_enabled(const struct tls_listener_config *l)
{
	return l->cert[0] != '\0';
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
