/*
 * Logging: the only place corridor prints from. Lines are "time level msg"
 * where msg is a short phrase followed by key=value pairs, e.g.
 *   conn=42 carrier=KTZE closed reason=frame_too_large len=9437184
 * log_warn() appends strerror(errno); fatal()/fatalx() are for start-up and
 * broken invariants only, never for what a peer sent.
 */
#ifndef CORRIDOR_LOG_H
#define CORRIDOR_LOG_H

#include <stdarg.h>

enum log_level { LOG_LEVEL_WARN = 0, LOG_LEVEL_INFO = 1, LOG_LEVEL_DEBUG = 2 };

void log_init(enum log_level level, const char *progname);
void log_set_level(enum log_level level);

void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
