/* Times: corridor keeps Unix milliseconds UTC everywhere and speaks
 * ISO 8601 ("2026-11-27T05:04:10Z", or a bare date) to people. */
#ifndef CORRIDOR_TIMEUTIL_H
#define CORRIDOR_TIMEUTIL_H

#include <stddef.h>
#include <stdint.h>

int64_t time_now_ms(void);
int64_t time_mono_ms(void);
enum time_parse_result {
	TIME_PARSED = 0,
	TIME_MALFORMED = -1,	/* none of the forms */
	TIME_OUT_OF_RANGE = -2,	/* a number beyond 64 bits, a year beyond 9999 */
};
/* Parses "YYYY-MM-DD", "YYYY-MM-DDTHH:MM[:SS[.fff]]Z" (1970..9999) or a Unix
 * ms number (ten or more characters, digits after an optional '-'). */
enum time_parse_result time_parse(const char *s, int64_t *ms);
/* time_parse(), as 0 or -1. */
int time_parse_iso(const char *s, int64_t *ms);
/* Writes "YYYY-MM-DDTHH:MM:SSZ". */
void time_format_iso(int64_t ms, char *buf, size_t len);

#endif
