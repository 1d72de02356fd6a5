/*
 * The [tls] section of corridord.conf: a certificate and key per listener
 * (TLS on that port when both are set, plain TCP otherwise), and for the
 * carrier port an optional CA for client certificates that name the carrier.
 * config_table.c parses it; this checks it and tls.c turns it into OpenSSL
 * contexts.
 */
#ifndef CORRIDOR_TLS_CONFIG_H
#define CORRIDOR_TLS_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#define TLS_PATH_MAX 1024

enum tls_client_cert {
	TLS_CLIENT_CERT_NONE,		/* not asked for */
	TLS_CLIENT_CERT_OPTIONAL,	/* asked for; when sent it must name the carrier */
	TLS_CLIENT_CERT_REQUIRED,	/* a session without one is refused at its Hello */
};

struct tls_listener_config {
	char cert[TLS_PATH_MAX];	/* PEM certificate chain, server first */
	char key[TLS_PATH_MAX];		/* PEM private key */
	char ca[TLS_PATH_MAX];		/* PEM CAs that sign client certificates */
	enum tls_client_cert client_cert;
	bool client_cert_set;		/* client_cert given explicitly */
};

struct tls_config {
	struct tls_listener_config carrier, query;
	int min_version;		/* TLS1_2_VERSION (default) or TLS1_3_VERSION */
};

/* Settings that only make sense together (a cert without its key, a client
 * certificate requirement without a CA); 0, or -1 with the reason in err. */
int tls_config_check(const struct tls_config *t, char *err, size_t errlen);
bool tls_listener_enabled(const struct tls_listener_config *l);

#endif
