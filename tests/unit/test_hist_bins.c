/*
 * Grouping the daemon's fine buckets into round bins (client/query/hist_bins.c):
 * widths are round and never narrower than a bucket, at most HBIN_MAX bins,
 * every count lands in the bin holding its bucket's middle, and nothing is
 * lost (bins add up to the buckets), with buckets made by lib/histogram.c.
 */
#include "unit.h"

#include <math.h>
#include <stdlib.h>

#include "hist_bins.h"
#include "histogram.h"

#define MS_PER_H 3600000.0

static void
test_round_width(void **state)
{
	(void)state;
	/* 90..137 h: 2 h would do for 30 bins, but buckets there are 2.7 h wide */
	assert_true(hbins_round_width(90, 137, 2.7, HBIN_MAX) == 3);
	assert_true(hbins_round_width(90, 137, 0, HBIN_MAX) == 2);
	assert_true(hbins_round_width(0.1, 0.5, 0, HBIN_MAX) == 0.02);
	assert_true(hbins_round_width(1, 3000, 0, HBIN_MAX) == 168);
	assert_true(hbins_round_width(5, 5, 0, HBIN_MAX) == 0.01);
	/* beyond a year: doubled years */
	assert_true(hbins_round_width(0, 8760.0 * 100, 0, HBIN_MAX) == 8760.0 * 4);
}

static void
test_group_by_middle(void **state)
{
	const struct hbucket b[] = {
		{ 99.0, 101.0, 3 },	/* middle 100 */
		{ 101.0, 103.0, 0 },	/* empty: ignored */
		{ 110.0, 112.0, 2 },	/* middle 111 */
		{ 119.5, 122.5, 5 },	/* middle 121 */
	};
	struct hbins h;

	(void)state;
	assert_int_equal(hbins_group(b, 4, 10, &h), 0);
	assert_true(h.start_h == 100 && h.width_h == 10);
	assert_int_equal(h.n, 3);
	assert_int_equal(h.count[0], 3);
	assert_int_equal(h.count[1], 2);
	assert_int_equal(h.count[2], 5);
	assert_int_equal(h.total, 10);
	assert_int_equal(h.max, 5);
	assert_int_equal(hbins_index(&h, 109.999), 0);
	assert_int_equal(hbins_index(&h, 110), 1);
	assert_int_equal(hbins_index(&h, 5), 0);	/* outside: the edge bins */
	assert_int_equal(hbins_index(&h, 500), 2);
	assert_int_equal(hbins_decimals(&h), 0);
	hbins_free(&h);

	/* a width asked for that needs too many bins */
	assert_int_equal(hbins_group(b, 4, 0.01, &h), -1);
	/* nothing to group */
	assert_int_equal(hbins_group(b + 1, 1, 0, &h), 0);
	assert_int_equal(h.n, 0);
	assert_int_equal(h.total, 0);
	hbins_free(&h);
}

static void
test_edges_of_binary_fractions(void **state)
{
	/* 0.3 h is not exact in binary: it must still start the bin [0.3, 0.4) */
	const struct hbucket b[] = { { 0.29, 0.31, 1 }, { 0.09, 0.11, 1 } };
	struct hbins h;

	(void)state;
	assert_int_equal(hbins_group(b, 2, 0.1, &h), 0);
	assert_true(fabs(h.start_h - 0.1) < 1e-9);
	assert_int_equal(h.n, 3);
	assert_int_equal(h.count[0], 1);
	assert_int_equal(h.count[1], 0);
	assert_int_equal(h.count[2], 1);
	assert_int_equal(hbins_decimals(&h), 1);
	hbins_free(&h);
}

/* Durations of many shapes through lib/histogram.c's buckets, as HISTOGRAM
 * sends them (hours, two decimals). */
static void
test_real_buckets(void **state)
{
	static const double centre[] = { 0.2, 3, 24, 120, 700, 5000 };
	struct histogram *hist = malloc(sizeof *hist);

	(void)state;
	assert_non_null(hist);
	srand(7);
	for (size_t s = 0; s < sizeof centre / sizeof centre[0]; s++) {
		struct hbucket *b = calloc(HIST_BUCKETS, sizeof *b);
		size_t nb = 0;
		int64_t n = 0;
		double widest = 0;
		struct hbins h;

		assert_non_null(b);
		hist_clear(hist);
		for (int i = 0; i < 2000; i++) {
			double spread = (double)rand() / RAND_MAX * 1.5 + 0.25;	/* x0.25 .. x1.75 */

			hist_add(hist, (int64_t)(centre[s] * spread * MS_PER_H), 1);
			n++;
		}
		for (int k = 0; k < HIST_BUCKETS; k++)
			if (hist->count[k] > 0) {
				b[nb].lower_h = round(hist_bucket_lower(k) / MS_PER_H * 100) / 100;
				b[nb].upper_h = round(hist_bucket_upper(k) / MS_PER_H * 100) / 100;
				b[nb].count = hist->count[k];
				if (b[nb].upper_h - b[nb].lower_h > widest)
					widest = b[nb].upper_h - b[nb].lower_h;
				nb++;
			}
		assert_int_equal(hbins_group(b, nb, 0, &h), 0);
		assert_int_equal(h.total, n);
		assert_true(h.n >= 2 && h.n <= HBIN_MAX);
		assert_true(h.width_h + 1e-9 >= widest);
		for (size_t k = 0; k < nb; k++) {
			double mid = (b[k].lower_h + b[k].upper_h) / 2;
			size_t i = hbins_index(&h, mid);

			assert_true(mid + 1e-6 >= h.start_h + h.width_h * (double)i);
			assert_true(mid < h.start_h + h.width_h * (double)(i + 1) + 1e-6);
		}
		hbins_free(&h);
		free(b);
	}
	free(hist);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_width),
		cmocka_unit_test(test_group_by_middle),
		cmocka_unit_test(test_edges_of_binary_fractions),
		cmocka_unit_test(test_real_buckets),
	};

	return UNIT_RUN(tests);
}
