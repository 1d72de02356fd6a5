/* Mergeable duration histograms; see histogram.h. */
#include "histogram.h"

#include <math.h>
#include <stdatomic.h>
#include <string.h>

/* Computed once, lazily, by whichever thread comes first (writer threads
 * and query threads both bucket): relaxed atomics, since every thread
 * stores the same value. */
static _Atomic double log_gamma;

static double
lg(void)
{
	double g = atomic_load_explicit(&log_gamma, memory_order_relaxed);

	if (g == 0) {
		g = log(HIST_GAMMA);
		atomic_store_explicit(&log_gamma, g, memory_order_relaxed);
	}
	return g;
}

int
hist_bucket(int64_t ms)
{
	double b;

	if (ms <= 1)
		return 0;
	if (ms > HIST_MAX_MS)
		ms = HIST_MAX_MS;
	b = ceil(log((double)ms) / lg());
	/* guard against rounding at an exact power of GAMMA */
	if (b > 0 && pow(HIST_GAMMA, b - 1) >= (double)ms)
		b -= 1;
	return b >= HIST_BUCKETS ? HIST_BUCKETS - 1 : (int)b;
}

double
hist_bucket_lower(int bucket)
{
	return bucket == 0 ? 0 : pow(HIST_GAMMA, bucket - 1);
}

double
hist_bucket_upper(int bucket)
{
	return bucket == 0 ? 1 : pow(HIST_GAMMA, bucket);
}

double
hist_bucket_value(int bucket)
{
	if (bucket == 0)
		return 0;
	return 2 * pow(HIST_GAMMA, bucket) / (HIST_GAMMA + 1);
}

void
hist_clear(struct histogram *h)
{
	memset(h, 0, sizeof *h);
}

void
hist_add(struct histogram *h, int64_t ms, int64_t times)
{
	h->count[hist_bucket(ms)] += times;
	h->n += times;
}

double
hist_percentile(const struct histogram *h, double pct)
{
	int64_t rank, seen = 0;

	if (h->n <= 0)
		return 0;
	rank = (int64_t)ceil(pct / 100.0 * (double)h->n);
	if (rank < 1)
		rank = 1;
	for (int i = 0; i < HIST_BUCKETS; i++) {
		seen += h->count[i];
		if (seen >= rank)
			return hist_bucket_value(i);
	}
	return hist_bucket_value(HIST_BUCKETS - 1);
}

size_t
hist_encode(const int64_t *count, unsigned char *out)
{
	size_t len = 0;

	for (int i = 0; i < HIST_BUCKETS; i++) {
		uint32_t c;

		if (count[i] == 0)
			continue;
		c = (uint32_t)(int32_t)count[i];
		out[len++] = (unsigned char)(i & 0xff);
		out[len++] = (unsigned char)(i >> 8);
		for (int k = 0; k < 4; k++)
			out[len++] = (unsigned char)(c >> (8 * k));
	}
	return len;
}

int
hist_merge_blob(int64_t *count, const void *blob, size_t len, int sign)
{
	const unsigned char *p = blob;

	if (len % HIST_PAIR_BYTES != 0)
		return -1;
	for (size_t off = 0; off < len; off += HIST_PAIR_BYTES) {
		unsigned bucket = p[off] | (unsigned)p[off + 1] << 8;

		if (bucket >= HIST_BUCKETS)
			return -1;
	}
	for (size_t off = 0; off < len; off += HIST_PAIR_BYTES) {
		unsigned bucket = p[off] | (unsigned)p[off + 1] << 8;
		uint32_t c = 0;

		for (int k = 0; k < 4; k++)
			c |= (uint32_t)p[off + 2 + k] << (8 * k);
		count[bucket] += sign * (int64_t)(int32_t)c;
	}
	return 0;
}
