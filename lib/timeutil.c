/* Time parsing and formatting; see timeutil.h. */
#include "timeutil.h"

#include <ctype.h>
#include <errno.h>
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

/* Exactly n ASCII digits at s. sscanf's %d would also take a sign, a space
 * or fewer digits ("2026-06-01T12:-0Z"), which the documented forms do not. */
static int
fixed_digits(const char *s, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

/* "YYYYY-MM...": a date whose year has more than four digits, past 9999 */
static int
long_year(const char *s)
{
	size_t n = strspn(s, "0123456789");

	return n > 4 && s[n] == '-' && isdigit((unsigned char)s[n + 1]) &&
	    isdigit((unsigned char)s[n + 2]) && s[n + 3] == '-';
}

enum time_parse_result
time_parse(const char *s, int64_t *ms)
{
	struct tm tm;
	int y, mo, d, h = 0, mi = 0, sec = 0, frac = 0;
	size_t len = strlen(s);

	if (len > 9 && all_digits(s)) {
		long long v;

		/* strtoll() clamps what does not fit to LLONG_MIN/MAX: refuse it */
		errno = 0;
		v = strtoll(s, NULL, 10);
		if (errno == ERANGE)
			return TIME_OUT_OF_RANGE;
		*ms = v;
		return TIME_PARSED;
	}
	if (long_year(s))
		return TIME_OUT_OF_RANGE;
	/* YYYY-MM-DD, then optionally THH:MM, :SS and .fff, each closed by Z */
	if (len != 10 && len != 17 && len != 20 && len != 24)
		return TIME_MALFORMED;
	if (fixed_digits(s, 4, &y) == -1 || s[4] != '-' || fixed_digits(s + 5, 2, &mo) == -1 ||
	    s[7] != '-' || fixed_digits(s + 8, 2, &d) == -1)
		return TIME_MALFORMED;
	if (len > 10) {
		if (s[10] != 'T' || fixed_digits(s + 11, 2, &h) == -1 || s[13] != ':' ||
		    fixed_digits(s + 14, 2, &mi) == -1 || s[len - 1] != 'Z')
			return TIME_MALFORMED;
		if (len >= 20 && (s[16] != ':' || fixed_digits(s + 17, 2, &sec) == -1))
			return TIME_MALFORMED;
		if (len == 24 && (s[19] != '.' || fixed_digits(s + 20, 3, &frac) == -1))
			return TIME_MALFORMED;
	}
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60 || y < 1970)
		return TIME_MALFORMED;
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
			return TIME_MALFORMED;
		*ms = (int64_t)t * 1000 + frac;
	}
	return TIME_PARSED;
}

int
time_parse_iso(const char *s, int64_t *ms)
{
	return time_parse(s, ms) == TIME_PARSED ? 0 : -1;
}

void
time_format_iso(int64_t ms, char *buf, size_t len)
{
	time_t t = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}
