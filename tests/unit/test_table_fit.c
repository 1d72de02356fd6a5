/*
 * Tables fitted to a width (client/query/table_fit.c): no line is ever wider than
 * asked, columns go in the command's documented order and are named in a
 * footnote, numbers are never cut, and the narrowest widths still show every
 * value (one block per row); $COLUMNS sets the width.
 */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>

#include "qresult.h"
#include "table_fit.h"

static const char *const stats_cols[] = { "leg", "direction", "n", "min_h", "mean_h", "p50_h",
    "p90_h", "p95_h", "max_h", "teu", "containers", "tonnes", "on_time_pct" };
static const char *const stats_rows[][13] = {
	{ "KZ-RAIL-ALT-AKT", "*", "1862", "92.20", "127.04", "124.48", "143.76", "188.34",
	    "206.77", "2992", "1862", "30717.646", "42.3" },
	{ "CASP-AKT-ALT", "W", "51", "21.24", "32.09", "30.80", "39.11", "41.48", "59.60", "3300",
	    "2051", "33788.498", "" },
};

static void
make_result(struct qresult *r, const char *const *cols, size_t ncols,
    const char *const (*rows)[13], size_t nrows)
{
	memset(r, 0, sizeof *r);
	r->ok = 1;
	r->ncols = ncols;
	r->cols = calloc(ncols, sizeof *r->cols);
	r->rows = calloc(nrows, sizeof *r->rows);
	assert_non_null(r->cols);
	assert_non_null(r->rows);
	for (size_t c = 0; c < ncols; c++)
		r->cols[c] = strdup(cols[c]);
	for (size_t i = 0; i < nrows; i++) {
		r->rows[i] = calloc(ncols, sizeof **r->rows);
		assert_non_null(r->rows[i]);
		for (size_t c = 0; c < ncols; c++)
			r->rows[i][c] = strdup(rows[i][c]);
	}
	r->nrows = r->rows_cap = nrows;
}

static void
free_result(struct qresult *r)
{
	for (size_t i = 0; i < r->nrows; i++) {
		for (size_t c = 0; c < r->ncols; c++)
			free(r->rows[i][c]);
		free(r->rows[i]);
	}
	for (size_t c = 0; c < r->ncols; c++)
		free(r->cols[c]);
	free(r->rows);
	free(r->cols);
}

/* The table at width, in a new string. */
static char *
render_at(const struct qresult *r, size_t width, const char *command)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(render_table_fit(r, width, command ? fit_drop_order(command) : NULL, f),
	    0);
	fclose(f);
	return buf;
}

static size_t
widest_line(const char *s)
{
	size_t best = 0;

	while (*s) {
		size_t len = strcspn(s, "\n");
		char line[4096];

		snprintf(line, sizeof line, "%.*s", (int)len, s);
		if (text_width(line) > best)
			best = text_width(line);
		s += len + (s[len] == '\n');
	}
	return best;
}

static void
test_never_wider_than_asked(void **state)
{
	struct qresult r;

	(void)state;
	make_result(&r, stats_cols, 13, stats_rows, 2);
	for (size_t w = FIT_MIN_WIDTH; w <= 140; w++) {
		char *out = render_at(&r, w, "STATS");

		if (widest_line(out) > w)
			fail_msg("width %zu: a line of %zu:\n%s", w, widest_line(out), out);
		/* the figures people ask for first are never cut */
		if (w >= 40) {
			assert_non_null(strstr(out, "124.48"));
			assert_non_null(strstr(out, "143.76"));
			assert_non_null(strstr(out, "1862"));
		}
		free(out);
	}
	free_result(&r);
}

static void
test_drop_order_and_footnote(void **state)
{
	struct qresult r;
	char *out;

	(void)state;
	make_result(&r, stats_cols, 13, stats_rows, 2);
	out = render_at(&r, 0, "STATS");	/* any width: everything, no footnote */
	assert_non_null(strstr(out, "on_time_pct"));
	assert_null(strstr(out, "hidden"));
	free(out);
	/* 80 columns: the first five of STATS' list go, named in column order */
	out = render_at(&r, 80, "STATS");
	assert_null(strstr(out, "30717.646"));
	assert_non_null(strstr(out,
	    "(hidden to fit 80 columns: min_h mean_h p95_h containers tonnes)"));
	assert_non_null(strstr(out, "p90_h"));
	assert_non_null(strstr(out, "max_h"));
	assert_non_null(strstr(out, "42.3"));
	free(out);
	/* without a command: from the right */
	out = render_at(&r, 80, NULL);
	assert_non_null(strstr(out, "containers tonnes on_time_pct)"));
	assert_non_null(strstr(out, "min_h"));
	free(out);
	free_result(&r);
}

static void
test_narrowest_shows_every_value(void **state)
{
	struct qresult r;
	char *out, *flat, *o;

	(void)state;
	make_result(&r, stats_cols, 13, stats_rows, 2);
	out = render_at(&r, 5, "STATS");	/* taken as FIT_MIN_WIDTH */
	assert_true(widest_line(out) <= FIT_MIN_WIDTH);
	assert_non_null(strstr(out, "-- 2 of 2 --"));
	/* a long value goes on under itself: joined again, nothing is lost */
	flat = strdup(out);
	o = flat;
	for (const char *p = out; *p; p++)
		if (*p != '\n' && *p != ' ')
			*o++ = *p;
	*o = '\0';
	assert_non_null(strstr(flat, "KZ-RAIL-ALT-AKT"));
	assert_non_null(strstr(flat, "30717.646"));
	assert_non_null(strstr(flat, "33788.498"));
	free(flat);
	free(out);
	free_result(&r);
}

static void
test_text_abbreviated_not_numbers(void **state)
{
	static const char *const cols[] = { "leg", "from", "typical_h" };
	static const char *const rows[][13] = {
		{ "KZ-PORT-AKT", "Aktau (rail arrival), a long description", "72" },
	};
	struct qresult r;
	char *out;

	(void)state;
	make_result(&r, cols, 3, rows, 1);
	out = render_at(&r, 40, "NOSUCH");	/* no list: from the right would drop typical_h */
	assert_true(widest_line(out) <= 40);
	free(out);
	out = render_at(&r, 40, "LEGS");	/* LEGS drops from, typical_h stays */
	assert_non_null(strstr(out, "KZ-PORT-AKT"));
	assert_non_null(strstr(out, "72"));
	assert_null(strstr(out, "Aktau"));
	free(out);
	free_result(&r);
}

static void
test_widths(void **state)
{
	(void)state;
	assert_int_equal(text_width("Beyuk-Kesik"), 11);
	assert_int_equal(text_width("B\xc9\x99yük"), 5);	/* "Bəyük" */
	setenv("COLUMNS", "57", 1);
	assert_int_equal(term_width(-1), 57);
	setenv("COLUMNS", "999999", 1);
	assert_int_equal(term_width(-1), FIT_MAX_WIDTH);
	setenv("COLUMNS", "wide", 1);
	assert_int_equal(term_width(-1), 0);	/* not a number, not a terminal */
	unsetenv("COLUMNS");
	assert_int_equal(term_width(-1), 0);
	assert_null(fit_drop_order("PING"));
	assert_non_null(fit_drop_order("stats"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_never_wider_than_asked),
		cmocka_unit_test(test_drop_order_and_footnote),
		cmocka_unit_test(test_narrowest_shows_every_value),
		cmocka_unit_test(test_text_abbreviated_not_numbers),
		cmocka_unit_test(test_widths),
	};

	return UNIT_RUN(tests);
}
