/* Latency samples; see bench_samples.h. */
#include "bench_samples.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

void
samples_add(struct samples *s, double ms, size_t rows)
{
	/* out of memory loses the sample, not the run */
	if (ctl_grow(&s->ms, &s->cap, s->n, sizeof *s->ms) == -1)
		return;
	s->ms[s->n++] = ms;
	s->rows += rows;
}

void
samples_merge(struct samples *into, const struct samples *from)
{
	for (size_t i = 0; i < from->n; i++)
		samples_add(into, from->ms[i], 0);
	into->rows += from->rows;
	into->errors += from->errors;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

void
samples_sort(struct samples *s)
{
	if (s->n > 0)
		qsort(s->ms, s->n, sizeof *s->ms, cmp_double);
}

double
samples_pct(const struct samples *s, double p)
{
	size_t rank;

	if (s->n == 0)
		return 0;
	rank = (size_t)ceil(p / 100.0 * (double)s->n);
	if (rank < 1)
		rank = 1;
	return s->ms[(rank > s->n ? s->n : rank) - 1];
}

double
samples_mean(const struct samples *s)
{
	double sum = 0;

	for (size_t i = 0; i < s->n; i++)
		sum += s->ms[i];
	return s->n ? sum / (double)s->n : 0;
}

void
samples_free(struct samples *s)
{
	free(s->ms);
	memset(s, 0, sizeof *s);
}
