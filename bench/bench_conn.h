/*
 * How the benchmark tools reach corridord: the one place that connects, says
 * hello as a carrier (with the credential, when one is given) and opens an
 * operator connection. When the daemon's authentication changes, this file
 * is what changes.
 */
#ifndef CORRIDOR_BENCH_CONN_H
#define CORRIDOR_BENCH_CONN_H

#include <stddef.h>
#include <stdint.h>

#include "corridor.pb-c.h"

#define BENCH_HELLO_FAILED UINT64_MAX

/* Where the daemon is and who the tools are. bench_endpoint_init() takes
 * the carriers' secret from CORRIDOR_CREDENTIAL (sent in every Hello) and
 * the operator's token NAME:SECRET from CORRIDOR_TOKEN (sent as "AUTH NAME
 * SECRET" first on every query connection), as corridorctl does; NULL when
 * unset. */
struct bench_endpoint {
	const char *host;
	const char *carrier_port;
	const char *query_port;
	const char *credential;
	const char *token;
};

void bench_endpoint_init(struct bench_endpoint *e);

/* A connected blocking TCP socket with TCP_NODELAY, or -1. */
int bench_connect(const char *host, const char *port);
int bench_write_all(int fd, const void *p, size_t n);
/* Reads one whole ServerMessage (blocking) into buf; NULL on error or EOF. */
Corridor__ServerMessage *bench_read_message(int fd, uint8_t *buf, size_t cap);

/* Says hello as carrier on fd and reads the Welcome: the carrier's
 * acknowledged mark, or BENCH_HELLO_FAILED with the reason in err. buf (cap
 * bytes) is scratch space. */
uint64_t bench_hello(const struct bench_endpoint *e, int fd, const char *carrier,
    const char *client_name, uint8_t *buf, size_t cap, char *err, size_t errlen);

/* An operator connection: a socket and a buffer for answers. */
struct bench_qconn {
	int fd;
	char *buf;
	size_t cap, len, pos;
};

/* One answer, as bench_query_run() leaves it: ok, the row count, and (when
 * asked for) the rows' text ("# header" excluded), one row per line. */
struct bench_answer {
	int ok;
	char err[160];		/* "CODE message" of an ERR answer */
	size_t nrows;
	char *rows;		/* malloc'd when keep_rows; free() it */
	size_t rows_len;
};

/* Connects to the query port and, with a token, authenticates. 0, or -1
 * with the reason in err. */
int bench_qconn_open(struct bench_qconn *q, const struct bench_endpoint *e, char *err,
    size_t errlen);
void bench_qconn_close(struct bench_qconn *q);
/* Sends one request line (without its newline) and reads the whole answer.
 * 0 when an answer (OK or ERR) arrived; -1 with err filled when the
 * connection failed or the answer broke the protocol. */
int bench_query_run(struct bench_qconn *q, const char *line, int keep_rows,
    struct bench_answer *a, char *err, size_t errlen);

#endif
