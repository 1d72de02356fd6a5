/* Duration summaries; see stats.h. */
#include "stats.h"

#include <stdlib.h>
#include <string.h>

int64_t
stats_percentile(const int64_t *sorted, size_t n, unsigned pct)
{
	size_t rank = (pct * n + 99) / 100;	/* ceil(pct * n / 100) in integers */

	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return sorted[rank - 1];
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

void
stats_summarize(int64_t *values, size_t n, struct duration_summary *s)
{
	long double sum = 0;

	memset(s, 0, sizeof *s);
	if (n == 0)
		return;
	qsort(values, n, sizeof *values, cmp_i64);
	for (size_t i = 0; i < n; i++)
		sum += values[i];
	s->n = n;
	s->min = values[0];
	s->max = values[n - 1];
	s->mean = (double)(sum / n);
	s->p50 = stats_percentile(values, n, 50);
	s->p90 = stats_percentile(values, n, 90);
	s->p95 = stats_percentile(values, n, 95);
}
