/* systemd notify protocol; see sd_notify.h. */
#include "sd_notify.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static int notify_fd = -1;
static struct sockaddr_un notify_addr;
static socklen_t notify_len;
static uint64_t watchdog_usec;

int
sd_notify_init(void)
{
	const char *path = getenv("NOTIFY_SOCKET");
	const char *wd = getenv("WATCHDOG_USEC");
	const char *wd_pid = getenv("WATCHDOG_PID");
	size_t n;

	if (wd != NULL && (wd_pid == NULL || strtol(wd_pid, NULL, 10) == (long)getpid()))
		watchdog_usec = strtoull(wd, NULL, 10);
	if (path == NULL || path[0] == '\0')
		return 0;
	n = strlen(path);
	if ((path[0] != '/' && path[0] != '@') || n >= sizeof notify_addr.sun_path) {
		log_warnx("NOTIFY_SOCKET=%s is not a socket path; not notifying systemd", path);
		return -1;
	}
	memset(&notify_addr, 0, sizeof notify_addr);
	notify_addr.sun_family = AF_UNIX;
	memcpy(notify_addr.sun_path, path, n);
	if (path[0] == '@')
		notify_addr.sun_path[0] = '\0';	/* abstract namespace */
	notify_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (notify_fd == -1) {
		log_warn("cannot create the notify socket");
		return -1;
	}
	return 0;
}

void
sd_notify_send(const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	int n;

	if (notify_fd == -1)
		return;
	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (sendto(notify_fd, msg, strnlen(msg, sizeof msg), MSG_NOSIGNAL,
	    (struct sockaddr *)&notify_addr, notify_len) == -1)
		log_warn("notify to systemd failed msg=%.20s", msg);
}

uint64_t
sd_notify_watchdog_usec(void)
{
	return watchdog_usec;
}

void
sd_notify_reloading(void)
{
	struct timespec ts;

	/* systemd 253 and later want the reload's start on CLOCK_MONOTONIC with
	 * it (Type=notify-reload); older ones ignore the field */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	sd_notify_send("RELOADING=1\nMONOTONIC_USEC=%llu\nSTATUS=reloading the configuration",
	    (unsigned long long)ts.tv_sec * 1000000ULL + (unsigned long long)ts.tv_nsec / 1000ULL);
}
