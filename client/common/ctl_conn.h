/*
 * corridorctl's connections to the daemon: a TCP socket, with TLS on it when
 * --tls is given (the daemon's certificate checked against --ca or the
 * system's CAs and against --host; --cert and --key for mutual TLS). The
 * query client and the carrier sessions read and write through it alike.
 */
#ifndef CORRIDORCTL_CTL_CONN_H
#define CORRIDORCTL_CTL_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <openssl/types.h>

struct ctl_tls {
	bool enabled;
	const char *ca;		/* PEM CAs to trust; NULL: the system's */
	const char *cert;	/* PEM client certificate (chain), or NULL */
	const char *key;	/* its private key; NULL: in cert's file */
	SSL_CTX *ctx;		/* made by ctl_tls_init */
};

struct ctl_conn {
	int fd;
	SSL *ssl;		/* NULL on plain TCP */
	char tls_error[200];	/* why the last TLS call failed */
};

/* Makes the client context when TLS is asked for. 0, or -1 with err. */
int ctl_tls_init(struct ctl_tls *t, char *err, size_t errlen);
void ctl_tls_free(struct ctl_tls *t);

/* Connects within timeout_ms and, with t enabled, does the TLS handshake
 * (blocking). 0, or -1 with the reason in err. */
int ctl_conn_open(struct ctl_conn *cn, const struct ctl_tls *t, const char *host,
    const char *port, int timeout_ms, char *err, size_t errlen);
/* Like send() and recv() (MSG_NOSIGNAL implied): bytes moved; recv 0 at the
 * end; -1 with errno (EAGAIN: a non-blocking socket must wait; EPROTO: TLS
 * failed, ctl_conn_strerror says how). */
ssize_t ctl_conn_send(struct ctl_conn *cn, const void *buf, size_t len);
ssize_t ctl_conn_recv(struct ctl_conn *cn, void *buf, size_t len);
/* Decrypted bytes OpenSSL holds that poll() cannot see. */
bool ctl_conn_pending(const struct ctl_conn *cn);
/* The reason for errno err after a failed send or recv. */
const char *ctl_conn_strerror(const struct ctl_conn *cn, int err);
/* Sends close_notify (TLS), closes the socket; fd becomes -1. */
void ctl_conn_close(struct ctl_conn *cn);

#endif
