/* ISO 6346 container numbers: owner code (3 letters), category (U, J or Z),
 * 6-digit serial, check digit. */
#ifndef CORRIDOR_ISO6346_H
#define CORRIDOR_ISO6346_H

#include <stdbool.h>

/* The check digit (0-9) for the first 10 characters, or -1 if they are not
 * 4 capital letters followed by 6 digits. */
int iso6346_check_digit(const char *first10);

/* True when s is exactly 11 characters with the right shape and check digit. */
bool iso6346_valid(const char *s);

/* TEU of an ISO size-type code such as "22G1" or "45G1": 20 ft = 1, 40/45 ft = 2.
 * 0 when the length code is unknown. */
unsigned iso6346_teu(const char *iso_type);

#endif
