/*
 * Showing a subcommand's answer once, or again and again (--watch): on a
 * terminal each refresh clears the screen and redraws it under a header with
 * the time of the last refresh; elsewhere (a pipe, a file) each refresh is
 * printed after a "# refreshed <time>" line. A refresh that fails for a
 * reason that may pass (no connection, the daemon stopping) is shown and the
 * watch goes on; one that cannot pass (a bad argument) ends it.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"
#include "table_fit.h"
#include "timeutil.h"
#include "watch.h"

static volatile sig_atomic_t watch_stop;

static void
watch_on_signal(int sig)
{
	(void)sig;
	watch_stop = 1;
}

void
ctl_error_set(struct ctl_error *e, int exit, int transient, const char *fmt, ...)
{
	va_list ap;

	e->exit = exit;
	e->transient = transient;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	va_end(ap);
}

static int
show_once(struct ctl *c, ctl_show_fn fn, const void *arg)
{
	struct ctl_error e = { 0, 0, "" };

	c->width = term_width(STDOUT_FILENO);
	if (fn(c, arg, stdout, &e) == -1) {
		fflush(stdout);
		fprintf(stderr, "corridorctl: %s\n", e.msg);
		return e.exit;
	}
	if (fflush(stdout) != 0) {
		fprintf(stderr, "corridorctl: cannot write the output\n");
		return 1;
	}
	return 0;
}

/* Sleeps until the monotonic clock reads until_ms, or a signal stops the watch. */
static void
watch_sleep(int64_t until_ms)
{
	int64_t left;

	while (!watch_stop && (left = until_ms - time_mono_ms()) > 0) {
		struct timespec ts = { (time_t)(left / 1000), (long)(left % 1000) * 1000000L };

		nanosleep(&ts, NULL);
	}
}

/* Lines of the terminal on stdout; 0 when unknown. */
static size_t
term_rows(void)
{
	struct winsize ws;

	return ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 ? ws.ws_row : 0;
}

/* Writes body, or when it has rows lines or more (rows 0: unknown) the
 * first rows - 1 and how many more there are, without a last newline: a
 * frame taller than the screen would scroll its header away. */
static void
put_body(const char *body, size_t len, size_t rows)
{
	size_t lines = 0, keep = 0;

	for (size_t i = 0; i < len; i++)
		if (body[i] == '\n' && ++lines == rows - 1)
			keep = i + 1;
	if (rows < 2 || lines < rows) {
		fwrite(body, 1, len, stdout);
		return;
	}
	fwrite(body, 1, keep, stdout);
	printf("(%zu more lines)", lines - (rows - 1));
}

/* The frame shown on a terminal: header, the error if the refresh failed,
 * then the last answer that came (body, may be NULL), cut to the screen. */
static void
draw_tty(const struct ctl *c, const char *when_ok, const char *when_now,
    const struct ctl_error *e, int failed, const char *body, size_t len)
{
	char line[1024], *head = NULL;
	size_t head_len = 0, rows = term_rows(), used = 0;
	FILE *h = open_memstream(&head, &head_len);

	if (h == NULL)
		return;
	snprintf(line, sizeof line, "every %gs: corridorctl %s | refreshed %s | Ctrl-C ends",
	    c->watch_s, c->title ? c->title : "", when_ok[0] ? when_ok : "never");
	fit_wrapped(h, line, c->width);
	if (failed) {
		snprintf(line, sizeof line, "refresh failed at %s: %s%s", when_now, e->msg,
		    body ? " (the last answer follows)" : "");
		fit_wrapped(h, line, c->width);
	}
	fputc('\n', h);
	if (fclose(h) != 0) {
		free(head);
		return;
	}
	for (size_t i = 0; i < head_len; i++)
		used += head[i] == '\n';
	fputs("\033[H\033[2J", stdout);
	fwrite(head, 1, head_len, stdout);
	if (body != NULL)
		put_body(body, len, rows == 0 ? 0 : rows > used + 1 ? rows - used : 2);
	free(head);
}

static int
show_watch(struct ctl *c, ctl_show_fn fn, const void *arg)
{
	struct sigaction sa;
	char when_ok[32] = "", when_now[32];
	char *last = NULL;
	size_t last_len = 0;
	int tty = isatty(STDOUT_FILENO), rc = 0;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = watch_on_signal;	/* no SA_RESTART: a signal cuts a wait short */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	while (!watch_stop) {
		int64_t started = time_mono_ms();
		struct ctl_error e = { 0, 0, "" };
		char *buf = NULL;
		size_t len = 0;
		FILE *mem = open_memstream(&buf, &len);
		int failed;

		if (mem == NULL) {
			fprintf(stderr, "corridorctl: out of memory\n");
			rc = 70;
			break;
		}
		c->width = term_width(STDOUT_FILENO);
		failed = fn(c, arg, mem, &e) == -1;
		if (fclose(mem) != 0 && !failed) {
			ctl_error_set(&e, 70, 0, "out of memory");
			failed = 1;
		}
		if (watch_stop) {
			free(buf);
			break;
		}
		time_format_iso(time_now_ms(), when_now, sizeof when_now);
		if (!failed) {
			free(last);
			last = buf;
			last_len = len;
			buf = NULL;
			memcpy(when_ok, when_now, sizeof when_ok);
		}
		free(buf);
		if (tty)
			draw_tty(c, when_ok, when_now, &e, failed, last, last_len);
		else if (failed) {
			printf("# refresh failed %s (every %gs): %s\n", when_now, c->watch_s, e.msg);
			fprintf(stderr, "corridorctl: %s\n", e.msg);
		} else {
			printf("# refreshed %s (every %gs): %s\n", when_now, c->watch_s,
			    c->title ? c->title : "");
			fwrite(last, 1, last_len, stdout);
		}
		if (fflush(stdout) != 0) {
			fprintf(stderr, "corridorctl: cannot write the output\n");
			rc = 1;
			break;
		}
		if (failed && !e.transient) {
			if (tty)
				fprintf(stderr, "corridorctl: %s\n", e.msg);
			rc = e.exit;
			break;
		}
		watch_sleep(started + (int64_t)(c->watch_s * 1000));
	}
	free(last);
	return rc;
}

int
ctl_show(struct ctl *c, ctl_show_fn fn, const void *arg)
{
	return c->watch_s > 0 ? show_watch(c, fn, arg) : show_once(c, fn, arg);
}
