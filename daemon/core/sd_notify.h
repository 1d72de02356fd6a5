/*
 * The systemd notify protocol, spoken directly over $NOTIFY_SOCKET (a
 * datagram socket, "@" meaning the abstract namespace): READY=1, STATUS=,
 * WATCHDOG=1, STOPPING=1, RELOADING=1. Without $NOTIFY_SOCKET every call does
 * nothing.
 */
#ifndef CORRIDOR_SD_NOTIFY_H
#define CORRIDOR_SD_NOTIFY_H

#include <stdint.h>

/* Reads $NOTIFY_SOCKET and $WATCHDOG_USEC (when $WATCHDOG_PID, if set, is
 * this process). 0, or -1 if the socket name is unusable. */
int sd_notify_init(void);
/* Sends one datagram, e.g. "READY=1\nSTATUS=..." (printf-style). */
void sd_notify_send(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A reload begins: RELOADING=1 with MONOTONIC_USEC (READY=1 ends it). */
void sd_notify_reloading(void);
/* The watchdog interval systemd asked for, in microseconds; 0 when none. */
uint64_t sd_notify_watchdog_usec(void);

#endif
