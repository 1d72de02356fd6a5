/* The leg table; see legs.h. */
#include "legs.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const char *const default_legs_tsv[];

enum { COL_CODE, COL_FROM, COL_TO, COL_COUNTRY, COL_KIND, COL_MODE, COL_KM,
	COL_MIN, COL_TYPICAL, COL_BAD, COL_MIN_COUNT, COL_BASIS = COL_MIN_COUNT, COL_FROM_NODE,
	COL_TO_NODE };

const char *
leg_kind_name(enum leg_kind k)
{
	switch (k) {
	case LEG_MOVEMENT:
		return "movement";
	case LEG_PORT:
		return "port";
	case LEG_BORDER:
		return "border";
	}
	return "?";
}

int
leg_code_valid(const char *code)
{
	size_t n = strlen(code);

	if (n == 0 || n >= LEG_CODE_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isupper((unsigned char)code[i]) && !isdigit((unsigned char)code[i]) &&
		    code[i] != '-' && code[i] != '_')
			return 0;
	return 1;
}

static int
parse_number(const char *s, double *out)
{
	char *end;

	*out = strtod(s, &end);
	return end != s && *end == '\0' && *out >= 0;
}

static bool
node_code_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= LEG_NODE_MAX)
		return false;
	for (; *s; s++)
		if (!isupper((unsigned char)*s) && !isdigit((unsigned char)*s) && *s != '-')
			return false;
	return true;
}

/* Node columns are optional; without them both ends are the leg code. */
static int
parse_nodes(struct leg *leg, const char *from, const char *to, char *err, size_t errlen,
    int lineno)
{
	if (from[0] == '\0' && to[0] == '\0') {
		snprintf(leg->from_node, sizeof leg->from_node, "%.16s", leg->code);
		snprintf(leg->to_node, sizeof leg->to_node, "%.16s", leg->code);
		return 0;
	}
	if (!node_code_valid(from) || !node_code_valid(to)) {
		snprintf(err, errlen, "line %d: node codes are 1-16 of A-Z, 0-9 and '-'", lineno);
		return -1;
	}
	snprintf(leg->from_node, sizeof leg->from_node, "%s", from);
	snprintf(leg->to_node, sizeof leg->to_node, "%s", to);
	return 0;
}

static int
parse_line(char *line, struct leg *leg, char *err, size_t errlen, int lineno)
{
	char *cols[COL_MIN_COUNT + 4];
	int n = 0;
	char *tok;

	/* strsep keeps empty columns in their place */
	while ((tok = strsep(&line, "\t")) != NULL && n < COL_MIN_COUNT + 4)
		cols[n++] = tok;
	if (n < COL_MIN_COUNT) {
		snprintf(err, errlen, "line %d: %d columns, need at least %d", lineno, n,
		    COL_MIN_COUNT);
		return -1;
	}
	memset(leg, 0, sizeof *leg);
	if (!leg_code_valid(cols[COL_CODE])) {
		snprintf(err, errlen, "line %d: bad leg code \"%.40s\"", lineno, cols[COL_CODE]);
		return -1;
	}
	if (cols[COL_FROM][0] == '\0' || cols[COL_TO][0] == '\0') {
		snprintf(err, errlen, "line %d: from and to must not be empty", lineno);
		return -1;
	}
	snprintf(leg->code, sizeof leg->code, "%s", cols[COL_CODE]);
	snprintf(leg->from, sizeof leg->from, "%s", cols[COL_FROM]);
	snprintf(leg->to, sizeof leg->to, "%s", cols[COL_TO]);
	snprintf(leg->country, sizeof leg->country, "%s", cols[COL_COUNTRY]);
	snprintf(leg->mode, sizeof leg->mode, "%s", cols[COL_MODE]);
	if (strcmp(cols[COL_KIND], "movement") == 0)
		leg->kind = LEG_MOVEMENT;
	else if (strcmp(cols[COL_KIND], "port") == 0)
		leg->kind = LEG_PORT;
	else if (strcmp(cols[COL_KIND], "border") == 0)
		leg->kind = LEG_BORDER;
	else {
		snprintf(err, errlen, "line %d: kind must be movement, port or border", lineno);
		return -1;
	}
	if (!parse_number(cols[COL_KM], &leg->distance_km) ||
	    !parse_number(cols[COL_MIN], &leg->min_h) ||
	    !parse_number(cols[COL_TYPICAL], &leg->typical_h) ||
	    !parse_number(cols[COL_BAD], &leg->bad_h)) {
		snprintf(err, errlen, "line %d: distance and hours must be numbers >= 0", lineno);
		return -1;
	}
	if (leg->min_h > leg->typical_h || leg->typical_h > leg->bad_h) {
		snprintf(err, errlen, "line %d: need min_h <= typical_h <= bad_h", lineno);
		return -1;
	}
	return parse_nodes(leg, n > COL_FROM_NODE ? cols[COL_FROM_NODE] : "",
	    n > COL_TO_NODE ? cols[COL_TO_NODE] : "", err, errlen, lineno);
}

const char *
leg_origin(const struct leg *l, char dir)
{
	return dir == 'E' ? l->to_node : l->from_node;
}

const char *
leg_destination(const struct leg *l, char dir)
{
	return dir == 'E' ? l->from_node : l->to_node;
}

int
legs_parse_tsv(struct leg_table *t, const char *text, char *err, size_t errlen)
{
	char *copy = strdup(text);
	char *rest = copy, *line;
	int lineno = 0, rc = 0;

	if (copy == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	while ((line = strsep(&rest, "\n")) != NULL) {
		struct leg leg;
		int idx;

		lineno++;
		line[strcspn(line, "\r")] = '\0';
		if (lineno == 1 && strncmp(line, "code\t", 5) == 0)
			continue;
		if (line[0] == '#' || line[0] == '\0')
			continue;
		if (parse_line(line, &leg, err, errlen, lineno) == -1) {
			rc = -1;
			break;
		}
		idx = legs_index(t, leg.code);
		if (idx >= 0) {
			t->legs[idx] = leg;
			continue;
		}
		if (t->count == LEGS_MAX) {
			snprintf(err, errlen, "line %d: more than %d legs", lineno, LEGS_MAX);
			rc = -1;
			break;
		}
		t->legs[t->count++] = leg;
	}
	free(copy);
	return rc;
}

int
legs_load_default(struct leg_table *t, char *err, size_t errlen)
{
	return legs_parse_tsv(t, default_legs_tsv[0], err, errlen);
}

int
legs_index(const struct leg_table *t, const char *code)
{
	for (size_t i = 0; i < t->count; i++)
		if (strcmp(t->legs[i].code, code) == 0)
			return (int)i;
	return -1;
}

const struct leg *
legs_find(const struct leg_table *t, const char *code)
{
	int i = legs_index(t, code);

	return i < 0 ? NULL : &t->legs[i];
}
