/*
 * Mergeable duration histograms with a bounded relative error.
 *
 * Bucket i >= 1 holds durations x (in ms) with GAMMA^(i-1) < x <= GAMMA^i,
 * bucket 0 holds x <= 1 ms. GAMMA = 1.02, so a bucket is reported as the
 * value 2 * GAMMA^i / (GAMMA + 1), within (GAMMA - 1) / (GAMMA + 1) < 0.99%
 * of every duration it holds (the "DDSketch" bound). Histograms of hours,
 * legs or carriers merge by adding counts, so a percentile over any window
 * comes from the hourly rollups with that same bound on its relative error.
 * Durations up to HIST_MAX_MS (over 3 years) are kept; longer ones land in
 * the last bucket.
 */
#ifndef CORRIDOR_HISTOGRAM_H
#define CORRIDOR_HISTOGRAM_H

#include <stddef.h>
#include <stdint.h>

#define HIST_GAMMA 1.02
#define HIST_BUCKETS 1400	/* GAMMA^1399 ms is about 3.6 years */
#define HIST_MAX_MS 100000000000LL

/* Dense counts, as a query merges them. */
struct histogram {
	int64_t count[HIST_BUCKETS];
	int64_t n;
};

int hist_bucket(int64_t ms);
/* The value a bucket stands for, in ms. */
double hist_bucket_value(int bucket);
/* The durations bucket i holds: (lower, upper] in ms. */
double hist_bucket_lower(int bucket);
double hist_bucket_upper(int bucket);

void hist_clear(struct histogram *h);
void hist_add(struct histogram *h, int64_t ms, int64_t times);
/* The value of the nearest-rank percentile pct (0 < pct <= 100); 0 when empty. */
double hist_percentile(const struct histogram *h, double pct);

/*
 * Stored form: a sequence of (bucket, count) pairs, each a little-endian
 * uint16 bucket and int32 count, buckets ascending, no zero counts.
 * hist_encode returns the bytes written (at most HIST_BLOB_MAX).
 * hist_merge_blob adds a stored histogram into h times sign (+1/-1);
 * it returns -1 when the blob is malformed (h is then unchanged).
 */
#define HIST_PAIR_BYTES 6
#define HIST_BLOB_MAX (HIST_BUCKETS * HIST_PAIR_BYTES)
size_t hist_encode(const int64_t *count, unsigned char *out);
int hist_merge_blob(int64_t *count, const void *blob, size_t len, int sign);

#endif
