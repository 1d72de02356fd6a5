/* ISO 6346 check digits and size-type TEU; see iso6346.h. */
#include "iso6346.h"

#include <string.h>

static int
letter_value(char c)
{
	/* A=10 upward, skipping the multiples of 11 (so B=12, L=23, V=34). */
	int v = 10;

	for (char l = 'A'; l < c; l++) {
		v++;
		if (v % 11 == 0)
			v++;
	}
	return v;
}

int
iso6346_check_digit(const char *first10)
{
	unsigned sum = 0;

	for (int i = 0; i < 10; i++) {
		char c = first10[i];
		int v;

		if (i < 4) {
			if (c < 'A' || c > 'Z')
				return -1;
			v = letter_value(c);
		} else {
			if (c < '0' || c > '9')
				return -1;
			v = c - '0';
		}
		sum += (unsigned)v << i;
	}
	return (int)(sum % 11 % 10);
}

bool
iso6346_valid(const char *s)
{
	int cd;

	if (s == NULL || strlen(s) != 11)
		return false;
	if (s[3] != 'U' && s[3] != 'J' && s[3] != 'Z')
		return false;
	cd = iso6346_check_digit(s);
	return cd >= 0 && s[10] == '0' + cd;
}

unsigned
iso6346_teu(const char *iso_type)
{
	if (iso_type == NULL || strlen(iso_type) != 4)
		return 0;
	switch (iso_type[0]) {
	case '2':
		return 1;
	case '4':
	case 'L':
	case 'M':
		return 2;
	default:
		return 0;
	}
}
