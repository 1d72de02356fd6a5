/*
 * Tables that fit a terminal: the width to fit (COLUMNS, the terminal's own,
 * or none when the output is not a terminal), and an aligned table that drops
 * the least useful columns first (a documented order per query command),
 * then abbreviates text, and as a last resort shows one record per block.
 * JSON and CSV are never narrowed.
 */
#ifndef CORRIDORCTL_TABLE_FIT_H
#define CORRIDORCTL_TABLE_FIT_H

#include <stdio.h>

#include "qresult.h"

/* Narrower widths than this are taken as this: nothing useful fits below. */
#define FIT_MIN_WIDTH 20
/* Text columns are not abbreviated below this many characters. */
#define FIT_ABBREV_MIN 6
/* Widths above this (a bogus COLUMNS) are taken as this. */
#define FIT_MAX_WIDTH 4096

/* True when field s is a whole number (*is_int) or a decimal number. */
int qfield_number(const char *s, int *is_int);

/* The width to fit output on fd into: $COLUMNS when set to a number, else the
 * terminal's width when fd is a terminal, else 0 (do not narrow). */
size_t term_width(int fd);

/* The words of text wrapped into lines of at most width characters (0: one
 * line). */
void fit_wrapped(FILE *out, const char *text, size_t width);

/* Characters a UTF-8 string takes on a terminal (one per code point). */
size_t text_width(const char *s);

/* The columns of a query command's answer (the request's first word, any
 * case) in the order they are dropped when a table is too wide; NULL when the
 * command has no list (then columns go from the right, never the first). */
const char *const *fit_drop_order(const char *command);

/* Writes r (an OK answer) as an aligned table at most width characters wide
 * (0: any width), dropping columns in the order drop (NULL: from the right).
 * 0 or -1. */
int render_table_fit(const struct qresult *r, size_t width, const char *const *drop,
    FILE *out);

#endif
