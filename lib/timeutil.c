/* Time parsing and formatting; see timeutil.h. */
#include "timeutil.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int64_t
time_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
time_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
all_digits(const char *s)
{
	if (*s == '-')
		s++;
	if (*s == '\0')
		return 0;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return 0;
	return 1;
}

int
time_parse_iso(const char *s, int64_t *ms)
{
	struct tm tm;
	int y, mo, d, h = 0, mi = 0, sec = 0, frac = 0, n = 0;
	size_t len = strlen(s);

	if (len > 9 && all_digits(s)) {
		*ms = strtoll(s, NULL, 10);
		return 0;
	}
	if (len == 10) {
		if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || n != 10)
			return -1;
	} else if (len >= 17 && s[len - 1] == 'Z') {
		int got = sscanf(s, "%4d-%2d-%2dT%2d:%2d%n", &y, &mo, &d, &h, &mi, &n);

		if (got != 5)
			return -1;
		if (s[n] == ':') {
			int m2 = 0;

			if (sscanf(s + n, ":%2d%n", &sec, &m2) != 1)
				return -1;
			n += m2;
			if (s[n] == '.') {
				int m3 = 0;

				if (sscanf(s + n, ".%3d%n", &frac, &m3) != 1 || m3 != 4)
					return -1;
				n += m3;
			}
		}
		if ((size_t)n != len - 1)
			return -1;
	} else
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60 ||
	    y < 1970 || y > 9999 || h < 0 || mi < 0 || sec < 0 || frac < 0)
		return -1;
	memset(&tm, 0, sizeof tm);
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	{
		time_t t = timegm(&tm);
		struct tm back;

		/* timegm() rolls 2026-02-31 into March; a real date round-trips */
		gmtime_r(&t, &back);
		if (back.tm_mday != d || back.tm_mon != mo - 1)
			return -1;
		*ms = (int64_t)t * 1000 + frac;
	}
	return 0;
}

void
time_format_iso(int64_t ms, char *buf, size_t len)
{
	time_t t = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}
