/* Times: corridor keeps Unix milliseconds UTC everywhere and speaks
 * ISO 8601 ("2026-11-27T05:04:10Z", or a bare date) to people. */
#ifndef CORRIDOR_TIMEUTIL_H
#define CORRIDOR_TIMEUTIL_H

#include <stddef.h>
#include <stdint.h>

int64_t time_now_ms(void);
int64_t time_mono_ms(void);
/* Parses "YYYY-MM-DD", "YYYY-MM-DDTHH:MM[:SS[.fff]]Z" or a Unix ms number.
 * Returns 0 or -1. */
int time_parse_iso(const char *s, int64_t *ms);
/* Writes "YYYY-MM-DDTHH:MM:SSZ". */
void time_format_iso(int64_t ms, char *buf, size_t len);

#endif
