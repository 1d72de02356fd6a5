/*
 * corridorctl histogram: a leg's transit (or dwell) times drawn in the
 * terminal. Asks the daemon for the leg's fine buckets (HISTOGRAM), its
 * percentiles (STATS, so p50/p90 are the figures `stats` shows) and its
 * typical time (LEGS); groups the buckets into round bins (hist_bins.c) and
 * draws one horizontal bar per bin, scaled to the width, with the count and
 * marks where p50, p90 and the typical time fall. --json and --csv give the
 * bins instead.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "ctl.h"
#include "ctl_query.h"
#include "hist_bins.h"
#include "qresult.h"
#include "query_cmds.h"
#include "query_filter.h"
#include "table_fit.h"
#include "watch.h"

/* Without a width to fit (not a terminal, no COLUMNS) the drawing takes this. */
#define HIST_DEFAULT_WIDTH 80
/* Below bars of this length the marks give way to the bars. */
#define HIST_MIN_BAR 10

struct hist_job {
	const char *leg;
	struct qfilter f;
	char filter_words[256];		/* "from to direction carrier" of the request */
};

struct hist_view {
	struct hbins bins;
	int64_t n;
	double p50, p90, typical;	/* NAN when unknown */
};

/* The column named name of row i, or NULL. */
static const char *
qcol(const struct qresult *r, size_t i, const char *name)
{
	for (size_t c = 0; c < r->ncols; c++)
		if (strcmp(r->cols[c], name) == 0)
			return i < r->nrows ? r->rows[i][c] : NULL;
	return NULL;
}

static double
qnum(const char *v)
{
	char *end;
	double d;

	if (v == NULL || v[0] == '\0')
		return NAN;
	d = strtod(v, &end);
	return *end == '\0' ? d : NAN;
}

/* Asks the three questions and groups the buckets. 0, or -1 with e filled. */
static int
hist_fetch(struct ctl *c, const struct hist_job *j, struct hist_view *v, struct ctl_error *e)
{
	struct qresult r;
	struct hbucket *b = NULL;
	char line[512];
	int rc = -1;

	v->n = 0;
	v->p50 = v->p90 = v->typical = NAN;
	snprintf(line, sizeof line, "HISTOGRAM %s %s", j->leg, j->filter_words);
	if (ctl_query_fetch(c, line, &r, e) == -1)
		return -1;
	if (qcol(&r, 0, "lower_h") == NULL && r.nrows > 0) {
		ctl_error_set(e, 1, 0, "HISTOGRAM answered without a lower_h column");
		goto out;
	}
	if (r.nrows > 0 && (b = calloc(r.nrows, sizeof *b)) == NULL) {
		ctl_error_set(e, 70, 0, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < r.nrows; i++) {
		b[i].lower_h = qnum(qcol(&r, i, "lower_h"));
		b[i].upper_h = qnum(qcol(&r, i, "upper_h"));
		b[i].count = (int64_t)qnum(qcol(&r, i, "count"));
		if (isnan(b[i].lower_h) || isnan(b[i].upper_h) || b[i].count < 0) {
			ctl_error_set(e, 1, 0, "HISTOGRAM row %zu is not lower_h upper_h count", i + 1);
			goto out;
		}
	}
	if (hbins_group(b, r.nrows, j->f.bin_h, &v->bins) == -1) {
		ctl_error_set(e, 64, 0, "--bin %g h: more than %d bins (or out of memory)",
		    j->f.bin_h, HBIN_LIMIT);
		goto out;
	}
	v->n = v->bins.total;
	qresult_free(&r);
	snprintf(line, sizeof line, "STATS %s %s", j->leg, j->filter_words);
	if (ctl_query_fetch(c, line, &r, e) == -1)
		goto out;
	v->p50 = qnum(qcol(&r, 0, "p50_h"));
	v->p90 = qnum(qcol(&r, 0, "p90_h"));
	qresult_free(&r);
	if (ctl_query_fetch(c, "LEGS", &r, e) == -1)
		goto out;
	for (size_t i = 0; i < r.nrows; i++)
		if (strcmp(qcol(&r, i, "leg") ? qcol(&r, i, "leg") : "", j->leg) == 0)
			v->typical = qnum(qcol(&r, i, "typical_h"));
	rc = 0;
out:
	if (rc == -1)
		hbins_free(&v->bins);
	qresult_free(&r);
	free(b);
	return rc;
}

/* The marks of bin k: which of p50, p90 and the typical time it holds. */
static void
bin_marks(const struct hist_view *v, size_t k, char *buf, size_t len)
{
	const double at[] = { v->p50, v->p90, v->typical };
	const char *const name[] = { "p50", "p90", "typical" };
	size_t o = 0;

	buf[0] = '\0';
	for (size_t m = 0; m < 3; m++) {
		double x = at[m], lo = v->bins.start_h, hi = lo + v->bins.width_h * (double)v->bins.n;

		/* the typical time may lie beyond the drawn bins: no mark then */
		if (isnan(x) || (m == 2 && (x < lo || x >= hi)) || hbins_index(&v->bins, x) != k)
			continue;
		o += (size_t)snprintf(buf + o, len - o, "%s%s", o ? " " : "", name[m]);
		if (o >= len)
			break;
	}
}

static void
fmt_hours(char *buf, size_t len, double h, int decimals)
{
	if (isnan(h))
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%.*f", decimals, h);
}

/* The window of the question, for the header: "all time", "since T", ... */
static void
window_text(const struct qfilter *f, char *buf, size_t len)
{
	if (f->from && f->to)
		snprintf(buf, len, "%s to %s", f->from, f->to);
	else if (f->from)
		snprintf(buf, len, "since %s", f->from);
	else if (f->to)
		snprintf(buf, len, "before %s", f->to);
	else
		snprintf(buf, len, "all time");
}

static void
hist_draw(const struct hist_job *j, const struct hist_view *v, size_t width, FILE *out)
{
	const struct hbins *h = &v->bins;
	int dec = hbins_decimals(h);
	char line[512], win[128], a[32], b[32], t[32], m[64];
	size_t numw = 1, cntw = 5, markw = 0, barw, fixed;

	window_text(&j->f, win, sizeof win);
	snprintf(line, sizeof line, "%s: %s, %s, left the leg %s", j->leg,
	    j->f.direction ? (strcmp(j->f.direction, "W") == 0 ? "westbound" : "eastbound") :
	    "both directions", j->f.carrier ? j->f.carrier : "all carriers", win);
	fit_wrapped(out, line, width);
	fmt_hours(a, sizeof a, v->p50, 2);
	fmt_hours(b, sizeof b, v->p90, 2);
	fmt_hours(t, sizeof t, v->typical, 2);
	if (h->n == 0) {
		snprintf(line, sizeof line, "n 0: no traversal left the leg in this window "
		    "(typical %s h)", t);
		fit_wrapped(out, line, width);
		return;
	}
	snprintf(line, sizeof line, "n %lld, p50 %s h, p90 %s h, typical %s h, bins of %g h",
	    (long long)v->n, a, b, t, h->width_h);
	fit_wrapped(out, line, width);
	for (size_t k = 0; k < h->n; k++) {
		snprintf(a, sizeof a, "%.*f", dec, h->start_h + h->width_h * (double)(k + 1));
		numw = strlen(a) > numw ? strlen(a) : numw;
		snprintf(a, sizeof a, "%lld", (long long)h->count[k]);
		cntw = strlen(a) > cntw ? strlen(a) : cntw;
		bin_marks(v, k, m, sizeof m);
		if (m[0] != '\0' && strlen(m) + 3 > markw)
			markw = strlen(m) + 3;		/* " < " before the marks */
	}
	/* "lo-hi |" bar " " count marks; too narrow for bars of HIST_MIN_BAR
	 * with the marks: the marks go (the header still gives the figures) */
	fixed = 2 * numw + 1 + 2 + 1 + cntw;
	if (width < fixed + markw + HIST_MIN_BAR)
		markw = 0;
	barw = width > fixed + markw ? width - fixed - markw : 1;
	fprintf(out, "%*s |%*s%*s\n", (int)(2 * numw + 1), "hours", (int)barw, "",
	    (int)cntw + 1, "count");
	for (size_t k = 0; k < h->n; k++) {
		size_t len = h->count[k] == 0 ? 0 :
		    (size_t)llround((double)h->count[k] * (double)barw / (double)h->max);

		if (h->count[k] > 0 && len == 0)
			len = 1;
		fprintf(out, "%*.*f-%-*.*f |", (int)numw, dec, h->start_h + h->width_h * (double)k,
		    (int)numw, dec, h->start_h + h->width_h * (double)(k + 1));
		for (size_t i = 0; i < barw; i++)
			fputc(i < len ? '#' : ' ', out);
		if (markw > 0)
			bin_marks(v, k, m, sizeof m);
		else
			m[0] = '\0';
		fprintf(out, " %*lld%s%s\n", (int)cntw, (long long)h->count[k], m[0] ? " < " : "", m);
	}
}

static json_object *
json_hours(double h, int decimals)
{
	char buf[32];

	if (isnan(h))
		return NULL;
	snprintf(buf, sizeof buf, "%.*f", decimals, h);
	return json_object_new_double_s(h, buf);
}

static void
hist_json(const struct hist_job *j, const struct hist_view *v, FILE *out)
{
	json_object *o = json_object_new_object(), *arr = json_object_new_array();
	int dec = hbins_decimals(&v->bins);
	char m[64];

	json_object_object_add(o, "leg", json_object_new_string(j->leg));
	json_object_object_add(o, "direction",
	    json_object_new_string(j->f.direction ? j->f.direction : "*"));
	json_object_object_add(o, "carrier", j->f.carrier ? json_object_new_string(j->f.carrier) :
	    NULL);
	json_object_object_add(o, "from", j->f.from ? json_object_new_string(j->f.from) : NULL);
	json_object_object_add(o, "to", j->f.to ? json_object_new_string(j->f.to) : NULL);
	json_object_object_add(o, "n", json_object_new_int64(v->n));
	json_object_object_add(o, "p50_h", json_hours(v->p50, 2));
	json_object_object_add(o, "p90_h", json_hours(v->p90, 2));
	json_object_object_add(o, "typical_h", json_hours(v->typical, 2));
	json_object_object_add(o, "bin_h", v->bins.n ? json_hours(v->bins.width_h, 2) : NULL);
	for (size_t k = 0; k < v->bins.n; k++) {
		json_object *row = json_object_new_object(), *marks = json_object_new_array();
		double lo = v->bins.start_h + v->bins.width_h * (double)k;

		json_object_object_add(row, "lower_h", json_hours(lo, dec));
		json_object_object_add(row, "upper_h", json_hours(lo + v->bins.width_h, dec));
		json_object_object_add(row, "count", json_object_new_int64(v->bins.count[k]));
		bin_marks(v, k, m, sizeof m);
		for (char *w = strtok(m, " "); w != NULL; w = strtok(NULL, " "))
			json_object_array_add(marks, json_object_new_string(w));
		json_object_object_add(row, "marks", marks);
		json_object_array_add(arr, row);
	}
	json_object_object_add(o, "bins", arr);
	fprintf(out, "%s\n", json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

static void
hist_csv(const struct hist_view *v, FILE *out)
{
	int dec = hbins_decimals(&v->bins);
	char m[64];

	fputs("lower_h,upper_h,count,marks\r\n", out);
	for (size_t k = 0; k < v->bins.n; k++) {
		double lo = v->bins.start_h + v->bins.width_h * (double)k;

		bin_marks(v, k, m, sizeof m);
		fprintf(out, "%.*f,%.*f,%lld,%s\r\n", dec, lo, dec, lo + v->bins.width_h,
		    (long long)v->bins.count[k], m);
	}
}

static int
hist_show(struct ctl *c, const void *arg, FILE *out, struct ctl_error *e)
{
	const struct hist_job *j = arg;
	struct hist_view v;

	memset(&v, 0, sizeof v);
	if (hist_fetch(c, j, &v, e) == -1)
		return -1;
	if (c->fmt == RENDER_JSON)
		hist_json(j, &v, out);
	else if (c->fmt == RENDER_CSV)
		hist_csv(&v, out);
	else
		hist_draw(j, &v, c->width ? c->width : HIST_DEFAULT_WIDTH, out);
	hbins_free(&v.bins);
	if (ferror(out)) {
		ctl_error_set(e, 1, 0, "cannot write the output");
		return -1;
	}
	return 0;
}

int
cmd_histogram(struct ctl *c, int argc, char **argv)
{
	struct hist_job j;
	int i = qfilter_parse(argc, argv, QF_COMMON | QF_BIN, &j.f);

	if (i == -1)
		return 64;
	if (argc - i != 1 || strcmp(argv[i], "*") == 0) {
		fprintf(stderr, "corridorctl: histogram: give one leg\n");
		return 64;
	}
	j.leg = argv[i];
	if (qfilter_line(j.filter_words, sizeof j.filter_words, "histogram", "%s %s %s %s",
	    qfilter_word(j.f.from), qfilter_word(j.f.to), qfilter_word(j.f.direction),
	    qfilter_word(j.f.carrier)) == -1 || strlen(j.leg) > 128) {
		fprintf(stderr, "corridorctl: histogram: the arguments are too long\n");
		return 64;
	}
	return ctl_show(c, hist_show, &j);
}
