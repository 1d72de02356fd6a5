/*
 * Round bin widths and the grouping of fine buckets into bins (see
 * hist_bins.h). Positions are computed with a small epsilon so that an
 * edge such as 0.3 h falls into the bin it starts, despite binary fractions.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hist_bins.h"

#define HBIN_EPS 1e-9

static const double round_widths[] = { 0.01, 0.02, 0.05, 0.1, 0.2, 0.25, 0.5, 1, 2, 3, 4, 6,
    12, 24, 48, 72, 168, 336, 720, 1440, 2880, 4380, 8760 };
#define NROUND (sizeof round_widths / sizeof round_widths[0])

static double
slot(double x, double w)
{
	return floor(x / w + HBIN_EPS);
}

static size_t
bins_needed(double lo, double hi, double w)
{
	double n = slot(hi, w) - slot(lo, w) + 1;

	return n > (double)SIZE_MAX / 2 ? SIZE_MAX / 2 : (size_t)n;
}

double
hbins_round_width(double lo, double hi, double min_width, size_t max_bins)
{
	double w = 0;

	for (size_t i = 0; i < NROUND; i++) {
		w = round_widths[i];
		if (w + HBIN_EPS >= min_width && bins_needed(lo, hi, w) <= max_bins)
			return w;
	}
	/* beyond years: double until it fits */
	while (w < min_width || bins_needed(lo, hi, w) > max_bins)
		w *= 2;
	return w;
}

static double
bucket_mid(const struct hbucket *b)
{
	return (b->lower_h + b->upper_h) / 2;
}

int
hbins_group(const struct hbucket *b, size_t nb, double width_h, struct hbins *out)
{
	double lo = 0, hi = 0, widest = 0;
	int any = 0;

	memset(out, 0, sizeof *out);
	for (size_t i = 0; i < nb; i++) {
		double m = bucket_mid(&b[i]);

		if (b[i].count <= 0)
			continue;
		if (!any || m < lo)
			lo = m;
		if (!any || m > hi)
			hi = m;
		if (b[i].upper_h - b[i].lower_h > widest)
			widest = b[i].upper_h - b[i].lower_h;
		any = 1;
	}
	if (!any)
		return 0;
	if (width_h <= 0)
		width_h = hbins_round_width(lo, hi, widest, HBIN_MAX);
	else if (bins_needed(lo, hi, width_h) > HBIN_LIMIT)
		return -1;
	out->width_h = width_h;
	out->start_h = slot(lo, width_h) * width_h;
	out->n = bins_needed(lo, hi, width_h);
	if ((out->count = calloc(out->n, sizeof *out->count)) == NULL)
		return -1;
	for (size_t i = 0; i < nb; i++) {
		size_t k;

		if (b[i].count <= 0)
			continue;
		k = hbins_index(out, bucket_mid(&b[i]));
		out->count[k] += b[i].count;
		out->total += b[i].count;
		if (out->count[k] > out->max)
			out->max = out->count[k];
	}
	return 0;
}

size_t
hbins_index(const struct hbins *h, double x)
{
	double k = slot(x, h->width_h) - slot(h->start_h + h->width_h / 2, h->width_h);

	if (h->n == 0 || k < 0)
		return 0;
	return k >= (double)h->n ? h->n - 1 : (size_t)k;
}

int
hbins_decimals(const struct hbins *h)
{
	for (int d = 0; d < 2; d++) {
		double scaled = h->width_h * pow(10, d), start = h->start_h * pow(10, d);

		if (fabs(scaled - round(scaled)) < 1e-6 && fabs(start - round(start)) < 1e-6)
			return d;
	}
	return 2;
}

void
hbins_free(struct hbins *h)
{
	free(h->count);
	memset(h, 0, sizeof *h);
}
