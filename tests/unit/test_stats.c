/*
 * Duration summaries (lib/stats.c): nearest-rank percentiles, checked
 * against values worked out by hand.
 */
#include "unit.h"

#include "stats.h"

static void
test_percentile_nearest_rank(void **state)
{
	int64_t v[] = { 10, 20, 30, 40, 50, 60, 70, 80, 90, 100 };

	(void)state;
	/* rank = ceil(p/100 * n) */
	assert_int_equal(stats_percentile(v, 10, 50), 50);
	assert_int_equal(stats_percentile(v, 10, 90), 90);
	assert_int_equal(stats_percentile(v, 10, 95), 100);
	assert_int_equal(stats_percentile(v, 10, 1), 10);
	assert_int_equal(stats_percentile(v, 10, 100), 100);
	assert_int_equal(stats_percentile(v, 1, 50), 10);
	/* n = 3: p50 is rank 2, p90 rank 3 */
	assert_int_equal(stats_percentile(v, 3, 50), 20);
	assert_int_equal(stats_percentile(v, 3, 90), 30);
}

static void
test_summarize_sorts(void **state)
{
	int64_t v[] = { 7, 1, 5, 3, 9, 2 };
	struct duration_summary s;

	(void)state;
	stats_summarize(v, 6, &s);
	assert_int_equal(s.n, 6);
	assert_int_equal(s.min, 1);
	assert_int_equal(s.max, 9);
	assert_int_equal(s.p50, 3);	/* rank 3 of 1 2 3 5 7 9 */
	assert_int_equal(s.p90, 9);	/* rank ceil(5.4) = 6 */
	assert_true(s.mean > 4.49 && s.mean < 4.51);
}

static void
test_summarize_empty_and_large(void **state)
{
	struct duration_summary s;
	int64_t big[] = { INT64_C(4000000000000), INT64_C(4000000000002) };

	(void)state;
	stats_summarize(NULL, 0, &s);
	assert_int_equal(s.n, 0);
	assert_int_equal(s.max, 0);
	stats_summarize(big, 2, &s);
	assert_true(s.mean == 4000000000001.0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_percentile_nearest_rank),
		cmocka_unit_test(test_summarize_sorts),
		cmocka_unit_test(test_summarize_empty_and_large),
	};

	return UNIT_RUN(tests);
}
