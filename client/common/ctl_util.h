/*
 * corridorctl's small helpers (ctl_util.c): growing arrays, a blocking TCP
 * connect with a timeout, and the progress line of long operations.
 */
#ifndef CORRIDORCTL_CTL_UTIL_H
#define CORRIDORCTL_CTL_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Makes room for one more element in the array *arrp of *cap elements
 * holding n. 0, or -1 when out of memory (the array is left as it was). */
int ctl_grow(void *arrp, size_t *cap, size_t n, size_t elem);

/* A connected blocking TCP socket, or -1 with a message in err. */
int net_connect(const char *host, const char *port, int timeout_ms, char *err, size_t errlen);

/* A status line on stderr: redrawn with \r on a terminal, otherwise printed
 * at most every few seconds. progress_done() ends the line. */
struct progress {
	int tty;
	int64_t last_ms;
	int shown;
};
void progress_init(struct progress *p);
void progress_show(struct progress *p, int force, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void progress_done(struct progress *p);

#endif
