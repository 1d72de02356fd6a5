/*
 * Driving several carrier sessions in one poll() loop (push uses one,
 * simulate one per carrier), with a progress line, and the summary both
 * commands print at the end.
 */
#include <stdlib.h>
#include <string.h>

#include "carrier_session.h"
#include "ctl.h"
#include "timeutil.h"
#include "validate.h"

static void
add_stats(struct cs_stats *t, const struct cs_stats *s)
{
	t->queued += s->queued;
	t->skipped += s->skipped;
	t->sent += s->sent;
	t->resent += s->resent;
	t->acked += s->acked;
	t->rejected += s->rejected;
	t->rejected_expected += s->rejected_expected;
	t->retried += s->retried;
	t->reconnects += s->reconnects;
	for (int r = 0; r < CS_REASONS; r++)
		t->by_reason[r] += s->by_reason[r];
}

int
csession_run_all(struct csession **v, size_t n, const char *label)
{
	struct pollfd *pfd = calloc(n ? n : 1, sizeof *pfd);
	struct progress pr;
	int64_t start = time_mono_ms(), now;
	int rc = 0;

	if (pfd == NULL)
		return -1;
	progress_init(&pr);
	for (;;) {
		struct cs_stats t;
		int timeout = 250, active = 0;

		now = time_mono_ms();
		for (size_t i = 0; i < n; i++) {
			int w = csession_prepare(v[i], &pfd[i], now);

			if (csession_state(v[i]) == CS_STREAMING ||
			    csession_state(v[i]) == CS_BACKOFF)
				active++;
			if (w >= 0 && w < timeout)
				timeout = w;
		}
		memset(&t, 0, sizeof t);
		for (size_t i = 0; i < n; i++)
			add_stats(&t, csession_stats(v[i]));
		double secs = (double)(now - start) / 1000.0;
		progress_show(&pr, !active, "%s: %llu/%llu sent, %llu acked, %llu rejected, "
		    "%llu resent, %llu reconnects, %.0f/s", label,
		    (unsigned long long)t.sent, (unsigned long long)(t.queued),
		    (unsigned long long)t.acked, (unsigned long long)t.rejected,
		    (unsigned long long)t.resent, (unsigned long long)t.reconnects,
		    secs > 0 ? (double)t.acked / secs : 0.0);
		if (!active)
			break;
		poll(pfd, (nfds_t)n, timeout);
		now = time_mono_ms();
		for (size_t i = 0; i < n; i++)
			csession_service(v[i], pfd[i].revents, now);
	}
	progress_done(&pr);
	for (size_t i = 0; i < n; i++)
		if (csession_state(v[i]) != CS_DONE)
			rc = -1;
	free(pfd);
	return rc;
}

static void
summary_line(FILE *out, const char *who, const struct cs_stats *s)
{
	fprintf(out, "%-8s %9llu %9llu %9llu %9llu %9llu %9llu %10llu\n", who,
	    (unsigned long long)s->sent, (unsigned long long)s->acked,
	    (unsigned long long)s->rejected, (unsigned long long)s->resent,
	    (unsigned long long)s->retried, (unsigned long long)s->skipped,
	    (unsigned long long)s->reconnects);
}

void
csession_summary(FILE *out, struct csession **v, size_t n, int64_t elapsed_ms)
{
	struct cs_stats t;
	double secs = (double)elapsed_ms / 1000.0;

	memset(&t, 0, sizeof t);
	fprintf(out, "%-8s %9s %9s %9s %9s %9s %9s %10s\n", "carrier", "sent", "acked",
	    "rejected", "resent", "retried", "skipped", "reconnects");
	for (size_t i = 0; i < n; i++) {
		const struct cs_stats *s = csession_stats(v[i]);

		summary_line(out, csession_carrier(v[i]), s);
		add_stats(&t, s);
	}
	if (n > 1)
		summary_line(out, "total", &t);
	for (int r = 0; r < CS_REASONS; r++)
		if (t.by_reason[r] > 0)
			fprintf(out, "rejected %s: %llu\n",
			    reject_reason_name((Corridor__RejectReason)r),
			    (unsigned long long)t.by_reason[r]);
	if (t.rejected_expected > 0)
		fprintf(out, "rejections of deliberately bad updates: %llu of %llu\n",
		    (unsigned long long)t.rejected_expected, (unsigned long long)t.rejected);
	fprintf(out, "elapsed %.2f s, %.0f updates/s acknowledged\n", secs,
	    secs > 0 ? (double)t.acked / secs : 0.0);
	for (size_t i = 0; i < n; i++)
		if (csession_state(v[i]) == CS_FAILED)
			fprintf(out, "%s: FAILED: %s\n", csession_carrier(v[i]),
			    csession_error(v[i]));
}
