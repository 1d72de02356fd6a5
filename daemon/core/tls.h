/*
 * TLS on the listeners through libevent's OpenSSL bufferevents: a server
 * context per listener (TLS 1.2 or newer), a bufferevent per accepted
 * connection, why a handshake failed, and whether a client certificate
 * names the carrier of the session (mutual TLS on the carrier port).
 */
#ifndef CORRIDOR_TLS_H
#define CORRIDOR_TLS_H

#include <stdbool.h>
#include <stddef.h>

#include <event2/util.h>
#include <openssl/types.h>

#include "tls_config.h"

struct bufferevent;
struct event_base;

/* The context of one listener; NULL with the reason in err (an unreadable
 * file, a key that does not match its certificate, ...). */
SSL_CTX *tls_server_ctx_new(const struct tls_listener_config *l, int min_version,
    const char *listener, char *err, size_t errlen);
void tls_ctx_free(SSL_CTX *ctx);
/* Loads every configured context once and frees it again: --check-config,
 * and the start-up check before anything is opened. */
int tls_config_try(const struct tls_config *t, char *err, size_t errlen);

/* A bufferevent doing the server side of the handshake on fd (closed when the
 * bufferevent is freed); NULL when out of memory, fd then left open. */
struct bufferevent *tls_bufferevent_new(struct event_base *base, SSL_CTX *ctx,
    evutil_socket_t fd);
bool tls_bufferevent_is_tls(struct bufferevent *bev);
/* True once the handshake is over, and always for a plain bufferevent: what
 * is written now reaches the peer as it is meant to. */
bool tls_handshake_done(struct bufferevent *bev);

/* After BEV_EVENT_ERROR on a TLS bufferevent: true when TLS failed (OpenSSL
 * said why, in why), false for a plain socket error. *plaintext is set when
 * the peer's first bytes were not TLS at all (a plain-text client). */
bool tls_failure(struct bufferevent *bev, char *why, size_t len, bool *plaintext);
/* "TLSv1.3 TLS_AES_256_GCM_SHA384", for the log. */
void tls_describe(struct bufferevent *bev, char *buf, size_t len);

/* Mutual TLS at a carrier's Hello: 0 when the session may go on (no TLS, no
 * certificate asked for, an optional one not sent, or one whose CN or a DNS
 * subject alternative name is exactly code); -1 with a message for the
 * carrier, and the names the certificate holds for the log. */
int tls_check_carrier_cert(struct bufferevent *bev, enum tls_client_cert want,
    const char *code, char *msg, size_t msglen, char *names, size_t nameslen);

/* Answers a peer that sent plain text to a TLS listener in plain text: takes
 * what it sent (so the close does not reset the answer away) and writes msg
 * without blocking. The caller closes fd. */
void tls_refuse_plaintext(evutil_socket_t fd, const void *msg, size_t len);

#endif
