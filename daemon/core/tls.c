/* TLS for the listeners; see tls.h. */
#include "tls.h"

#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#define TLS_SESSION_ID_CONTEXT "corridord"
#define TLS_DRAIN_MAX 65536	/* plain text taken from a refused peer before closing */

/* The first queued OpenSSL error, for a message; the queue is emptied. */
static void
tls_openssl_error(char *buf, size_t len)
{
	unsigned long e = ERR_get_error();

	if (e == 0)
		snprintf(buf, len, "unknown OpenSSL error");
	else
		ERR_error_string_n(e, buf, len);
	ERR_clear_error();
}

SSL_CTX *
tls_server_ctx_new(const struct tls_listener_config *l, int min_version, const char *listener,
    char *err, size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	char why[256];

	ERR_clear_error();
	if (ctx == NULL) {
		tls_openssl_error(why, sizeof why);
		snprintf(err, errlen, "%s: cannot create a TLS context: %s", listener, why);
		return NULL;
	}
	/* Nothing older than TLS 1.2, whatever the system's OpenSSL defaults. */
	SSL_CTX_set_min_proto_version(ctx, min_version < TLS1_2_VERSION ? TLS1_2_VERSION :
	    min_version);
	/* OpenSSL 3 reports a close without close_notify as an error, which
	 * libevent 2.1 cannot tell from a failure; both protocols delimit their
	 * messages (frames, END n), so such a close is just the peer leaving. */
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
	    SSL_OP_NO_COMPRESSION | SSL_OP_IGNORE_UNEXPECTED_EOF);
	/* An idle connection keeps no 34 KiB of record buffers. */
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_session_id_context(ctx, (const unsigned char *)TLS_SESSION_ID_CONTEXT,
	    sizeof TLS_SESSION_ID_CONTEXT - 1);
	if (SSL_CTX_use_certificate_chain_file(ctx, l->cert) != 1) {
		tls_openssl_error(why, sizeof why);
		snprintf(err, errlen, "%s: certificate %s: %s", listener, l->cert, why);
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, l->key, SSL_FILETYPE_PEM) != 1) {
		tls_openssl_error(why, sizeof why);
		snprintf(err, errlen, "%s: key %s: %s", listener, l->key, why);
		goto fail;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		tls_openssl_error(why, sizeof why);
		snprintf(err, errlen, "%s: key %s does not belong to certificate %s: %s", listener,
		    l->key, l->cert, why);
		goto fail;
	}
	if (l->client_cert != TLS_CLIENT_CERT_NONE) {
		STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(l->ca);

		if (names == NULL || SSL_CTX_load_verify_locations(ctx, l->ca, NULL) != 1) {
			tls_openssl_error(why, sizeof why);
			snprintf(err, errlen, "%s: CA file %s: %s", listener, l->ca, why);
			if (names != NULL)
				sk_X509_NAME_pop_free(names, X509_NAME_free);
			goto fail;
		}
		SSL_CTX_set_client_CA_list(ctx, names);
		/* Asked for, and checked against the CA when sent; whether one
		 * must be sent is decided at the Hello, so the carrier learns why. */
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	}
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

void
tls_ctx_free(SSL_CTX *ctx)
{
	SSL_CTX_free(ctx);
}

int
tls_config_try(const struct tls_config *t, char *err, size_t errlen)
{
	const struct tls_listener_config *ls[2] = { &t->carrier, &t->query };
	const char *names[2] = { "carriers", "operators" };

	for (int i = 0; i < 2; i++) {
		SSL_CTX *ctx;

		if (!tls_listener_enabled(ls[i]))
			continue;
		if ((ctx = tls_server_ctx_new(ls[i], t->min_version, names[i], err, errlen)) == NULL)
			return -1;
		SSL_CTX_free(ctx);
	}
	return 0;
}

struct bufferevent *
tls_bufferevent_new(struct event_base *base, SSL_CTX *ctx, evutil_socket_t fd)
{
	SSL *ssl = SSL_new(ctx);
	struct bufferevent *bev;

	if (ssl == NULL)
		return NULL;
	bev = bufferevent_openssl_socket_new(base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
	    BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL) {
		SSL_free(ssl);
		return NULL;
	}
	/* A peer that closes without close_notify is just gone, not an error. */
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	return bev;
}

bool
tls_bufferevent_is_tls(struct bufferevent *bev)
{
	return bufferevent_openssl_get_ssl(bev) != NULL;
}

bool
tls_handshake_done(struct bufferevent *bev)
{
	SSL *ssl = bufferevent_openssl_get_ssl(bev);

	return ssl == NULL || SSL_is_init_finished(ssl);
}

/* OpenSSL's verdicts on a first record that is not TLS at all. */
static bool
tls_reason_is_plaintext(unsigned long e)
{
	int r = ERR_GET_REASON(e);

	return ERR_GET_LIB(e) == ERR_LIB_SSL && (r == SSL_R_WRONG_VERSION_NUMBER ||
	    r == SSL_R_HTTP_REQUEST || r == SSL_R_HTTPS_PROXY_REQUEST);
}

bool
tls_failure(struct bufferevent *bev, char *why, size_t len, bool *plaintext)
{
	SSL *ssl = bufferevent_openssl_get_ssl(bev);
	unsigned long e, first = 0;

	*plaintext = false;
	why[0] = '\0';
	if (ssl == NULL)
		return false;
	while ((e = bufferevent_get_openssl_error(bev)) != 0)
		if (first == 0)
			first = e;
	if (first == 0)
		return false;
	ERR_error_string_n(first, why, len);
	/* nothing of a handshake was understood: the peer does not speak TLS */
	*plaintext = SSL_get_state(ssl) == TLS_ST_BEFORE && tls_reason_is_plaintext(first);
	return true;
}

void
tls_describe(struct bufferevent *bev, char *buf, size_t len)
{
	SSL *ssl = bufferevent_openssl_get_ssl(bev);

	if (ssl == NULL)
		snprintf(buf, len, "none");
	else
		snprintf(buf, len, "%s %s", SSL_get_version(ssl), SSL_get_cipher_name(ssl));
}

/* Appends "tag=value" (printable ASCII only) to names. */
static void
tls_add_name(char *names, size_t len, const char *tag, const ASN1_STRING *s)
{
	const unsigned char *p = ASN1_STRING_get0_data(s);
	int n = ASN1_STRING_length(s);
	size_t o = strlen(names);

	if (o + strlen(tag) + 3 >= len)
		return;
	o += (size_t)snprintf(names + o, len - o, "%s%s=", o > 0 ? "," : "", tag);
	for (int i = 0; i < n && o + 1 < len; i++)
		names[o++] = p[i] > 0x20 && p[i] < 0x7f ? (char)p[i] : '?';
	names[o] = '\0';
}

static bool
tls_name_is(const ASN1_STRING *s, const char *code)
{
	size_t n = strlen(code);

	return (size_t)ASN1_STRING_length(s) == n &&
	    memcmp(ASN1_STRING_get0_data(s), code, n) == 0;
}

/* True when the certificate's subject CN or one of its DNS names is code. */
static bool
tls_cert_names(X509 *cert, const char *code, char *names, size_t len)
{
	const X509_NAME *subject = X509_get_subject_name(cert);
	GENERAL_NAMES *sans;
	bool found = false;
	int i = -1;

	while ((i = X509_NAME_get_index_by_NID(subject, NID_commonName, i)) >= 0) {
		const ASN1_STRING *cn = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, i));

		tls_add_name(names, len, "CN", cn);
		found = found || tls_name_is(cn, code);
	}
	sans = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
	for (int k = 0; sans != NULL && k < sk_GENERAL_NAME_num(sans); k++) {
		const GENERAL_NAME *gn = sk_GENERAL_NAME_value(sans, k);

		if (gn->type != GEN_DNS)
			continue;
		tls_add_name(names, len, "DNS", gn->d.dNSName);
		found = found || tls_name_is(gn->d.dNSName, code);
	}
	GENERAL_NAMES_free(sans);
	return found;
}

int
tls_check_carrier_cert(struct bufferevent *bev, enum tls_client_cert want, const char *code,
    char *msg, size_t msglen, char *names, size_t nameslen)
{
	SSL *ssl = bufferevent_openssl_get_ssl(bev);
	X509 *cert;

	names[0] = '\0';
	if (ssl == NULL || want == TLS_CLIENT_CERT_NONE)
		return 0;
	if ((cert = SSL_get0_peer_certificate(ssl)) == NULL) {
		if (want == TLS_CLIENT_CERT_OPTIONAL)
			return 0;
		snprintf(msg, msglen, "this port requires a client certificate naming the carrier "
		    "(CN or DNS name %s)", code);
		return -1;
	}
	if (SSL_get_verify_result(ssl) != X509_V_OK) {
		snprintf(msg, msglen, "the client certificate did not verify: %s",
		    X509_verify_cert_error_string(SSL_get_verify_result(ssl)));
		return -1;
	}
	if (tls_cert_names(cert, code, names, nameslen))
		return 0;
	snprintf(msg, msglen, "the client certificate names %s, not carrier %s",
	    names[0] != '\0' ? names : "nothing", code);
	return -1;
}

void
tls_refuse_plaintext(evutil_socket_t fd, const void *msg, size_t len)
{
	char sink[4096];
	size_t taken = 0;
	ssize_t k;

	/* Unread input makes close() send a reset, which can destroy the answer
	 * before the peer reads it. */
	while (taken < TLS_DRAIN_MAX &&
	    (k = recv(fd, sink, sizeof sink, MSG_DONTWAIT)) > 0)
		taken += (size_t)k;
	(void)send(fd, msg, len, MSG_DONTWAIT | MSG_NOSIGNAL);
	(void)shutdown(fd, SHUT_WR);
}
