/*
 * Mergeable histograms (lib/histogram.c): every duration is reported within
 * 1% of itself, the stored form round-trips and merges, and percentiles
 * over the merged counts stay within 1% of the exact nearest-rank ones.
 */
#include "unit.h"

#include <math.h>
#include <stdlib.h>

#include "histogram.h"
#include "stats.h"

static void
test_bucket_error_bound(void **state)
{
	(void)state;
	for (int64_t ms = 2; ms < HIST_MAX_MS; ms = ms * 1.003 + 1) {
		int b = hist_bucket(ms);
		double v = hist_bucket_value(b);

		assert_true(b > 0 && b < HIST_BUCKETS);
		assert_true(hist_bucket_lower(b) < (double)ms + 1e-6);
		assert_true((double)ms <= hist_bucket_upper(b) * (1 + 1e-12));
		assert_true(fabs(v - (double)ms) / (double)ms < 0.01);
	}
	assert_int_equal(hist_bucket(0), 0);
	assert_int_equal(hist_bucket(-5), 0);
	assert_int_equal(hist_bucket(INT64_MAX), hist_bucket(HIST_MAX_MS));
}

static void
test_encode_merge_round_trip(void **state)
{
	static struct histogram h, back;
	static unsigned char blob[HIST_BLOB_MAX];
	size_t len;

	(void)state;
	hist_clear(&h);
	hist_clear(&back);
	hist_add(&h, 3600000, 5);
	hist_add(&h, 7200000, 2);
	hist_add(&h, 1, 1);
	len = hist_encode(h.count, blob);
	assert_int_equal(len, 3 * HIST_PAIR_BYTES);
	assert_int_equal(hist_merge_blob(back.count, blob, len, 1), 0);
	assert_int_equal(hist_merge_blob(back.count, blob, len, 1), 0);
	assert_int_equal(back.count[hist_bucket(3600000)], 10);
	/* subtracting restores, and a negative delta survives encoding */
	assert_int_equal(hist_merge_blob(back.count, blob, len, -1), 0);
	assert_memory_equal(back.count, h.count, sizeof h.count);
	hist_clear(&back);
	back.count[7] = -3;
	len = hist_encode(back.count, blob);
	hist_clear(&back);
	assert_int_equal(hist_merge_blob(back.count, blob, len, -1), 0);
	assert_int_equal(back.count[7], 3);
}

static void
test_malformed_blob_is_refused(void **state)
{
	static struct histogram h;
	unsigned char bad_len[5] = { 0 };
	unsigned char bad_bucket[6] = { 0xff, 0xff, 1, 0, 0, 0 };

	(void)state;
	hist_clear(&h);
	assert_int_equal(hist_merge_blob(h.count, bad_len, sizeof bad_len, 1), -1);
	assert_int_equal(hist_merge_blob(h.count, bad_bucket, sizeof bad_bucket, 1), -1);
	for (int i = 0; i < HIST_BUCKETS; i++)
		assert_int_equal(h.count[i], 0);
}

static void
test_percentiles_within_one_percent(void **state)
{
	static struct histogram parts[4], merged;
	static int64_t values[20000];
	static unsigned char blob[HIST_BLOB_MAX];
	const unsigned pcts[] = { 1, 10, 50, 90, 95, 99, 100 };

	(void)state;
	srand(42);
	hist_clear(&merged);
	for (int p = 0; p < 4; p++)
		hist_clear(&parts[p]);
	for (size_t i = 0; i < 20000; i++) {
		/* transit times between 1 h and 10 days, skewed like a leg's */
		double u = (double)rand() / RAND_MAX;

		values[i] = (int64_t)(3600000.0 * (1 + 239 * u * u * u));
		hist_add(&parts[i % 4], values[i], 1);
	}
	/* merge the parts as a query merges hourly rollups */
	for (int p = 0; p < 4; p++) {
		size_t len = hist_encode(parts[p].count, blob);

		assert_int_equal(hist_merge_blob(merged.count, blob, len, 1), 0);
		merged.n += parts[p].n;
	}
	assert_int_equal(merged.n, 20000);
	{
		struct duration_summary s;

		stats_summarize(values, 20000, &s);	/* sorts values */
	}
	for (size_t i = 0; i < sizeof pcts / sizeof pcts[0]; i++) {
		double exact = (double)stats_percentile(values, 20000, pcts[i]);
		double approx = hist_percentile(&merged, pcts[i]);

		assert_true(fabs(approx - exact) / exact < 0.01);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bucket_error_bound),
		cmocka_unit_test(test_encode_merge_round_trip),
		cmocka_unit_test(test_malformed_blob_is_refused),
		cmocka_unit_test(test_percentiles_within_one_percent),
	};

	return UNIT_RUN(tests);
}
