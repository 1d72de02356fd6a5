/*
 * An aligned table (numeric columns right-aligned) that fits a width: first
 * the command's least useful columns are dropped (and named in a footnote),
 * then the widest text columns are abbreviated with '~', and when even that
 * does not fit, each row is shown as a block of "column  value" lines.
 * Rows are never broken by the terminal wrapping them.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "table_fit.h"

int
qfield_number(const char *s, int *is_int)
{
	char *end;

	if (s[0] == '\0' || s[0] == ' ')
		return 0;
	errno = 0;
	(void)strtoll(s, &end, 10);
	if (*end == '\0' && errno == 0) {
		*is_int = 1;
		return 1;
	}
	*is_int = 0;
	errno = 0;
	(void)strtod(s, &end);
	return *end == '\0' && errno == 0 && strpbrk(s, "xXnN") == NULL;
}

size_t
term_width(int fd)
{
	const char *env = getenv("COLUMNS");
	struct winsize ws;
	char *end;

	if (env != NULL && env[0] != '\0') {
		long v = strtol(env, &end, 10);

		if (*end == '\0' && v > 0)
			return v > FIT_MAX_WIDTH ? FIT_MAX_WIDTH : (size_t)v;
	}
	if (isatty(fd) && ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	return 0;
}

size_t
text_width(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

/* The byte length of the first n code points of s. */
static size_t
text_prefix(const char *s, size_t n)
{
	size_t i = 0;

	for (; s[i] != '\0'; i++)
		if (((unsigned char)s[i] & 0xC0) != 0x80 && n-- == 0)
			break;
	return i;
}

/*
 * Drop orders: the first name goes first. Names a command does not answer
 * with are skipped (INTRANSIT has two shapes, one list). Keep in step with
 * man/corridorctl.1 and client/README-corridorctl.md.
 */
static const char *const drop_stats[] = { "containers", "tonnes", "p95_h", "mean_h", "min_h",
    "teu", "on_time_pct", "max_h", "direction", NULL };
static const char *const drop_ontime[] = { "on_time", "on_plan", "eta_n", "planned",
    "typical_h", "direction", "eta_mae_h", NULL };
static const char *const drop_volumes[] = { "units", "vessel_calls", "trains", "tonnes",
    "containers", "direction", NULL };
static const char *const drop_journeys[] = { "min_h", "mean_h", "p95_h", "max_h",
    "target_days", "direction", NULL };
static const char *const drop_holds[] = { "min_h", "mean_h", "max_h", "released", "p90_h",
    NULL };
static const char *const drop_delays[] = { "units", NULL };
static const char *const drop_quality[] = { "pln_est", "rejected_by_reason", "lag_max_h", "retractions",
    "out_of_order", "duplicates", "lag_p90_h", NULL };
static const char *const drop_intransit[] = { "containers", "kind", "teu", "carrier",
    "direction", "over_typical", NULL };
static const char *const drop_legs[] = { "distance_km", "min_h", "bad_h", "country", "mode",
    "from", "to", "from_node", "to_node", "kind", NULL };
static const char *const drop_shipment[] = { "kind", "direction", "exited", NULL };
static const char *const drop_backup[] = { "ms", "bytes", NULL };

static const struct {
	const char *command;
	const char *const *drop;
} drop_orders[] = {
	{ "STATS", drop_stats }, { "ONTIME", drop_ontime }, { "VOLUMES", drop_volumes },
	{ "JOURNEYS", drop_journeys }, { "HOLDS", drop_holds }, { "DELAYS", drop_delays },
	{ "QUALITY", drop_quality }, { "INTRANSIT", drop_intransit }, { "LEGS", drop_legs },
	{ "SHIPMENT", drop_shipment }, { "BACKUP", drop_backup },
};

const char *const *
fit_drop_order(const char *command)
{
	for (size_t i = 0; i < sizeof drop_orders / sizeof drop_orders[0]; i++)
		if (strcasecmp(drop_orders[i].command, command) == 0)
			return drop_orders[i].drop;
	return NULL;
}

struct layout {
	size_t *w;	/* display width of each column, after abbreviation */
	int *num;	/* right-aligned */
	int *shown;
};

static size_t
layout_total(const struct qresult *r, const struct layout *l)
{
	size_t total = 0, n = 0;

	for (size_t c = 0; c < r->ncols; c++)
		if (l->shown[c]) {
			total += l->w[c];
			n++;
		}
	return n ? total + 2 * (n - 1) : 0;
}

static size_t
layout_nshown(const struct qresult *r, const struct layout *l)
{
	size_t n = 0;

	for (size_t c = 0; c < r->ncols; c++)
		n += l->shown[c] != 0;
	return n;
}

/* Hides one more column; 0, or -1 when only one is left. */
static int
layout_drop_one(const struct qresult *r, struct layout *l, const char *const *drop)
{
	if (layout_nshown(r, l) <= 1)
		return -1;
	for (; drop != NULL && *drop != NULL; drop++)
		for (size_t c = 0; c < r->ncols; c++)
			if (l->shown[c] && strcmp(r->cols[c], *drop) == 0) {
				l->shown[c] = 0;
				return 0;
			}
	if (drop != NULL)
		return -1;	/* the command's list is used up: abbreviate instead */
	for (size_t c = r->ncols; c-- > 1;)
		if (l->shown[c]) {
			l->shown[c] = 0;
			return 0;
		}
	return -1;
}

/* Narrows the widest shown text column, the first (it names the row) only
 * when no other can shrink; 0, or -1 when none can. */
static int
layout_abbreviate(const struct qresult *r, struct layout *l, size_t excess)
{
	size_t best = r->ncols;

	for (size_t c = 1; c < r->ncols; c++)
		if (l->shown[c] && !l->num[c] && l->w[c] > FIT_ABBREV_MIN &&
		    (best == r->ncols || l->w[c] > l->w[best]))
			best = c;
	if (best == r->ncols && r->ncols > 0 && l->shown[0] && !l->num[0] &&
	    l->w[0] > FIT_ABBREV_MIN)
		best = 0;
	if (best == r->ncols)
		return -1;
	l->w[best] = l->w[best] <= excess || l->w[best] - excess < FIT_ABBREV_MIN ?
	    FIT_ABBREV_MIN : l->w[best] - excess;
	return 0;
}

static void
put_spaces(FILE *out, size_t n)
{
	while (n-- > 0)
		fputc(' ', out);
}

/* s in w characters: cut with '~' when longer, padded unless it ends the line. */
static void
put_cell(FILE *out, const char *s, size_t w, int right, int last)
{
	size_t tw = text_width(s);

	if (tw > w) {
		fwrite(s, 1, text_prefix(s, w - 1), out);
		fputc('~', out);
		return;
	}
	if (right)
		put_spaces(out, w - tw);
	fputs(s, out);
	if (!right && !last)
		put_spaces(out, w - tw);
}

void
fit_wrapped(FILE *out, const char *text, size_t width)
{
	size_t col = 0;

	if (width == 0)
		width = SIZE_MAX;
	while (*text != '\0') {
		size_t len = strcspn(text, " "), tw = 0;

		for (size_t i = 0; i < len; i++)
			tw += ((unsigned char)text[i] & 0xC0) != 0x80;
		if (col > 0 && col + 1 + tw > width) {
			fputc('\n', out);
			col = 0;
		} else if (col > 0) {
			fputc(' ', out);
			col++;
		}
		if (tw > width) {	/* a word longer than a line: cut */
			fwrite(text, 1, text_prefix(text, width - 1), out);
			fputc('~', out);
			tw = width;
		} else
			fwrite(text, 1, len, out);
		col += tw;
		text += len;
		text += strspn(text, " ");
	}
	if (col > 0)
		fputc('\n', out);
}

static void
put_rows(const struct qresult *r, const struct layout *l, FILE *out)
{
	size_t lastc = 0;

	for (size_t c = 0; c < r->ncols; c++)
		if (l->shown[c])
			lastc = c;
	for (size_t i = 0; i <= r->nrows; i++) {
		char **f = i == 0 ? r->cols : r->rows[i - 1];
		int first = 1;

		for (size_t c = 0; c < r->ncols; c++) {
			if (!l->shown[c])
				continue;
			if (!first)
				fputs("  ", out);
			put_cell(out, f[c], l->w[c], l->num[c], c == lastc);
			first = 0;
		}
		fputc('\n', out);
	}
}

static void
put_footnote(const struct qresult *r, const struct layout *l, size_t width, FILE *out)
{
	char note[1024];
	size_t o;

	o = (size_t)snprintf(note, sizeof note, "(hidden to fit %zu columns:", width);
	for (size_t c = 0; c < r->ncols && o < sizeof note; c++)
		if (!l->shown[c])
			o += (size_t)snprintf(note + o, sizeof note - o, " %s", r->cols[c]);
	if (o < sizeof note)
		snprintf(note + o, sizeof note - o, ")");
	fit_wrapped(out, note, width);
}

/* Too narrow for any table: one block of "column  value" lines per row, a
 * long value going on over the next lines under itself. */
static void
put_records(const struct qresult *r, size_t width, FILE *out)
{
	size_t namew = 0, room;

	for (size_t c = 0; c < r->ncols; c++)
		if (text_width(r->cols[c]) > namew)
			namew = text_width(r->cols[c]);
	if (namew > width / 2)
		namew = width / 2;
	room = width - namew - 2;
	for (size_t i = 0; i < r->nrows; i++) {
		char head[64];

		snprintf(head, sizeof head, "-- %zu of %zu --", i + 1, r->nrows);
		put_cell(out, head, text_width(head) > width ? width : text_width(head), 0, 1);
		fputc('\n', out);
		for (size_t c = 0; c < r->ncols; c++) {
			const char *v = r->rows[i][c];

			put_cell(out, r->cols[c], namew, 0, 0);
			do {
				size_t len = text_prefix(v, room);

				fputs("  ", out);
				fwrite(v, 1, len, out);
				fputc('\n', out);
				v += len;
				if (*v != '\0')
					put_spaces(out, namew);
			} while (*v != '\0');
		}
	}
}

int
render_table_fit(const struct qresult *r, size_t width, const char *const *drop, FILE *out)
{
	size_t n = r->ncols ? r->ncols : 1, full;
	struct layout l;
	int is_int, dropped = 0, rc = 0;

	l.w = calloc(n, sizeof *l.w);
	l.num = calloc(n, sizeof *l.num);
	l.shown = calloc(n, sizeof *l.shown);
	if (l.w == NULL || l.num == NULL || l.shown == NULL) {
		rc = -1;
		goto done;
	}
	for (size_t c = 0; c < r->ncols; c++) {
		l.shown[c] = 1;
		l.w[c] = text_width(r->cols[c]);
		l.num[c] = 0;
		for (size_t i = 0; i < r->nrows; i++) {
			const char *v = r->rows[i][c];

			if (text_width(v) > l.w[c])
				l.w[c] = text_width(v);
			if (v[0] != '\0' && !qfield_number(v, &is_int))
				l.num[c] = -1;
			else if (v[0] != '\0' && l.num[c] == 0)
				l.num[c] = 1;
		}
		l.num[c] = l.num[c] == 1;
	}
	if (width != 0 && width < FIT_MIN_WIDTH)
		width = FIT_MIN_WIDTH;
	full = layout_total(r, &l);
	while (width != 0 && layout_total(r, &l) > width && layout_drop_one(r, &l, drop) == 0)
		dropped = 1;
	while (width != 0 && layout_total(r, &l) > width &&
	    layout_abbreviate(r, &l, layout_total(r, &l) - width) == 0)
		;
	if (width != 0 && layout_total(r, &l) > width && r->nrows == 0)
		fputs("(no rows)\n", out);
	else if (width != 0 && layout_total(r, &l) > width)
		put_records(r, width, out);
	else {
		put_rows(r, &l, out);
		if (dropped && full > width)
			put_footnote(r, &l, width, out);
	}
	rc = ferror(out) ? -1 : 0;
done:
	free(l.w);
	free(l.num);
	free(l.shown);
	return rc;
}
