/*
 * Latency samples of the query benchmark: collected per connection, merged,
 * sorted, and read as nearest-rank percentiles.
 */
#ifndef CORRIDOR_BENCH_SAMPLES_H
#define CORRIDOR_BENCH_SAMPLES_H

#include <stddef.h>

struct samples {
	double *ms;
	size_t n, cap;
	size_t errors;		/* ERR answers: not sampled */
	size_t rows;		/* rows of the sampled answers */
};

void samples_add(struct samples *s, double ms, size_t rows);
void samples_merge(struct samples *into, const struct samples *from);
void samples_sort(struct samples *s);
/* Nearest rank: the value at rank ceil(p/100 * n) of the sorted samples
 * (samples_sort() first); 0 without samples. p = 100 is the maximum. */
double samples_pct(const struct samples *s, double p);
double samples_mean(const struct samples *s);
void samples_free(struct samples *s);

#endif
