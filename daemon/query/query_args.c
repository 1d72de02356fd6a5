/*
 * The arguments that the query commands share (see query_internal.h): legs,
 * times, the window and the filter, and whether a carrier exists. A word that
 * names nothing is an error (UNKNOWN_LEG, NOT_FOUND), not an empty answer.
 */
#include <stdint.h>
#include <string.h>

#include "carrier.h"
#include "qproto.h"
#include "rollup_batch.h"
#include "timeutil.h"
#include "query_internal.h"

/* Word i as the peer gave it, "-" if left out. */
static const char *
arg_text(const struct qrequest *req, int i)
{
	return qproto_arg_given(req, i) ? req->argv[i] : "-";
}

int
parse_filter(struct qrequest *req, int i, struct store_filter *f, struct answer *a)
{
	memset(f, 0, sizeof *f);
	if (parse_time_arg(req, i, "from", &f->from, INT64_MIN, a) == -1 ||
	    parse_time_arg(req, i + 1, "to", &f->to, INT64_MAX, a) == -1)
		return -1;
	if (f->from >= f->to) {
		/* an empty answer would look like a quiet window */
		answer_err(a, "BAD_ARGUMENT", "the window is empty: from %.40s is not before to %.40s",
		    arg_text(req, i), arg_text(req, i + 1));
		return -1;
	}
	if (qproto_arg_given(req, i + 2)) {
		f->direction = req->argv[i + 2];
		if (strcmp(f->direction, "W") != 0 && strcmp(f->direction, "E") != 0) {
			answer_err(a, "BAD_ARGUMENT", "direction must be W or E");
			return -1;
		}
	}
	if (qproto_arg_given(req, i + 3))
		f->carrier = req->argv[i + 3];
	return 0;
}

int
parse_stats_filter(struct query_ctx *ctx, struct qrequest *req, int i, struct store_filter *f,
    struct answer *a)
{
	if (parse_filter(req, i, f, a) == -1)
		return -1;
	return f->carrier != NULL ? check_carrier(ctx, f->carrier, a) : 0;
}

/* A carrier is known while it is configured, and afterwards from the catalog
 * (every carrier ever configured has a row there), so a carrier a reload
 * dropped still answers for its history. */
int
check_carrier(struct query_ctx *ctx, const char *code, struct answer *a)
{
	struct store_error err;
	bool found;

	if (carrier_list_find(&ctx->cfg->carriers, code) != NULL)
		return 0;
	if (read_ok("catalog", store_reader_carrier_known(ctx->reader, code, &found, &err),
	    &err, a) == -1)
		return -1;
	if (!found) {
		answer_err(a, "NOT_FOUND", "carrier %.32s is not configured (carrier codes are "
		    "case-sensitive)", code);
		return -1;
	}
	return 0;
}

int
window_to_hours(struct store_filter *f, struct answer *a)
{
	if (f->from != INT64_MIN)
		f->from = rollup_hour(f->from);
	if (f->to != INT64_MAX)
		f->to = rollup_hour(f->to);
	if (f->from >= f->to) {
		answer_err(a, "BAD_ARGUMENT", "the window holds no whole hour: from and to round "
		    "down to the same hour");
		return -1;
	}
	return 0;
}

/* "*" (or nothing) selects every leg; otherwise one leg by code. */
int
select_legs(struct query_ctx *ctx, struct qrequest *req, int i, size_t *first, size_t *last,
    struct answer *a)
{
	int idx;

	if (!qproto_arg_given(req, i)) {
		*first = 0;
		*last = ctx->legs->count;
		return 0;
	}
	idx = legs_index(ctx->legs, req->argv[i]);
	if (idx < 0) {
		answer_err(a, "UNKNOWN_LEG", "leg %s is not configured (LEGS lists them)",
		    req->argv[i]);
		return -1;
	}
	*first = (size_t)idx;
	*last = (size_t)idx + 1;
	return 0;
}

int
parse_time_arg(struct qrequest *req, int i, const char *name, int64_t *out, int64_t dflt,
    struct answer *a)
{
	if (!qproto_arg_given(req, i)) {
		*out = dflt;
		return 0;
	}
	switch (time_parse(req->argv[i], out)) {
	case TIME_PARSED:
		return 0;
	case TIME_OUT_OF_RANGE:
		answer_err(a, "BAD_ARGUMENT", "%s %.40s is out of range (Unix ms within 64 bits, "
		    "years up to 9999)", name, req->argv[i]);
		return -1;
	case TIME_MALFORMED:
		break;
	}
	answer_err(a, "BAD_ARGUMENT", "%s \"%.40s\" is not a time (YYYY-MM-DD or "
	    "YYYY-MM-DDTHH:MM:SSZ or Unix ms)", name, req->argv[i]);
	return -1;
}
