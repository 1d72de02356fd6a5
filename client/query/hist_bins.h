/*
 * Grouping the daemon's fine transit-time buckets (HISTOGRAM: lower_h,
 * upper_h, count; each about 2% of its duration wide) into a few bins of a
 * round width in hours, for drawing. A bucket goes whole into the bin that
 * holds its middle, so the bins' counts add up to the buckets' exactly.
 */
#ifndef CORRIDORCTL_HIST_BINS_H
#define CORRIDORCTL_HIST_BINS_H

#include <stddef.h>
#include <stdint.h>

/* A chosen width gives at most this many bins (and, widths being round, at
 * least about 12 unless the data is narrower than a few of its buckets). */
#define HBIN_MAX 30
/* A width asked for (--bin) may give at most this many. */
#define HBIN_LIMIT 500

struct hbucket {
	double lower_h, upper_h;
	int64_t count;
};

struct hbins {
	double start_h, width_h;	/* bin i: [start + i * width, start + (i + 1) * width) */
	size_t n;
	int64_t *count;
	int64_t total, max;
};

/* The smallest round width (0.01, 0.02, 0.05, 0.1, 0.2, 0.25, 0.5, 1, 2, 3, 4,
 * 6, 12, 24, 48, 72, 168 hours, then whole weeks, months and years) that is
 * at least min_width and puts [lo, hi] into at most max_bins bins. */
double hbins_round_width(double lo, double hi, double min_width, size_t max_bins);

/* Groups nb buckets into bins of width_h hours, or (width_h 0) of the round
 * width for HBIN_MAX bins that is no narrower than the widest bucket.
 * 0; -1 when width_h would need more than HBIN_LIMIT bins or memory runs out.
 * No buckets (or no counts) give n = 0. */
int hbins_group(const struct hbucket *b, size_t nb, double width_h, struct hbins *out);

/* The bin that holds x hours (the first or last one for x outside). */
size_t hbins_index(const struct hbins *h, double x);

/* Decimals that show the bin edges exactly (0, 1 or 2). */
int hbins_decimals(const struct hbins *h);

void hbins_free(struct hbins *h);

#endif
