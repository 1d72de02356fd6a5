/* corridorctl's connections, plain or TLS; see ctl_conn.h. */
#include "ctl_conn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "ctl_util.h"

static void
openssl_reason(char *buf, size_t len)
{
	unsigned long e = ERR_get_error();

	if (e == 0)
		snprintf(buf, len, "unknown TLS error");
	else
		ERR_error_string_n(e, buf, len);
	ERR_clear_error();
}

int
ctl_tls_init(struct ctl_tls *t, char *err, size_t errlen)
{
	char why[200];

	if (!t->enabled || t->ctx != NULL)
		return 0;
	/* OpenSSL writes to the socket without MSG_NOSIGNAL */
	signal(SIGPIPE, SIG_IGN);
	if ((t->ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
		openssl_reason(why, sizeof why);
		snprintf(err, errlen, "cannot create a TLS context: %s", why);
		return -1;
	}
	SSL_CTX_set_min_proto_version(t->ctx, TLS1_2_VERSION);
	/* the daemon ends sessions by closing; both protocols delimit messages */
	SSL_CTX_set_options(t->ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
	/* a send on a full socket takes what fits, like send() */
	SSL_CTX_set_mode(t->ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	SSL_CTX_set_verify(t->ctx, SSL_VERIFY_PEER, NULL);
	if ((t->ca != NULL ? SSL_CTX_load_verify_locations(t->ctx, t->ca, NULL) :
	    SSL_CTX_set_default_verify_paths(t->ctx)) != 1) {
		openssl_reason(why, sizeof why);
		snprintf(err, errlen, "CA file %s: %s", t->ca != NULL ? t->ca : "(system)", why);
		goto fail;
	}
	if (t->cert != NULL) {
		const char *key = t->key != NULL ? t->key : t->cert;

		if (SSL_CTX_use_certificate_chain_file(t->ctx, t->cert) != 1 ||
		    SSL_CTX_use_PrivateKey_file(t->ctx, key, SSL_FILETYPE_PEM) != 1 ||
		    SSL_CTX_check_private_key(t->ctx) != 1) {
			openssl_reason(why, sizeof why);
			snprintf(err, errlen, "client certificate %s / key %s: %s", t->cert, key, why);
			goto fail;
		}
	} else if (t->key != NULL) {
		snprintf(err, errlen, "--key needs --cert");
		goto fail;
	}
	return 0;
fail:
	SSL_CTX_free(t->ctx);
	t->ctx = NULL;
	return -1;
}

void
ctl_tls_free(struct ctl_tls *t)
{
	SSL_CTX_free(t->ctx);
	t->ctx = NULL;
}

/* The daemon's certificate must name host: an IP address, or a DNS name
 * (which also goes out as SNI). */
static int
expect_name(SSL *ssl, const char *host)
{
	unsigned char addr[16];

	if (inet_pton(AF_INET, host, addr) == 1 || inet_pton(AF_INET6, host, addr) == 1)
		return X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host) == 1 ? 0 : -1;
	if (SSL_set1_host(ssl, host) != 1 || SSL_set_tlsext_host_name(ssl, host) != 1)
		return -1;
	return 0;
}

static void
handshake_error(SSL *ssl, int rc, const char *host, const char *port, char *err, size_t errlen)
{
	long verify = SSL_get_verify_result(ssl);
	unsigned long e = ERR_peek_error();
	char why[200];

	if (verify != X509_V_OK) {
		snprintf(err, errlen, "TLS with %s:%s: the daemon's certificate: %s", host, port,
		    X509_verify_cert_error_string(verify));
		ERR_clear_error();
		return;
	}
	if (e == 0) {
		snprintf(err, errlen, "TLS with %s:%s: %s", host, port,
		    SSL_get_error(ssl, rc) == SSL_ERROR_SYSCALL && errno != 0 ? strerror(errno) :
		    "the daemon closed the connection during the handshake");
		return;
	}
	openssl_reason(why, sizeof why);
	snprintf(err, errlen, "TLS with %s:%s: %s%s", host, port, why,
	    ERR_GET_REASON(e) == SSL_R_WRONG_VERSION_NUMBER ||
	    ERR_GET_REASON(e) == SSL_R_PACKET_LENGTH_TOO_LONG ?
	    " (does the daemon speak TLS on this port?)" : "");
}

int
ctl_conn_open(struct ctl_conn *cn, const struct ctl_tls *t, const char *host,
    const char *port, int timeout_ms, char *err, size_t errlen)
{
	struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
	int rc;

	cn->ssl = NULL;
	cn->tls_error[0] = '\0';
	if ((cn->fd = net_connect(host, port, timeout_ms, err, errlen)) == -1)
		return -1;
	if (t == NULL || !t->enabled)
		return 0;
	setsockopt(cn->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(cn->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	ERR_clear_error();
	if ((cn->ssl = SSL_new(t->ctx)) == NULL || SSL_set_fd(cn->ssl, cn->fd) != 1 ||
	    expect_name(cn->ssl, host) == -1) {
		snprintf(err, errlen, "cannot set up TLS for %s:%s", host, port);
		ctl_conn_close(cn);
		return -1;
	}
	errno = 0;
	if ((rc = SSL_connect(cn->ssl)) != 1) {
		handshake_error(cn->ssl, rc, host, port, err, errlen);
		SSL_free(cn->ssl);
		cn->ssl = NULL;
		ctl_conn_close(cn);
		return -1;
	}
	return 0;
}

/* errno and the return value of a send or recv for an SSL call's result. */
static ssize_t
tls_result(struct ctl_conn *cn, int rc)
{
	int saved = errno;

	switch (SSL_get_error(cn->ssl, rc)) {
	case SSL_ERROR_ZERO_RETURN:
		return 0;
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		errno = EAGAIN;
		return -1;
	case SSL_ERROR_SYSCALL:
		ERR_clear_error();
		SSL_set_quiet_shutdown(cn->ssl, 1);	/* no close_notify on a broken session */
		if (saved == 0)
			return 0;	/* the peer just went away */
		errno = saved;
		return -1;
	default:
		openssl_reason(cn->tls_error, sizeof cn->tls_error);
		SSL_set_quiet_shutdown(cn->ssl, 1);
		errno = EPROTO;
		return -1;
	}
}

ssize_t
ctl_conn_send(struct ctl_conn *cn, const void *buf, size_t len)
{
	int rc;

	if (cn->ssl == NULL)
		return send(cn->fd, buf, len, MSG_NOSIGNAL);
	ERR_clear_error();
	errno = 0;
	rc = SSL_write(cn->ssl, buf, len > INT_MAX ? INT_MAX : (int)len);
	return rc > 0 ? rc : tls_result(cn, rc);
}

ssize_t
ctl_conn_recv(struct ctl_conn *cn, void *buf, size_t len)
{
	int rc;

	if (cn->ssl == NULL)
		return recv(cn->fd, buf, len, 0);
	ERR_clear_error();
	errno = 0;
	rc = SSL_read(cn->ssl, buf, len > INT_MAX ? INT_MAX : (int)len);
	return rc > 0 ? rc : tls_result(cn, rc);
}

bool
ctl_conn_pending(const struct ctl_conn *cn)
{
	return cn->ssl != NULL && SSL_pending(cn->ssl) > 0;
}

const char *
ctl_conn_strerror(const struct ctl_conn *cn, int err)
{
	if (err == EPROTO && cn->tls_error[0] != '\0')
		return cn->tls_error;
	return strerror(err);
}

void
ctl_conn_close(struct ctl_conn *cn)
{
	if (cn->ssl != NULL) {
		(void)SSL_shutdown(cn->ssl);	/* close_notify; no wait for the answer */
		SSL_free(cn->ssl);
		cn->ssl = NULL;
	}
	if (cn->fd != -1)
		close(cn->fd);
	cn->fd = -1;
}
