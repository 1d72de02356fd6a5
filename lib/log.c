/*
 * Logging to stderr (journald adds its own timestamps under systemd, but a
 * terminal user and the tests want them, so we always print one).
 * One fprintf per line under the stdio lock keeps threads' lines whole.
 */
#include "log.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Set by the main thread (start, reload), read by every thread: atomic. */
static atomic_int current_level = LOG_LEVEL_INFO;
static const char *log_progname = "corridor";

void
log_init(enum log_level level, const char *progname)
{
	atomic_store_explicit(&current_level, (int)level, memory_order_relaxed);
	if (progname != NULL)
		log_progname = progname;
}

void
log_set_level(enum log_level level)
{
	atomic_store_explicit(&current_level, (int)level, memory_order_relaxed);
}

static void
log_vemit(const char *level, const char *fmt, va_list ap, const char *suffix)
{
	char msg[2048];
	char stamp[32];
	struct timespec ts;
	struct tm tm;

	vsnprintf(msg, sizeof msg, fmt, ap);
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);

	flockfile(stderr);
	if (suffix != NULL)
		fprintf(stderr, "%s.%03ldZ %s %s: %s error=\"%s\"\n", stamp,
		    ts.tv_nsec / 1000000, log_progname, level, msg, suffix);
	else
		fprintf(stderr, "%s.%03ldZ %s %s: %s\n", stamp,
		    ts.tv_nsec / 1000000, log_progname, level, msg);
	fflush(stderr);
	funlockfile(stderr);
}

void
log_warn(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	log_vemit("warn", fmt, ap, strerror(saved));
	va_end(ap);
	errno = saved;
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vemit("warn", fmt, ap, NULL);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	if (atomic_load_explicit(&current_level, memory_order_relaxed) < LOG_LEVEL_INFO)
		return;
	va_start(ap, fmt);
	log_vemit("info", fmt, ap, NULL);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	if (atomic_load_explicit(&current_level, memory_order_relaxed) < LOG_LEVEL_DEBUG)
		return;
	va_start(ap, fmt);
	log_vemit("debug", fmt, ap, NULL);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	log_vemit("fatal", fmt, ap, strerror(saved));
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vemit("fatal", fmt, ap, NULL);
	va_end(ap);
	exit(1);
}
