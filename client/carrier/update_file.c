/*
 * Reading a file of shipment updates for `push`: JSON lines (one object per
 * line) or CSV with a header row naming the fields (RFC 4180 quoting). Field
 * names and values are those of update_fields.c; an empty CSV cell is absent.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "update_io.h"

static int
updvec_push(struct updvec *vec, Corridor__ShipmentUpdate *u)
{
	if (ctl_grow(&vec->v, &vec->cap, vec->n, sizeof *vec->v) == -1)
		return -1;
	vec->v[vec->n++] = u;
	return 0;
}

void
updvec_free(struct updvec *vec)
{
	for (size_t i = 0; i < vec->n; i++)
		update_free(vec->v[i]);
	free(vec->v);
	memset(vec, 0, sizeof *vec);
}

static int
jsonl_line(const char *line, struct updvec *out, char *err, size_t errlen)
{
	enum json_tokener_error jerr;
	json_object *o = json_tokener_parse_verbose(line, &jerr);
	Corridor__ShipmentUpdate *u;
	int rc = 0;

	if (o == NULL || !json_object_is_type(o, json_type_object)) {
		snprintf(err, errlen, "not a JSON object (%s)",
		    o == NULL ? json_tokener_error_desc(jerr) : "another JSON value");
		json_object_put(o);
		return -1;
	}
	if ((u = update_new()) == NULL) {
		json_object_put(o);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	json_object_object_foreach(o, key, val) {
		if ((rc = update_set_json(u, key, val, err, errlen)) == -1)
			break;
	}
	json_object_put(o);
	if (rc == 0 && updvec_push(out, u) == -1) {
		snprintf(err, errlen, "out of memory");
		rc = -1;
	}
	if (rc == -1)
		update_free(u);
	return rc;
}

/* One CSV record from *p: fields are unquoted in place; returns the count,
 * 0 at the end of the text, -1 for a broken quote. *p moves past the record. */
static int
csv_record(char **p, char **fields, int max, int *lines)
{
	char *s = *p, *w;
	int n = 0;

	if (*s == '\0')
		return 0;
	for (;;) {
		int quoted = *s == '"';

		w = s;
		if (n < max)
			fields[n] = w;
		n++;
		if (quoted) {
			for (s++;; s++) {
				if (*s == '\0')
					return -1;
				if (*s == '"' && s[1] == '"')
					s++;
				else if (*s == '"') {
					s++;
					break;
				} else if (*s == '\n')
					(*lines)++;
				*w++ = *s;
			}
		} else
			while (*s != ',' && *s != '\n' && *s != '\r' && *s != '\0')
				*w++ = *s++;
		if (*s == ',') {
			*w = '\0';
			s++;
			continue;
		}
		if (*s == '\r')
			s++;
		if (*s == '\n')
			s++;
		else if (*s != '\0')
			return -1;
		*w = '\0';
		(*lines)++;
		*p = s;
		return n;
	}
}

#define CSV_MAX_COLUMNS 64

static int
csv_read(char *text, struct updvec *out, char *err, size_t errlen)
{
	char *head[CSV_MAX_COLUMNS], *f[CSV_MAX_COLUMNS], *p = text, msg[256];
	int ncol, n, line = 0, at;
	Corridor__ShipmentUpdate *u;

	if ((ncol = csv_record(&p, head, CSV_MAX_COLUMNS, &line)) <= 0 ||
	    ncol > CSV_MAX_COLUMNS) {
		snprintf(err, errlen, "line 1: a header row of at most %d field names is needed",
		    CSV_MAX_COLUMNS);
		return -1;
	}
	for (;;) {
		at = line + 1;
		if ((n = csv_record(&p, f, CSV_MAX_COLUMNS, &line)) == 0)
			return 0;
		if (n == 1 && f[0][0] == '\0')
			continue;	/* an empty line */
		if (n != ncol) {
			snprintf(err, errlen, "line %d: %d fields, the header has %d", at,
			    n, ncol);
			return -1;
		}
		if ((u = update_new()) == NULL || updvec_push(out, u) == -1) {
			update_free(u);
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		for (int i = 0; i < n; i++)
			if (f[i][0] != '\0' && update_set_text(u, head[i], f[i], msg,
			    sizeof msg) == -1) {
				snprintf(err, errlen, "line %d: %s", at, msg);
				return -1;
			}
	}
}

static char *
slurp(const char *path, char *err, size_t errlen)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	size_t len = 0, cap = 1 << 16, got;
	char *buf = malloc(cap + 1), *nb;

	if (f == NULL || buf == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		free(buf);
		return NULL;
	}
	while ((got = fread(buf + len, 1, cap - len, f)) > 0) {
		len += got;
		if (len == cap) {
			if ((nb = realloc(buf, cap * 2 + 1)) == NULL)
				break;
			buf = nb;
			cap *= 2;
		}
	}
	buf[len] = '\0';
	if (ferror(f) || len == cap) {
		snprintf(err, errlen, "%s: cannot read it all", path);
		free(buf);
		buf = NULL;
	}
	if (f != stdin)
		fclose(f);
	return buf;
}

int
updfile_read(const char *path, enum upd_format fmt, struct updvec *out,
    char *err, size_t errlen)
{
	char *text = slurp(path, err, errlen), *line, *next, msg[256];
	int rc = 0, n = 0;

	if (text == NULL)
		return -1;
	if (fmt == UPD_CSV)
		rc = csv_read(text, out, err, errlen);
	else
		for (line = text; rc == 0 && line != NULL && *line; line = next) {
			n++;
			if ((next = strchr(line, '\n')) != NULL)
				*next++ = '\0';
			if (line[strspn(line, " \t\r")] == '\0')
				continue;
			if ((rc = jsonl_line(line, out, msg, sizeof msg)) == -1)
				snprintf(err, errlen, "line %d: %s", n, msg);
		}
	free(text);
	return rc;
}
