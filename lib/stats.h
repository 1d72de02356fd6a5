/* Summaries of transit and dwell durations: n, min, mean, nearest-rank
 * percentiles, max. Exact over the values given. */
#ifndef CORRIDOR_STATS_H
#define CORRIDOR_STATS_H

#include <stddef.h>
#include <stdint.h>

struct duration_summary {
	size_t n;
	int64_t min, max, p50, p90, p95;
	double mean;
};

/* The value at rank ceil(pct/100 * n) of sorted[0..n), n > 0, 0 < pct <= 100. */
int64_t stats_percentile(const int64_t *sorted, size_t n, unsigned pct);
/* Sorts values in place and summarises them; all zero when n == 0. */
void stats_summarize(int64_t *values, size_t n, struct duration_summary *s);

#endif
